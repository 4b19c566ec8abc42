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

    /// <summary>
    /// A file or a block device (<see cref="NvmeNamespaceOptions.FilePath"/>), read and written with
    /// <see cref="System.IO.RandomAccess"/> through the operating system's page cache and no buffer of the target's
    /// own. Identify reports a volatile write cache: a write completes once it is in the file (its cache), Flush (and a
    /// write with FUA, or any write while the host has turned the cache off with Set Features 06h) is an fsync. Data
    /// survives a restart of the target. Deallocation is accepted and changes nothing (DLFEAT 0).
    /// </summary>
    File = 2,
}

/// <summary>One namespace of an <see cref="NvmeSubsystemOptions"/>.</summary>
public sealed class NvmeNamespaceOptions
{
    /// <summary>Creates a namespace of <paramref name="sizeBytes"/> bytes.</summary>
    /// <param name="nsid">The namespace ID, 1 to 0xFFFFFFFE.</param>
    /// <param name="sizeBytes">Capacity in bytes; rounded down to whole blocks.</param>
    /// <param name="blockSize">LBA data size: 512 or 4096.</param>
    /// <param name="backing">Where the data lives.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, or <paramref name="backing"/> is
    /// <see cref="NvmeNamespaceBacking.File"/> (which takes a path).</exception>
    public NvmeNamespaceOptions(uint nsid, long sizeBytes, int blockSize = 512, NvmeNamespaceBacking backing = NvmeNamespaceBacking.Memory)
        : this(nsid, sizeBytes, blockSize, backing == NvmeNamespaceBacking.File ? throw new ArgumentOutOfRangeException(nameof(backing), backing, "A file namespace takes a path.") : backing, null)
    {
    }

    private NvmeNamespaceOptions(uint nsid, long sizeBytes, int blockSize, NvmeNamespaceBacking backing, string? path)
    {
        ArgumentOutOfRangeException.ThrowIfZero(nsid);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nsid, 0xFFFFFFFEu);
        if (blockSize is not (512 or 4096))
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "The block size must be 512 or 4096.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(sizeBytes, blockSize);
        if (!Enum.IsDefined(backing))
        {
            throw new ArgumentOutOfRangeException(nameof(backing), backing, "Unknown backing.");
        }

        Nsid = nsid;
        FilePath = path;
        SizeBytes = sizeBytes;
        BlockSize = blockSize;
        Backing = backing;
    }

    /// <summary>
    /// A namespace that exports the file or block device at <paramref name="path"/>: its size is the file's (or
    /// device's) length, rounded down to whole blocks, read now. The target opens it exclusively when it starts.
    /// </summary>
    /// <param name="nsid">The namespace ID, 1 to 0xFFFFFFFE.</param>
    /// <param name="path">An existing regular file or block device, readable and writable.</param>
    /// <param name="blockSize">LBA data size: 512 or 4096.</param>
    /// <returns>The namespace's options.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, or the file is smaller than a block.</exception>
    /// <exception cref="IOException">The file cannot be opened or measured.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be opened for reading and writing.</exception>
    public static NvmeNamespaceOptions ForFile(uint nsid, string path, int blockSize = 512)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new NvmeNamespaceOptions(nsid, Internal.FileStore.MeasureLength(path), blockSize, NvmeNamespaceBacking.File, Path.GetFullPath(path));
    }

    /// <summary>The file or block device of a <see cref="NvmeNamespaceBacking.File"/> namespace; null for the others.</summary>
    public string? FilePath { get; }

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

    /// <summary>
    /// ANAGRPID: the ANA group of the namespace, whose state per port (<see cref="NvmeTcpTarget.SetAnaState"/>) decides
    /// whether I/O to it is served there. 1 to <see cref="NvmeTargetOptions.AnaGroupMax"/>; default 1, nvmet's default
    /// group. Fixed while the namespace is served.
    /// </summary>
    public uint AnaGroupId { get; set; } = 1;
}
