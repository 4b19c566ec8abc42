using System.Buffers;

namespace NvmeTcp.Client;

/// <summary>
/// A seekable <see cref="Stream"/> over a whole namespace: reads and writes of any length at any byte offset.
/// </summary>
/// <remarks>
/// <para>Whole blocks go straight between the caller's buffer and the wire. A write that starts or ends inside a block
/// reads that edge block, patches it and writes it back (read-modify-write), holding a lock for that block so that two
/// writes of this stream sharing an edge block do not undo each other. A write is therefore not atomic: one that spans
/// several blocks is several commands, and a failure or a crash between them leaves some blocks written and some not.
/// Another host, or another stream over the same namespace, is not covered by the lock.</para>
/// <para><see cref="Flush"/> sends NVMe Flush. The length is the namespace's and cannot change; a write past it throws
/// <see cref="IOException"/>, a read past it returns what is left (0 at the end).</para>
/// <para><see cref="Position"/> is the stream's, for one caller at a time as with any stream;
/// <see cref="ReadAtAsync"/> and <see cref="WriteAtAsync"/> take an offset and may be used by many callers at once.
/// <see cref="CopyToAsync(Stream, long, int, int, IProgress{long}?, CancellationToken)"/> and
/// <see cref="CopyFromAsync"/> keep several commands in flight (queue depth above 1).</para>
/// </remarks>
public sealed class NvmeNamespaceStream : Stream
{
    /// <summary>Bytes per command of the copy methods unless told: 1 MiB (split further by the controller's MDTS).</summary>
    public const int DefaultBufferSize = 1 << 20;

    /// <summary>Commands the copy methods keep in flight unless told.</summary>
    public const int DefaultDepth = 4;

    private readonly NvmeController _controller;
    private readonly NvmeNamespace _namespace;
    private readonly bool _ownsController;
    private readonly int _blockSize;
    private readonly long _length;
    private readonly Dictionary<long, EdgeLock> _edgeLocks = [];
    private long _position;
    private bool _disposed;

    /// <summary>Opens a stream over <paramref name="ns"/> of <paramref name="controller"/>, at position 0.</summary>
    /// <param name="controller">The controller; its I/O queues are used in turn.</param>
    /// <param name="ns">The namespace.</param>
    /// <param name="ownsController">Dispose the controller with the stream.</param>
    public NvmeNamespaceStream(NvmeController controller, NvmeNamespace ns, bool ownsController = false)
    {
        ArgumentNullException.ThrowIfNull(controller);
        ArgumentNullException.ThrowIfNull(ns);
        if (controller.IoQueues.Count == 0)
        {
            throw new ArgumentException("The controller has no I/O queues.", nameof(controller));
        }

        _controller = controller;
        _namespace = ns;
        _ownsController = ownsController;
        _blockSize = ns.BlockSize;
        _length = checked((long)ns.SizeInBytes);
    }

    /// <summary>The namespace.</summary>
    public NvmeNamespace Namespace => _namespace;

    /// <inheritdoc/>
    public override bool CanRead => !_disposed;

    /// <inheritdoc/>
    public override bool CanSeek => !_disposed;

    /// <inheritdoc/>
    public override bool CanWrite => !_disposed;

    /// <summary>The namespace's size in bytes.</summary>
    public override long Length => _length;

    /// <inheritdoc/>
    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0)
        {
            throw new IOException("Seek before the start of the namespace.");
        }

        _position = target;
        return target;
    }

    /// <summary>Not supported: a namespace's size is fixed.</summary>
    /// <param name="value">Ignored.</param>
    public override void SetLength(long value) => throw new NotSupportedException("A namespace's size is fixed.");

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>NVMe Flush of the namespace.</summary>
    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>NVMe Flush of the namespace: what was written is in non-volatile media when it completes.</summary>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the controller has flushed.</returns>
    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _controller.NextIoQueue().FlushAsync(_namespace, cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // RS0027 (optional parameters on the overload with most parameters): these overrides keep Stream's signatures.
#pragma warning disable RS0027

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await ReadAtAsync(_position, buffer, cancellationToken).ConfigureAwait(false);
        _position += read;
        return read;
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await WriteAtAsync(_position, buffer, cancellationToken).ConfigureAwait(false);
        _position += buffer.Length;
    }
