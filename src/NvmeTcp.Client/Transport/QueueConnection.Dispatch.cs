using System.Runtime.CompilerServices;

namespace NvmeTcp.Client.Transport;

/// <summary>
/// Completion dispatch. The receive loop never runs callers' continuations (a caller that blocks there would stall
/// the queue, or deadlock waiting for its own completion). It collects the commands completed by one socket read and
/// hands them, as one batch, to a thread pool work item that runs their continuations one after the other.
/// </summary>
/// <remarks>
/// What those continuations submit is batched without holding anything across them: a submission made by a
/// continuation that has others after it in the batch is queued (<see cref="SendMode.Batched"/>), and the batch's
/// end sends everything queued in one write, as blk-mq's <c>bd-&gt;last</c> tells a driver that more requests follow.
/// A continuation that blocks (waiting synchronously for its own command) holds that command back for at most a tick
/// of the timeout timer, which then sends what the batch queued. A queue at depth 32 thus costs one hand-off and
/// about one send per socket read instead of one per command, which on a small machine is most of the CPU per I/O.
/// </remarks>
internal sealed partial class QueueConnection
{
    // The connection whose batch this thread is running, while more continuations follow the current one.
    [ThreadStatic]
    private static QueueConnection? t_batching;

    private readonly object _dispatchLock = new();
    private readonly CompletionDispatcher _dispatcher;

    // Completed by the current socket read (receive loop only); handed over before the loop waits for more bytes.
    private readonly CommandSlot[] _completed;
    private int _completedCount;

    // Handed over and waiting for a dispatcher (under _dispatchLock); dispatchers running; when one last made progress.
    private readonly Queue<CommandSlot> _ready;
    private int _dispatchers;
    private long _dispatchProgressAt;

    /// <summary>Whether the calling thread runs a continuation of this connection's batch with others still to come.</summary>
    private bool IsBatching => ReferenceEquals(t_batching, this);

    /// <inheritdoc/>
    public void DeferCompletion(CommandSlot slot) => _completed[_completedCount++] = slot;

    // When the receive loop ends: what it completed is handed over and, unless a dispatcher runs already, one starts.
    private void DispatchCompleted()
    {
        if (HandOverCompleted())
        {
            StartDispatcher();
        }
    }

