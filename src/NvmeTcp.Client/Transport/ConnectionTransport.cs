using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NvmeTcp.Client.Transport;

/// <summary>
/// The byte stream under one queue's connection: a TCP socket in production, an in-memory pipe in tests, a TLS
/// session over a socket. The connection above it knows PDUs; this knows only bytes.
/// </summary>
/// <remarks>
/// One receiver and one sender may use it at once (the receive loop and the send path). Any exception from it means
/// the stream is broken; <see cref="Abort"/> makes pending and later calls fail promptly.
/// </remarks>
internal abstract class ConnectionTransport : IDisposable
{
    /// <summary>The peer, for messages.</summary>
    public abstract EndPoint RemoteEndPoint { get; }

    /// <summary>Reads what has arrived into <paramref name="buffer"/>; 0 at the end of the stream.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Sends all of <paramref name="data"/>.</summary>
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// Sends <paramref name="first"/>, <paramref name="second"/> and <paramref name="third"/> in that order, as one
    /// gathered write where the transport can (writev), so a PDU's header, its data in the caller's memory and its
    /// digest leave in one system call without being copied together first.
    /// </summary>
    public virtual async ValueTask SendAsync(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, ReadOnlyMemory<byte> third, CancellationToken cancellationToken)
    {
        await SendAsync(first, cancellationToken).ConfigureAwait(false);
        await SendAsync(second, cancellationToken).ConfigureAwait(false);
        await SendAsync(third, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether <see cref="ReceiveBlocking"/> works: the stream can be read by a thread that sleeps in the kernel.</summary>
    public virtual bool CanReceiveBlocking => false;

    /// <summary>
    /// Reads what has arrived into <paramref name="buffer"/>, blocking the calling thread until something has (0 at the
    /// end of the stream). Only for a thread of the connection's own: see <see cref="CanReceiveBlocking"/>.
    /// </summary>
    public virtual int ReceiveBlocking(Span<byte> buffer, CancellationToken cancellationToken) => throw new NotSupportedException();

    /// <summary>Breaks the stream in both directions; calls in progress end with an exception.</summary>
    public abstract void Abort();

    /// <summary>A connected TCP socket to <paramref name="endPoint"/> (TCP_NODELAY), closed again if the connect fails.</summary>
    /// <exception cref="SocketException">The connection was refused or could not be made.</exception>
    protected static async Task<Socket> ConnectSocketAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Shuts a socket down both ways (waking a peer and any call blocked on it), then closes it.</summary>
    protected static void ShutdownAndClose(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already reset or closed: nothing left to break.
        }

        socket.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the underlying stream.</summary>
    protected abstract void Dispose(bool disposing);
}

/// <summary>A TCP socket (TCP_NODELAY), with gathered sends through one reused <see cref="SocketAsyncEventArgs"/>.</summary>
internal sealed class SocketTransport : ConnectionTransport
{
    private readonly Socket _socket;
    private readonly GatherSender _gather;

    private SocketTransport(Socket socket, EndPoint remote)
    {
        _socket = socket;
        RemoteEndPoint = remote;
        _gather = new GatherSender(socket);
    }

    /// <inheritdoc/>
    public override EndPoint RemoteEndPoint { get; }

    /// <summary>Opens a TCP connection to <paramref name="endPoint"/>.</summary>
    /// <exception cref="SocketException">The connection was refused or could not be made.</exception>
    public static async Task<SocketTransport> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken) =>
        new(await ConnectSocketAsync(endPoint, cancellationToken).ConfigureAwait(false), endPoint);

    /// <inheritdoc/>
    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    /// <inheritdoc/>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var pending = _socket.SendAsync(data, SocketFlags.None, cancellationToken);
        if (!pending.IsCompletedSuccessfully)
        {
            return SendRestAsync(pending, data, cancellationToken);
        }

        var sent = pending.Result;
        return sent == data.Length ? ValueTask.CompletedTask : SendRestAsync(ValueTask.FromResult(sent), data, cancellationToken);
    }

    /// <inheritdoc/>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, ReadOnlyMemory<byte> third, CancellationToken cancellationToken)
    {
        // writev needs arrays; caller memory that is not array-backed (native, pinned elsewhere) goes piece by piece.
        if (MemoryMarshal.TryGetArray(first, out var a) && MemoryMarshal.TryGetArray(second, out var b) && MemoryMarshal.TryGetArray(third, out var c))
        {
            return _gather.SendAsync(a, b, c, cancellationToken);
        }

        return base.SendAsync(first, second, third, cancellationToken);
    }

    private async ValueTask SendRestAsync(ValueTask<int> pending, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var sent = await pending.ConfigureAwait(false);
        data = data[sent..];
        while (!data.IsEmpty)
        {
            sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    /// <inheritdoc/>
    public override void Abort() => ShutdownAndClose(_socket);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _socket.Dispose();
            _gather.Dispose();
        }
    }
}

