namespace NvmeTcp.Client;

/// <summary>An active namespace of a controller: its identity and geometry, read at bring-up.</summary>
public sealed class NvmeNamespace
{
    internal NvmeNamespace(uint id, NvmeIdentifyNamespace identify, IReadOnlyList<NvmeNamespaceDescriptor> descriptors)
    {
        Id = id;
        Identify = identify;
        Descriptors = descriptors;
        BlockSize = checked((int)identify.BlockSize);
    }

    /// <summary>NSID.</summary>
    public uint Id { get; }

    /// <summary>Identify Namespace (CNS 00h).</summary>
    public NvmeIdentifyNamespace Identify { get; }

    /// <summary>Namespace identification descriptors (CNS 03h): EUI64, NGUID, UUID, CSI; empty if the controller has none.</summary>
    public IReadOnlyList<NvmeNamespaceDescriptor> Descriptors { get; }

    /// <summary>Bytes per logical block of the current LBA format.</summary>
    public int BlockSize { get; }

    /// <summary>NSZE: size in logical blocks.</summary>
    public ulong BlockCount => Identify.Nsze;

    /// <summary>Size in bytes.</summary>
    public ulong SizeInBytes => Identify.Nsze * (ulong)BlockSize;

    /// <inheritdoc/>
    public override string ToString() => $"namespace {Id}: {BlockCount} blocks of {BlockSize} bytes";
}