    // Before the receive loop waits for the socket: hands over what it completed, then reads. With InlineCompletions,
    // callers' code must not keep the loop from reading, or one that waits for its own next command never gets it:
    // on the connection's own receive thread the loop parks while the dispatcher runs (see DriveReceiveThread); on
    // the thread pool the dispatcher runs once the read is posted, and the loop goes on wherever the read completes.
    private ReceiveThenDispatch ReceiveDispatching(Memory<byte> buffer)
    {
        if (!HandOverCompleted())
        {
            return new(this, ReceiveAsync(buffer), default, ReceiveThenDispatch.Mode.Read);
        }

        if (!_options.InlineCompletions)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_dispatcher, preferLocal: false);
            return new(this, ReceiveAsync(buffer), default, ReceiveThenDispatch.Mode.Read);
        }

        if (_receiveThread)
        {
            return new(this, default, buffer, ReceiveThenDispatch.Mode.Park);
        }

        var receive = ReceiveAsync(buffer);
        if (receive.IsCompleted)
        {
            // Bytes are there already: this thread goes on parsing, and a pool thread runs the continuations.
            ThreadPool.UnsafeQueueUserWorkItem(_dispatcher, preferLocal: false);
            return new(this, receive, default, ReceiveThenDispatch.Mode.Read);
        }

        return new(this, receive, default, ReceiveThenDispatch.Mode.ReadThenDispatch);
    }

    // Moves what the current socket read completed to the ready queue; true when a dispatcher has to be started.
    private bool HandOverCompleted()
    {
        if (_completedCount == 0)
        {
            return false;
        }

        bool start;
        lock (_dispatchLock)
        {
            for (var i = 0; i < _completedCount; i++)
            {
                _ready.Enqueue(_completed[i]);
            }

            start = _dispatchers == 0;
            if (start)
            {
                _dispatchers = 1;
                _dispatchProgressAt = _time.GetTimestamp();
            }
        }

        Array.Clear(_completed, 0, _completedCount);
        _completedCount = 0;
        return start;
    }

    private void StartDispatcher()
    {
        if (_options.InlineCompletions)
        {
            // The caller chose to run its continuations here (NvmeTcpOptions.InlineCompletions).
            RunDispatcher();
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(_dispatcher, preferLocal: false);
    }

    private void RunDispatcher()
    {
        while (true)
        {
            // One round signals what is ready now; what arrives meanwhile is the next round's.
            int count;
            lock (_dispatchLock)
            {
                count = _ready.Count;
                if (count == 0)
                {
                    _dispatchers--;
                    return;
                }
            }

            try
            {
                for (var i = 0; i < count; i++)
                {
                    CommandSlot? slot;
                    lock (_dispatchLock)
                    {
                        // Another dispatcher (see CheckDispatch) may have taken some.
                        if (!_ready.TryDequeue(out slot))
                        {
                            break;
                        }

                        _dispatchProgressAt = _time.GetTimestamp();
                    }

                    t_batching = i < count - 1 ? this : null;
                    slot.Signal();
                }
            }
            finally
            {
                t_batching = null;
            }

            // The batch's end: what its continuations queued leaves now, in one write.
            _send.Flush();
        }
    }

    // A continuation that blocks (say, waiting synchronously for a command that completed in the same batch) holds up
    // the dispatcher running it. The timeout timer starts another when completions have waited longer than one of its
    // ticks, so the blocked caller's own completion is delivered.
    private void CheckDispatch(long now)
    {
        bool start;
        lock (_dispatchLock)
        {
            start = _ready.Count > 0 && _dispatchers > 0 && _time.GetElapsedTime(_dispatchProgressAt, now) >= _timerPeriod;
            if (start)
            {
                _dispatchers++;
                _dispatchProgressAt = now;
            }
        }

        if (start)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_dispatcher, preferLocal: false);
        }
    }

    // The receive thread with InlineCompletions. Callers' continuations run on the thread that receives, so one that
    // blocks (waiting synchronously for its own next command, say) would stop the queue's receiving. So the loop does
    // not run them itself: it parks (its await stores its continuation) and the thread's driver runs the dispatcher,
    // then resumes the loop. While the driver is in callers' code, the parked loop can be taken away from it: by the
    // timer when the dispatcher has made no progress for a tick, and when the connection fails. A new receive thread
    // then resumes the loop, and the old one ends once its callers' code returns.
    private readonly object _parkLock = new();
    private Action? _parkedLoop;
    private bool _dispatchOwed;
    private int _driver;

    private void StartReceiveThread(Action body) =>
        new Thread(body.Invoke) { IsBackground = true, Name = $"nvmetcp rx q{QueueId}" }.UnsafeStart();

    // The receive thread's work after each park: the dispatcher the park stands for, then the loop again, until the
    // loop ends (it did not park) or another thread took it over (generation changed).
    private void DriveReceiveThread(int generation)
    {
        while (true)
        {
            bool dispatch;
            lock (_parkLock)
            {
                dispatch = _dispatchOwed;
                _dispatchOwed = false;
            }

            if (dispatch)
            {
                RunDispatcher();
            }

            Action? resume;
            lock (_parkLock)
            {
                if (_driver != generation || _parkedLoop is null)
                {
                    return;
                }

                resume = _parkedLoop;
                _parkedLoop = null;
            }

            resume();
        }
    }

    private void Park(Action continuation)
    {
        lock (_parkLock)
        {
            _parkedLoop = continuation;
            _dispatchOwed = true;
        }
    }

    // From the timer (when the dispatcher is stuck) and from Fail (so that the loop can see the abort and end).
    private void TakeOverParkedLoop(long now, bool force)
    {
        Action? resume;
        int generation;
        lock (_parkLock)
        {
            if (_parkedLoop is null)
            {
                return;
            }

            if (!force)
            {
                lock (_dispatchLock)
                {
                    if (_dispatchers == 0 || _time.GetElapsedTime(_dispatchProgressAt, now) < _timerPeriod)
                    {
                        return;
                    }
                }
            }

            resume = _parkedLoop;
            _parkedLoop = null;
            generation = ++_driver;
        }

        StartReceiveThread(() =>
        {
            resume();
            DriveReceiveThread(generation);
        });
    }

    private sealed class CompletionDispatcher(QueueConnection connection) : IThreadPoolWorkItem
    {
        public void Execute() => connection.RunDispatcher();
    }

    /// <summary>
    /// Awaits the receive loop's read. <see cref="Mode.Read"/>: an ordinary read. <see cref="Mode.ReadThenDispatch"/>:
    /// the loop's continuation is registered with the pending read, then the dispatcher runs on this thread.
    /// <see cref="Mode.Park"/>: the loop's continuation is stored (<see cref="Park"/>), and the blocking read happens
    /// when the receive thread's driver resumes it, after the dispatcher. The last two report "not completed", so that
    /// the await always comes here.
    /// </summary>
    private readonly struct ReceiveThenDispatch(QueueConnection connection, ValueTask<int> receive, Memory<byte> buffer, ReceiveThenDispatch.Mode mode) : ICriticalNotifyCompletion
    {
        public enum Mode : byte
        {
            Read,
            ReadThenDispatch,
            Park,
        }

        public bool IsCompleted => mode == Mode.Read && receive.IsCompleted;

        public ReceiveThenDispatch GetAwaiter() => this;

        public int GetResult() => mode == Mode.Park
            ? connection._transport.ReceiveBlocking(buffer.Span, connection._shutdown.Token)
            : receive.ConfigureAwait(false).GetAwaiter().GetResult();

        public void OnCompleted(Action continuation) => Register(continuation, flowContext: true);

        public void UnsafeOnCompleted(Action continuation) => Register(continuation, flowContext: false);

        private void Register(Action continuation, bool flowContext)
        {
            if (mode == Mode.Park)
            {
                connection.Park(continuation);
                return;
            }

            var read = receive.ConfigureAwait(false).GetAwaiter();
            if (flowContext)
            {
                read.OnCompleted(continuation);
            }
            else
            {
                read.UnsafeOnCompleted(continuation);
            }

            // The read is posted: however long callers' code runs here, the loop goes on without this thread.
            if (mode == Mode.ReadThenDispatch)
            {
                connection.RunDispatcher();
            }
        }
    }
}
