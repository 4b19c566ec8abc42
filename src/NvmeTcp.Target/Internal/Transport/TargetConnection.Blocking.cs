using System.Net.Sockets;

namespace NvmeTcp.Target.Internal.Transport;

/// <summary>
/// The receive thread of <see cref="NvmeTargetOptions.DedicatedReceiveThreads"/>: the same receive loop, run on a thread
/// of the connection's own with every socket call blocking, so each PDU is read, handled and (for a command that
/// completes inline) answered on that thread. The socket is never used asynchronously: an asynchronous call registers it
/// with .NET's event loop for good, whose thread then wakes and queues a pool work item at every arrival, the hop this
/// mode exists to avoid. Waits that are not on the socket (the send lock, back-pressure) block the thread too, so the
/// loop never continues elsewhere. The thread ends when the socket is shut down: <see cref="Abort"/> (teardown, target
/// disposal, an expired deadline) shuts it down, which wakes a blocked recv(2) with end of stream.
/// </summary>
internal sealed partial class TargetConnection
{
    /// <summary>The thread's name; Linux shows its first 15 characters (top -H, perf, /proc/PID/task/TID/comm).</summary>
    internal const string ReceiveThreadName = "nvmetcp tgt rx";

    // Set once in RunAsync, before either loop starts: receive, send and waits block instead of awaiting.
    private bool _blocking;

    /// <summary>Runs the receive loop on a new thread; completes when the loop has ended.</summary>
    /// <remarks>
    /// Every await in the loop completes synchronously in this mode, so the whole loop runs on the thread; the thread
    /// only starts it and hands its task over (as the client's receive thread does), never waiting on it.
    /// </remarks>
    private Task RunReceiveThreadAsync()
    {
        var loop = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(static state =>
        {
            var (connection, loop) = ((TargetConnection, TaskCompletionSource<Task>))state!;
            loop.SetResult(connection.ReceiveLoopAsync());
        })
        {
            IsBackground = true,
            Name = ReceiveThreadName,
        };
        _target.Testing.CountReceiveThread();
        thread.Start((this, loop));
        return loop.Task.Unwrap();
    }

    /// <summary>A blocking recv(2); 0 at end of stream, which a shutdown by <see cref="Abort"/> also produces.</summary>
    private int ReceiveBlocking(Span<byte> buffer)
    {
        _abort.Token.ThrowIfCancellationRequested();
        return _socket.Receive(buffer, SocketFlags.None);
    }

    /// <summary>
    /// Blocking send(2) of all of <paramref name="bytes"/>. It returns at once while the socket buffer has room; the
    /// send deadline runs meanwhile (a field write per send, the timer armed only when idle), since a send that blocks
    /// cannot say so first. <see cref="Abort"/>'s shutdown wakes a send blocked on a host that reads nothing.
    /// </summary>
    private void SendBlocking(ReadOnlySpan<byte> bytes)
    {
        NoteSendStalled();
        try
        {
            while (!bytes.IsEmpty)
            {
                bytes = bytes[_socket.Send(bytes, SocketFlags.None)..];
            }
        }
        finally
        {
            NoteSendMoved();
        }
    }
}
