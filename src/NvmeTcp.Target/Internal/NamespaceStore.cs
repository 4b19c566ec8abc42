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

    /// <summary>Calls block on a disk: command execution runs them off the receive loop.</summary>
    public virtual bool IsSlow => false;

    /// <summary>Deallocated blocks read as zeros (DLFEAT 001b), so Dataset Management deallocates.</summary>
    public virtual bool Deallocates => true;

    /// <summary>Makes what was written durable (Flush, FUA); nothing to do for memory.</summary>
    public virtual void Flush()
    {
    }

    /// <summary>Releases a file; nothing to do for memory.</summary>
    public virtual void Dispose()
    {
    }

    /// <summary>A store for a namespace's options.</summary>
    public static NamespaceStore Create(NvmeNamespaceOptions options) => options.Backing switch
    {
        NvmeNamespaceBacking.Null => NullStore.Instance,
        NvmeNamespaceBacking.File => new FileStore(options.FilePath!, options.SizeBytes),
        _ => new SparseMemoryStore(),
    };
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

    /// <summary>
    /// Clears the partial pages at either end and frees the whole pages between them. The cost follows what is stored,
    /// not what the range spans: over more pages than are held, the held pages are swept instead of the range walked
    /// (one 16-byte range can span 16 TiB).
    /// </summary>
    public override void Zero(long offset, long length)
    {
        var end = offset + length;
        var firstWhole = (offset + PageSize - 1) / PageSize;
        var endWhole = end / PageSize;
        if (firstWhole >= endWhole)
        {
            ClearPartial(offset, end);
            return;
        }

        ClearPartial(offset, firstWhole * PageSize);
        ClearPartial(endWhole * PageSize, end);
        if (endWhole - firstWhole <= _pages.Count)
        {
            for (var index = firstWhole; index < endWhole; index++)
            {
                _pages.TryRemove(index, out _);
            }

            return;
        }

        foreach (var index in _pages.Keys)
        {
            if (index >= firstWhole && index < endWhole)
            {
                _pages.TryRemove(index, out _);
            }
        }
    }

    // Zeros [from, to) inside pages that stay allocated (at most one page's worth at each end of a range).
    private void ClearPartial(long from, long to)
    {
        while (from < to)
        {
            var index = from / PageSize;
            var within = (int)(from % PageSize);
            var count = (int)Math.Min(PageSize - within, to - from);
            if (_pages.TryGetValue(index, out var page))
            {
                page.AsSpan(within, count).Clear();
            }

            from += count;
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