#pragma warning restore RS0027

    /// <summary>Reads up to <paramref name="buffer"/>'s length from byte <paramref name="offset"/>; safe to call concurrently.</summary>
    /// <param name="offset">Byte offset in the namespace.</param>
    /// <param name="buffer">Where the data goes.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The bytes read: the buffer's length, less past the end of the namespace.</returns>
    public async ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= _length || buffer.IsEmpty)
        {
            return 0;
        }

        var length = (int)Math.Min(buffer.Length, _length - offset);
        buffer = buffer[..length];
        var end = offset + length;
        var alignedStart = RoundUp(offset);
        var alignedEnd = RoundDown(end);
        if (alignedStart >= alignedEnd)
        {
            // No whole block inside: the one or two blocks it touches, through a bounce buffer.
            await ReadPartAsync(offset, buffer, cancellationToken).ConfigureAwait(false);
            return length;
        }

        // Head, whole blocks and tail in flight together.
        var parts = new List<Task>(3);
        if (offset < alignedStart)
        {
            parts.Add(ReadPartAsync(offset, buffer[..(int)(alignedStart - offset)], cancellationToken));
        }

        var middle = buffer.Slice((int)(alignedStart - offset), (int)(alignedEnd - alignedStart));
        parts.Add(_controller.NextIoQueue().ReadAsync(_namespace, Lba(alignedStart), middle, cancellationToken).AsTask());
        if (alignedEnd < end)
        {
            parts.Add(ReadPartAsync(alignedEnd, buffer[(int)(alignedEnd - offset)..], cancellationToken));
        }

        await WhenAllAsync(parts).ConfigureAwait(false);
        return length;
    }

    /// <summary>Writes <paramref name="data"/> at byte <paramref name="offset"/>; safe to call concurrently (see the remarks on the class).</summary>
    /// <param name="offset">Byte offset in the namespace.</param>
    /// <param name="data">The data.</param>
    /// <param name="cancellationToken">Cancels the write (some blocks may be written already).</param>
    /// <returns>Completes when the controller has acknowledged every block.</returns>
    /// <exception cref="IOException">The write would go past the end of the namespace.</exception>
    public async ValueTask WriteAtAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (data.IsEmpty)
        {
            return;
        }

        if (offset > _length - data.Length)
        {
            throw new IOException($"A write of {data.Length} bytes at {offset} goes past the end of the namespace ({_length} bytes).");
        }

        var end = offset + data.Length;
        var alignedStart = RoundUp(offset);
        var alignedEnd = RoundDown(end);
        var parts = new List<Task>(3);
        if (alignedStart >= alignedEnd)
        {
            // Within one block, or across one boundary with no whole block: one or two edge blocks.
            var boundary = RoundDown(end - 1);
            if (boundary > offset)
            {
                parts.Add(PatchBlockAsync(offset, data[..(int)(boundary - offset)], cancellationToken));
                parts.Add(PatchBlockAsync(boundary, data[(int)(boundary - offset)..], cancellationToken));
            }
            else
            {
                parts.Add(PatchBlockAsync(offset, data, cancellationToken));
            }
        }
        else
        {
            if (offset < alignedStart)
            {
                parts.Add(PatchBlockAsync(offset, data[..(int)(alignedStart - offset)], cancellationToken));
            }

            var middle = data.Slice((int)(alignedStart - offset), (int)(alignedEnd - alignedStart));
            parts.Add(_controller.NextIoQueue().WriteAsync(_namespace, Lba(alignedStart), middle, cancellationToken: cancellationToken).AsTask());
            if (alignedEnd < end)
            {
                parts.Add(PatchBlockAsync(alignedEnd, data[(int)(alignedEnd - offset)..], cancellationToken));
            }
        }

        await WhenAllAsync(parts).ConfigureAwait(false);
    }

    /// <summary>Copies from <see cref="Position"/> to the end of the namespace into <paramref name="destination"/>, <see cref="DefaultDepth"/> reads in flight.</summary>
    /// <param name="destination">Where the data goes, in order.</param>
    /// <param name="bufferSize">Bytes per read.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>Completes when everything is written to <paramref name="destination"/>.</returns>
    public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken) =>
        CopyToAsync(destination, _length - Math.Min(_position, _length), bufferSize, DefaultDepth, null, cancellationToken);

    /// <summary>
    /// Copies <paramref name="count"/> bytes from <see cref="Position"/> into <paramref name="destination"/>, with up to
    /// <paramref name="depth"/> reads in flight while earlier data is written out in order; advances the position.
    /// </summary>
    /// <param name="destination">Where the data goes.</param>
    /// <param name="count">Bytes to copy (at most what is left of the namespace).</param>
    /// <param name="bufferSize">Bytes per read.</param>
    /// <param name="depth">Reads in flight.</param>
    /// <param name="progress">Told the bytes copied so far after each write to <paramref name="destination"/>.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>Completes when the bytes are written to <paramref name="destination"/>.</returns>
    public async Task CopyToAsync(Stream destination, long count, int bufferSize = DefaultBufferSize, int depth = DefaultDepth, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ObjectDisposedException.ThrowIf(_disposed, this);
        count = Math.Min(count, Math.Max(0, _length - _position));
        var chunk = ChunkSize(bufferSize);
        var start = _position;
        var buffers = new byte[depth][];
        var reads = new Task<int>[depth];
        long issued = 0;
        long copied = 0;
        try
        {
            // Chunk i uses buffer i % depth; the first chunk ends at a chunk boundary, so the rest are whole blocks.
            var next = 0;
            for (; next < depth && issued < count; next++)
            {
                buffers[next] = ArrayPool<byte>.Shared.Rent(chunk);
                reads[next] = IssueRead(buffers[next]);
            }

            for (var slot = 0; copied < count; slot = (slot + 1) % depth)
            {
                var length = await reads[slot].ConfigureAwait(false);
                await destination.WriteAsync(buffers[slot].AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                copied += length;
                _position = start + copied;
                progress?.Report(copied);
                reads[slot] = issued < count ? IssueRead(buffers[slot]) : Task.FromResult(0);
            }
        }
        finally
        {
            // Every read is awaited before its buffer goes back to the pool.
            foreach (var read in reads.Where(r => r is not null))
            {
                try
                {
                    await read.ConfigureAwait(false);
                }
                catch (Exception) when (copied < count)
                {
                    // The copy fails with the first error, already thrown above.
                }
            }

            foreach (var buffer in buffers.Where(b => b is not null))
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        Task<int> IssueRead(byte[] buffer)
        {
            var offset = start + issued;
            var length = (int)Math.Min(ChunkEnd(offset, chunk) - offset, count - issued);
            issued += length;
            return ReadAtAsync(offset, buffer.AsMemory(0, length), cancellationToken).AsTask();
        }
    }

    /// <summary>
    /// Writes up to <paramref name="count"/> bytes read from <paramref name="source"/> at <see cref="Position"/>, with up
    /// to <paramref name="depth"/> writes in flight while the next data is read; stops early at the end of
    /// <paramref name="source"/>. Advances the position by what was written. A copy past the end of the namespace
    /// throws <see cref="IOException"/>: before writing anything when <paramref name="source"/> can seek (its length is
    /// known), else when it gets there, with what came before written.
    /// </summary>
    /// <param name="source">Where the data comes from.</param>
    /// <param name="count">Bytes to write at most.</param>
    /// <param name="bufferSize">Bytes per write.</param>
    /// <param name="depth">Writes in flight.</param>
    /// <param name="progress">Told the bytes acknowledged so far.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>The bytes written.</returns>
    public async Task<long> CopyFromAsync(Stream source, long count, int bufferSize = DefaultBufferSize, int depth = DefaultDepth, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var start = _position;
        if (source.CanSeek)
        {
            // What the source holds is known: a copy that cannot fit fails before it writes anything.
            count = Math.Min(count, Math.Max(0, source.Length - source.Position));
            if (count > 0 && start > _length - count)
            {
                throw new IOException($"A copy of {count} bytes at {start} goes past the end of the namespace ({_length} bytes).");
            }
        }

        var chunk = ChunkSize(bufferSize);
        var buffers = new byte[depth][];
        var writes = new Task[depth];
        var lengths = new int[depth];
        long read = 0;
        long written = 0;
        Exception? failure = null;
        try
        {
            for (var slot = 0; ; slot = (slot + 1) % depth)
            {
                if (writes[slot] is { } pending)
                {
                    await pending.ConfigureAwait(false);
                    written += lengths[slot];
                    progress?.Report(written);
                    writes[slot] = null!;
                }

                if (read >= count)
                {
                    if (writes.All(w => w is null))
                    {
                        break;
                    }

                    continue;
                }

                var buffer = buffers[slot] ??= ArrayPool<byte>.Shared.Rent(chunk);
                var offset = start + read;
                var want = (int)Math.Min(ChunkEnd(offset, chunk) - offset, count - read);
                var filled = await source.ReadAtLeastAsync(buffer.AsMemory(0, want), want, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (filled == 0)
                {
                    count = read;
                    continue;
                }

                lengths[slot] = filled;
                read += filled;
                writes[slot] = WriteAtAsync(offset, buffer.AsMemory(0, filled), cancellationToken).AsTask();
                if (filled < want)
                {
                    count = read;
                }
            }
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            foreach (var write in writes.Where(w => w is not null))
            {
                try
                {
                    await write.ConfigureAwait(false);
                }
                catch (Exception) when (failure is not null)
                {
                    // The first error is the one thrown.
                }
            }

            foreach (var buffer in buffers.Where(b => b is not null))
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        _position = start + written;
        return written;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            if (_ownsController)
            {
                _controller.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            if (_ownsController)
            {
                await _controller.DisposeAsync().ConfigureAwait(false);
            }
        }

        await base.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    private long RoundUp(long offset) => (offset + _blockSize - 1) / _blockSize * _blockSize;

    private long RoundDown(long offset) => offset / _blockSize * _blockSize;

    private ulong Lba(long offset) => (ulong)(offset / _blockSize);

    private int ChunkSize(int bufferSize) => Math.Max(_blockSize, bufferSize / _blockSize * _blockSize);

    private static long ChunkEnd(long offset, int chunk) => (offset / chunk + 1) * chunk;

    // Bytes of at most two blocks, with no whole block inside, through a bounce buffer.
    private async Task ReadPartAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var first = RoundDown(offset);
        var bytes = (int)(RoundUp(offset + destination.Length) - first);
        var bounce = ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            await _controller.NextIoQueue().ReadAsync(_namespace, Lba(first), bounce.AsMemory(0, bytes), cancellationToken).ConfigureAwait(false);
            bounce.AsMemory((int)(offset - first), destination.Length).CopyTo(destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bounce);
        }
    }

    // Read-modify-write of the one block holding [offset, offset + data.Length), under that block's lock.
    private async Task PatchBlockAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var block = RoundDown(offset);
        var edge = AcquireEdge(block);
        var bounce = ArrayPool<byte>.Shared.Rent(_blockSize);
        try
        {
            await edge.Semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var whole = bounce.AsMemory(0, _blockSize);
                await _controller.NextIoQueue().ReadAsync(_namespace, Lba(block), whole, cancellationToken).ConfigureAwait(false);
                data.CopyTo(whole[(int)(offset - block)..]);
                await _controller.NextIoQueue().WriteAsync(_namespace, Lba(block), whole, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                edge.Semaphore.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bounce);
            ReleaseEdge(block, edge);
        }
    }

    private EdgeLock AcquireEdge(long block)
    {
        lock (_edgeLocks)
        {
            if (!_edgeLocks.TryGetValue(block, out var edge))
            {
                edge = new EdgeLock();
                _edgeLocks.Add(block, edge);
            }

            edge.Users++;
            return edge;
        }
    }

    private void ReleaseEdge(long block, EdgeLock edge)
    {
        lock (_edgeLocks)
        {
            if (--edge.Users == 0)
            {
                _edgeLocks.Remove(block);
                edge.Semaphore.Dispose();
            }
        }
    }

    // Awaits every part, so that no buffer is in use when the caller gets control back; the first error wins.
    private static async Task WhenAllAsync(List<Task> parts)
    {
        Exception? first = null;
        foreach (var part in parts)
        {
            try
            {
                await part.ConfigureAwait(false);
            }
            catch (Exception e) when (first is null)
            {
                first = e;
            }
            catch (Exception)
            {
                // Later errors are dropped.
            }
        }

        if (first is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }

    private sealed class EdgeLock
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; }
    }
}
