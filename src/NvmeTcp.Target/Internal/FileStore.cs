using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// A file or block device, through <see cref="RandomAccess"/> and the page cache (no O_DIRECT, no buffer of its own):
/// a write is in the file once <see cref="Write"/> returns; <see cref="Flush"/> is fsync. Opened exclusively
/// (FileShare.None, an advisory lock on Unix), so two targets do not export one file. Every call blocks on the disk:
/// command execution runs these off the receive loop (<see cref="IsSlow"/>).
/// </summary>
internal sealed class FileStore : NamespaceStore
{
    private const int ZeroChunk = 1024 * 1024;
    private static readonly byte[] Zeros = new byte[ZeroChunk];

    private readonly SafeFileHandle _handle;
    private readonly long _length;

    public FileStore(string path, long length)
    {
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, FileOptions.None);
        _length = length;
    }

    public override bool IsSlow => true;

    public override long AllocatedPages => 0;

    /// <summary>The length of a regular file, or of a block device (whose st_size is 0: /sys/class/block/NAME/size, in 512-byte sectors).</summary>
    public static long MeasureLength(string path)
    {
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            var length = RandomAccess.GetLength(handle);
            if (length > 0)
            {
                return length;
            }
        }

        var device = Path.GetFileName(new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path));
        var sectors = Path.Combine("/sys/class/block", device, "size");
        return File.Exists(sectors) ? long.Parse(File.ReadAllText(sectors).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512 : 0;
    }

    public override void Read(long offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var read = RandomAccess.Read(_handle, destination, offset);
            if (read == 0)
            {
                // Past the end of a file that shrank under us: what is not there reads as zeros.
                destination.Clear();
                return;
            }

            destination = destination[read..];
            offset += read;
        }
    }

    public override void Write(long offset, ReadOnlySpan<byte> source) => RandomAccess.Write(_handle, source, offset);

    public override void Zero(long offset, long length)
    {
        while (length > 0)
        {
            var count = (int)Math.Min(length, ZeroChunk);
            RandomAccess.Write(_handle, Zeros.AsSpan(0, count), offset);
            offset += count;
            length -= count;
        }
    }

    public override bool Compare(long offset, ReadOnlySpan<byte> data)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(data.Length, ZeroChunk));
        try
        {
            while (!data.IsEmpty)
            {
                var chunk = buffer.AsSpan(0, Math.Min(data.Length, buffer.Length));
                Read(offset, chunk);
                if (!chunk.SequenceEqual(data[..chunk.Length]))
                {
                    return false;
                }

                data = data[chunk.Length..];
                offset += chunk.Length;
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>fsync: everything written so far is on the disk.</summary>
    public override void Flush() => RandomAccess.FlushToDisk(_handle);

    /// <summary>Deallocation is a hint (DLFEAT 0 says nothing of what deallocated blocks read): nothing changes.</summary>
    public override bool Deallocates => false;

    public override void Dispose() => _handle.Dispose();

    public override string ToString() => $"file ({_length} bytes)";
}