/// <summary>
/// A TCP socket used only with blocking system calls, for a connection whose receive loop has a thread of its own
/// (<see cref="QueueConnectionOptions.DedicatedReceiveThread"/>). An asynchronous operation would register the socket
/// with .NET's event loop, whose thread then wakes and hands a work item to the thread pool for every arrival even
/// when nobody waits: that hop, and the pool thread's spinning after it, were most of the CPU per I/O at low depth.
/// </summary>
/// <remarks>
/// The descriptor is never made non-blocking, not even to connect: once it is, .NET emulates every blocking call on
/// it with its event loop (an epoll wake and a futex per receive, measured). So the connect is a blocking connect(2)
/// on a pool thread, which the caller's deadline ends by closing the socket. Sends are blocking
/// send(2)/sendmsg(2) on the sender's thread: they return at once while the socket buffer has room and wait in the
/// kernel when it has not (as a kernel initiator's send does). The few receives before the receive thread starts
/// (ICResp) run on a pool thread.
/// </remarks>
internal sealed class BlockingSocketTransport : ConnectionTransport
{
    private readonly Socket _socket;
    private readonly List<ArraySegment<byte>> _segments = new(3);

    private BlockingSocketTransport(Socket socket, EndPoint remote)
    {
        _socket = socket;
        RemoteEndPoint = remote;
    }

    /// <inheritdoc/>
    public override EndPoint RemoteEndPoint { get; }

    /// <inheritdoc/>
    public override bool CanReceiveBlocking => true;

    /// <summary>The socket's descriptor, for tests that read its flags.</summary>
    internal nint DescriptorForTests => _socket.SafeHandle.DangerousGetHandle();

    /// <summary>Opens a TCP connection to <paramref name="endPoint"/> without ever using the socket asynchronously.</summary>
    /// <exception cref="SocketException">The connection was refused or could not be made.</exception>
    public static Task<BlockingSocketTransport> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Connect(endPoint, cancellationToken), cancellationToken, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

    private static BlockingSocketTransport Connect(EndPoint endPoint, CancellationToken cancellationToken)
    {
        // A blocking connect, so that the descriptor never becomes non-blocking: .NET then emulates every blocking
        // call on it with its event loop. A cancellation (the caller's deadline) closes the socket, which ends the
        // connect at once.
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (cancellationToken.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket))
            {
                try
                {
                    socket.Connect(endPoint);
                }
                catch (Exception) when (cancellationToken.IsCancellationRequested)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            return new BlockingSocketTransport(socket, endPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override int ReceiveBlocking(Span<byte> buffer, CancellationToken cancellationToken)
    {
        // One recv(2), no poll(2) before it: the connection cancels its token only together with Abort, whose
        // shutdown(2) wakes a thread blocked here. What that ends reports the cancellation, not a closed stream.
        cancellationToken.ThrowIfCancellationRequested();
        int read;
        try
        {
            read = _socket.Receive(buffer, SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return read;
    }

    /// <inheritdoc/>
    /// <remarks>Only before the receive thread starts (the ICResp): a cancellation closes the socket, as nothing else
    /// would wake the blocked read, and the connection is abandoned anyway.</remarks>
    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        new(Task.Factory.StartNew(
            () =>
            {
                using (cancellationToken.UnsafeRegister(static s => ((BlockingSocketTransport)s!).Abort(), this))
                {
                    return ReceiveBlocking(buffer.Span, cancellationToken);
                }
            },
            cancellationToken,
            TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default));

    /// <inheritdoc/>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            var span = data.Span;
            while (!span.IsEmpty)
            {
                span = span[_socket.Send(span, SocketFlags.None)..];
            }

            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <inheritdoc/>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, ReadOnlyMemory<byte> third, CancellationToken cancellationToken)
    {
        // sendmsg(2) with three pieces needs arrays; other memory goes piece by piece.
        if (!MemoryMarshal.TryGetArray(first, out var a) || !MemoryMarshal.TryGetArray(second, out var b) || !MemoryMarshal.TryGetArray(third, out var c))
        {
            return base.SendAsync(first, second, third, cancellationToken);
        }

        try
        {
            var total = a.Count + b.Count + c.Count;
            _segments.Clear();
            AddSegment(a);
            AddSegment(b);
            AddSegment(c);
            var sent = _segments.Count == 0 ? 0 : _socket.Send(_segments, SocketFlags.None);
            if (sent < total)
            {
                // A blocking stream socket takes it all; what it did not is sent in order, piece by piece.
                SendRest(a, ref sent);
                SendRest(b, ref sent);
                SendRest(c, ref sent);
            }

            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    private void AddSegment(ArraySegment<byte> segment)
    {
        if (segment.Count > 0)
        {
            _segments.Add(segment);
        }
    }

    // Sends what is left of `segment` after `skip` bytes of the whole were sent; consumes `skip`.
    private void SendRest(ArraySegment<byte> segment, ref int skip)
    {
        if (skip >= segment.Count)
        {
            skip -= segment.Count;
            return;
        }

        var span = segment.AsSpan(skip);
        skip = 0;
        while (!span.IsEmpty)
        {
            span = span[_socket.Send(span, SocketFlags.None)..];
        }
    }

    /// <inheritdoc/>
    public override void Abort() => ShutdownAndClose(_socket);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _socket.Dispose();
        }
    }
}
