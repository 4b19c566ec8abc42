namespace NvmeTcp.Target;

/// <summary>Where a namespace keeps its data.</summary>
public enum NvmeNamespaceBacking
{
    /// <summary>
    /// Sparse memory: 4 KiB pages are allocated on first write and freed by deallocation, so a 1 TiB namespace costs
    /// only what is written. Unwritten blocks read as zeros. Thread-safe.
    /// </summary>
    Memory = 0,

    /// <summary>Reads return zeros and writes are dropped; costs nothing, for benchmarks.</summary>
    Null = 1,
}

/// <summary>One namespace of an <see cref="NvmeSubsystemOptions"/>.</summary>
public sealed class NvmeNamespaceOptions
{
    /// <summary>Creates a namespace of <paramref name="sizeBytes"/> bytes.</summary>
    /// <param name="nsid">The namespace ID, 1 to 0xFFFFFFFE.</param>
    /// <param name="sizeBytes">Capacity in bytes; rounded down to whole blocks.</param>
    /// <param name="blockSize">LBA data size: 512 or 4096.</param>
    /// <param name="backing">Where the data lives.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public NvmeNamespaceOptions(uint nsid, long sizeBytes, int blockSize = 512, NvmeNamespaceBacking backing = NvmeNamespaceBacking.Memory)
    {
        ArgumentOutOfRangeException.ThrowIfZero(nsid);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nsid, 0xFFFFFFFEu);
        if (blockSize is not (512 or 4096))
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "The block size must be 512 or 4096.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(sizeBytes, blockSize);
        Nsid = nsid;
        SizeBytes = sizeBytes;
        BlockSize = blockSize;
        Backing = backing;
    }

    /// <summary>The namespace ID.</summary>
    public uint Nsid { get; }

    /// <summary>Capacity in bytes (NSZE is this divided by <see cref="BlockSize"/>).</summary>
    public long SizeBytes { get; }

    /// <summary>LBA data size in bytes: 512 or 4096.</summary>
    public int BlockSize { get; }

    /// <summary>Where the data lives.</summary>
    public NvmeNamespaceBacking Backing { get; }

    /// <summary>NGUID (16 bytes); by default derived from the subsystem NQN and NSID, so it is stable across runs.</summary>
    public ReadOnlyMemory<byte>? Nguid { get; set; }

    /// <summary>UUID; by default derived from the subsystem NQN and NSID.</summary>
    public Guid? Uuid { get; set; }

    /// <summary>EUI-64 (8 bytes); by default derived from the subsystem NQN and NSID.</summary>
    public ReadOnlyMemory<byte>? Eui64 { get; set; }
}
