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

    // Before the receive loop waits for the socket, and when it ends.
    private void DispatchCompleted()
    {
        if (_completedCount == 0)
        {
            return;
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
        if (start)
        {
            if (_options.InlineCompletions)
            {
                // The caller chose to run its continuations here (NvmeTcpOptions.InlineCompletions).
                RunDispatcher();
                return;
            }

            ThreadPool.UnsafeQueueUserWorkItem(_dispatcher, preferLocal: false);
        }
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

    private sealed class CompletionDispatcher(QueueConnection connection) : IThreadPoolWorkItem
    {
        public void Execute() => connection.RunDispatcher();
    }
}
