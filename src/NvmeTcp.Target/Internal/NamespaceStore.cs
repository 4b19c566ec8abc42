using System.Collections.Concurrent;

namespace NvmeTcp.Target.Internal;

/// <summary>The bytes behind a namespace, addressed in bytes. Implementations are thread-safe.</summary>
internal abstract class NamespaceStore
{
    /// <summary>Copies <paramref name="destination"/>.Length bytes from <paramref name="offset"/>.</summary>
    public abstract void Read(long offset, Span<byte> destination);

    /// <summary>Stores <paramref name="source"/> at <paramref name="offset"/>.</summary>
    public abstract void Write(long offset, ReadOnlySpan<byte> source);

    /// <summary>Makes [offset, offset + length) read as zeros, releasing whole pages.</summary>
    public abstract void Zero(long offset, long length);

    /// <summary>Whether the stored bytes at <paramref name="offset"/> equal <paramref name="data"/>.</summary>
    public abstract bool Compare(long offset, ReadOnlySpan<byte> data);

    /// <summary>Pages of memory held (0 for a null store).</summary>
    public abstract long AllocatedPages { get; }

    /// <summary>A store for <paramref name="backing"/>.</summary>
    public static NamespaceStore Create(NvmeNamespaceBacking backing) =>
        backing == NvmeNamespaceBacking.Null ? NullStore.Instance : new SparseMemoryStore();
}

/// <summary>Reads zeros, drops writes.</summary>
internal sealed class NullStore : NamespaceStore
{
    public static readonly NullStore Instance = new();

    public override long AllocatedPages => 0;

    public override void Read(long offset, Span<byte> destination) => destination.Clear();

    public override void Write(long offset, ReadOnlySpan<byte> source)
    {
    }

    public override void Zero(long offset, long length)
    {
    }

    public override bool Compare(long offset, ReadOnlySpan<byte> data) => !data.ContainsAnyExcept((byte)0);
}

/// <summary>
/// Sparse memory: a map from page index to a 4 KiB page, filled on first write. Concurrent writers to the same
/// page may interleave at byte granularity, which NVMe allows (AWUN and NAWUN are 0: one block is atomic only in
/// the sense that the host must not race itself).
/// </summary>
internal sealed class SparseMemoryStore : NamespaceStore
{
    /// <summary>Bytes per page.</summary>
    public const int PageSize = 4096;

    private readonly ConcurrentDictionary<long, byte[]> _pages = new();

    public override long AllocatedPages => _pages.Count;

    public override void Read(long offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var index = offset / PageSize;
            var within = (int)(offset % PageSize);
            var count = Math.Min(PageSize - within, destination.Length);
            if (_pages.TryGetValue(index, out var page))
            {
                page.AsSpan(within, count).CopyTo(destination);
            }
            else
            {
                destination[..count].Clear();
            }

            destination = destination[count..];
            offset += count;
        }
    }

    public override void Write(long offset, ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            var index = offset / PageSize;
            var within = (int)(offset % PageSize);
            var count = Math.Min(PageSize - within, source.Length);
            var page = _pages.GetOrAdd(index, static _ => new byte[PageSize]);
            source[..count].CopyTo(page.AsSpan(within));
            source = source[count..];
            offset += count;
        }
    }

    public override void Zero(long offset, long length)
    {
        while (length > 0)
        {
            var index = offset / PageSize;
            var within = (int)(offset % PageSize);
            var count = (int)Math.Min(PageSize - within, length);
            if (count == PageSize)
            {
                _pages.TryRemove(index, out _);
            }
            else if (_pages.TryGetValue(index, out var page))
            {
                page.AsSpan(within, count).Clear();
            }

            length -= count;
            offset += count;
        }
    }

    public override bool Compare(long offset, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var index = offset / PageSize;
            var within = (int)(offset % PageSize);
            var count = Math.Min(PageSize - within, data.Length);
            var equal = _pages.TryGetValue(index, out var page)
                ? page.AsSpan(within, count).SequenceEqual(data[..count])
                : !data[..count].ContainsAnyExcept((byte)0);
            if (!equal)
            {
                return false;
            }

            data = data[count..];
            offset += count;
        }

        return true;
    }
}
