using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>
/// A namespace of a <see cref="NvmeSubsystem"/>: the same namespace (same NSID and identifiers) seen through each
/// path. I/O to it goes through <see cref="NvmeSubsystem"/>'s methods, which pick the path.
/// </summary>
public sealed class NvmeSubsystemNamespace
{
    private Route[] _routes = [];
    private int _next;

    internal NvmeSubsystemNamespace(NvmeNamespace first, NamespaceIdentity identity)
    {
        Id = first.Id;
        BlockSize = first.BlockSize;
        BlockCount = first.BlockCount;
        Identity = identity;
    }

    /// <summary>NSID.</summary>
    public uint Id { get; }

    /// <summary>Logical block size in bytes.</summary>
    public int BlockSize { get; }

    /// <summary>Size in logical blocks, as the first path reported it.</summary>
    public ulong BlockCount { get; }

    /// <summary>Size in bytes.</summary>
    public ulong SizeInBytes => BlockCount * (ulong)BlockSize;

    /// <summary>NGUID (16 bytes), or empty when no path reported one.</summary>
    public ReadOnlyMemory<byte> Nguid => Identity.Nguid;

    /// <summary>EUI-64 (8 bytes), or empty when no path reported one.</summary>
    public ReadOnlyMemory<byte> Eui64 => Identity.Eui64;

    /// <summary>The namespace UUID, or null when no path reported one.</summary>
    public Guid? Uuid => Identity.Uuid;

    /// <summary>The paths that reach this namespace now, each with its ANA state.</summary>
    public IReadOnlyList<(NvmePath Path, AnaState State)> Paths => [.. Routes.Select(r => (r.Path, r.State))];

    /// <inheritdoc/>
    public override string ToString() => $"namespace {Id}: {BlockCount} blocks of {BlockSize} bytes, {Routes.Length} paths";

    internal NamespaceIdentity Identity { get; }

    internal Route[] Routes
    {
        get => Volatile.Read(ref _routes);
        set => Volatile.Write(ref _routes, value);
    }

    internal int NextTurn() => Interlocked.Increment(ref _next) & int.MaxValue;
}

/// <summary>One namespace through one path: the path, that controller's namespace object and its ANA state.</summary>
internal sealed class Route
{
    private int _state;

    public Route(NvmePath path, NvmeNamespace ns, uint groupId, AnaState state)
    {
        Path = path;
        Namespace = ns;
        GroupId = groupId;
        _state = (int)state;
    }

    public NvmePath Path { get; }

    public NvmeNamespace Namespace { get; }

    public uint GroupId { get; }

    public AnaState State
    {
        get => (AnaState)Volatile.Read(ref _state);
        set => Volatile.Write(ref _state, (int)value);
    }

    public bool IsOptimized => State == AnaState.Optimized;

    // I/O may go this way: the controller is live and the ANA state is Optimized or Non-Optimized.
    public bool IsUsable => State is AnaState.Optimized or AnaState.NonOptimized && Path.IsLive;
}

/// <summary>
/// What makes two paths' namespaces the same namespace (NVMe Base 2.0, 4.7.1 namespace identifiers): NGUID, EUI-64
/// and UUID, each all-zero or absent when not reported.
/// </summary>
internal sealed record NamespaceIdentity(ReadOnlyMemory<byte> Nguid, ReadOnlyMemory<byte> Eui64, Guid? Uuid)
{
    public static NamespaceIdentity Of(NvmeNamespace ns)
    {
        ReadOnlyMemory<byte> nguid = NonZero(ns.Identify.Nguid);
        ReadOnlyMemory<byte> eui64 = NonZero(ns.Identify.Eui64);
        Guid? uuid = null;
        foreach (var d in ns.Descriptors)
        {
            switch (d.Type)
            {
                case NvmeNamespaceIdentifierType.Nguid when nguid.IsEmpty:
                    nguid = NonZero(d.Value);
                    break;
                case NvmeNamespaceIdentifierType.Eui64 when eui64.IsEmpty:
                    eui64 = NonZero(d.Value);
                    break;
                case NvmeNamespaceIdentifierType.Uuid when d.Uuid != Guid.Empty:
                    uuid = d.Uuid;
                    break;
            }
        }

        return new NamespaceIdentity(nguid, eui64, uuid);
    }

    public bool IsEmpty => Nguid.IsEmpty && Eui64.IsEmpty && Uuid is null;

    // The same namespace: at least one identifier reported by both, and every identifier reported by both equal.
    public bool SameAs(NamespaceIdentity other, out string why)
    {
        var common = 0;
        why = string.Empty;
        if (!Nguid.IsEmpty && !other.Nguid.IsEmpty)
        {
            common++;
            if (!Nguid.Span.SequenceEqual(other.Nguid.Span))
            {
                why = $"NGUID {Convert.ToHexString(other.Nguid.Span)} differs from {Convert.ToHexString(Nguid.Span)}";
                return false;
            }
        }

        if (!Eui64.IsEmpty && !other.Eui64.IsEmpty)
        {
            common++;
            if (!Eui64.Span.SequenceEqual(other.Eui64.Span))
            {
                why = $"EUI-64 {Convert.ToHexString(other.Eui64.Span)} differs from {Convert.ToHexString(Eui64.Span)}";
                return false;
            }
        }

        if (Uuid is { } uuid && other.Uuid is { } otherUuid)
        {
            common++;
            if (uuid != otherUuid)
            {
                why = $"UUID {otherUuid} differs from {uuid}";
                return false;
            }
        }

        if (common == 0)
        {
            why = "the paths report no identifier in common (NGUID, EUI-64 or UUID), so they cannot be shown to be the same namespace";
            return false;
        }

        return true;
    }

    public bool Equals(NamespaceIdentity? other) =>
        other is not null && Nguid.Span.SequenceEqual(other.Nguid.Span) && Eui64.Span.SequenceEqual(other.Eui64.Span) && Uuid == other.Uuid;

    public override int GetHashCode() => HashCode.Combine(Nguid.Length, Eui64.Length, Uuid);

    private static ReadOnlyMemory<byte> NonZero(ReadOnlyMemory<byte> value) => value.Span.ContainsAnyExcept((byte)0) ? value : ReadOnlyMemory<byte>.Empty;
}
