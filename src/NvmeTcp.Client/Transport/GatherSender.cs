using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace NvmeTcp.Client.Transport;

/// <summary>
/// Gathered socket sends (writev) through one reused <see cref="SocketAsyncEventArgs"/>: a PDU's header, the caller's
/// data and the data digest leave in one system call, with nothing allocated per send once warm (the buffer list is
/// copied into the event args' own reused list).
/// </summary>
/// <remarks>One send at a time: the connection's send path is its only user.</remarks>
internal sealed class GatherSender : SocketAsyncEventArgs, IValueTaskSource<int>
{
    private readonly Socket _socket;
    private readonly List<ArraySegment<byte>> _segments = new(3);
    private ManualResetValueTaskSourceCore<int> _core;

    public GatherSender(Socket socket)
        : base(unsafeSuppressExecutionContextFlow: true)
    {
        _socket = socket;
    }

    /// <summary>Sends the three segments in order; returns when every byte went to the socket.</summary>
    /// <remarks>The token is not observed: the connection aborts the socket to end a send, which ends this one too.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ArraySegment<byte> first, ArraySegment<byte> second, ArraySegment<byte> third, CancellationToken cancellationToken)
    {
        _segments.Clear();
        Add(first);
        Add(second);
        Add(third);
        var total = first.Count + second.Count + third.Count;
        var sent = await SendOnceAsync().ConfigureAwait(false);

        // A stream socket normally takes it all; what it did not is sent piece by piece.
        while (sent < total)
        {
            var rest = Remainder(first, second, third, sent);
            sent += await _socket.SendAsync(rest, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Add(ArraySegment<byte> segment)
    {
        if (segment.Count != 0)
        {
            _segments.Add(segment);
        }
    }

    private static ArraySegment<byte> Remainder(ArraySegment<byte> first, ArraySegment<byte> second, ArraySegment<byte> third, int sent)
    {
        if (sent < first.Count)
        {
            return first[sent..];
        }

        sent -= first.Count;
        return sent < second.Count ? second[sent..] : third[(sent - second.Count)..];
    }

    private ValueTask<int> SendOnceAsync()
    {
        _core.Reset();
        BufferList = _segments;
        if (_socket.SendAsync(this))
        {
            return new ValueTask<int>(this, _core.Version);
        }

        return SocketError == SocketError.Success
            ? new ValueTask<int>(BytesTransferred)
            : ValueTask.FromException<int>(new SocketException((int)SocketError));
    }

    /// <inheritdoc/>
    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        if (SocketError == SocketError.Success)
        {
            _core.SetResult(BytesTransferred);
        }
        else
        {
            _core.SetException(new SocketException((int)SocketError));
        }
    }

    /// <inheritdoc/>
    public int GetResult(short token) => _core.GetResult(token);

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
