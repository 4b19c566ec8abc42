namespace NvmeTcp.Client.Transport;

/// <summary>
/// Completion dispatch. The receive loop never runs callers' continuations (a caller that blocks there would stall
/// the queue, or deadlock waiting for its own completion). It collects the commands completed by one socket read and
/// hands them, as one batch, to a thread pool work item that runs their continuations one after the other.
/// While it does, the dispatcher holds the send path ("corked"), so the commands those continuations submit leave in
/// one socket write when the batch ends, not one write each. A queue at depth 32 thus costs one thread hand-off and
/// one send per socket read instead of one per command, which on a small machine is most of the CPU per I/O.
/// </summary>
internal sealed partial class QueueConnection
{
    private readonly object _dispatchLock = new();
    private readonly CompletionDispatcher _dispatcher;

    // Completed by the current socket read (receive loop only); handed over before the loop waits for more bytes.
    private readonly CommandSlot[] _completed;
    private int _completedCount;

    // Handed over and waiting for a dispatcher (under _dispatchLock); dispatchers running; when one last made progress.
    private readonly Queue<CommandSlot> _ready;
    private int _dispatchers;
    private long _dispatchProgressAt;

    // When the dispatcher corked the send path (Environment.TickCount64), 0 when it has not; see CheckCork.
    private long _corkedAt;

    /// <summary>A command completed by the receive loop; its caller is signalled with the rest of this read's.</summary>
    internal void DeferCompletion(CommandSlot slot) => _completed[_completedCount++] = slot;

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
                _dispatchProgressAt = Environment.TickCount64;
            }
        }

        Array.Clear(_completed, 0, _completedCount);
        _completedCount = 0;
        if (start)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_dispatcher, preferLocal: false);
        }
    }

    private void RunDispatcher()
    {
        while (true)
        {
            // One round signals what is ready now, corked; what arrives meanwhile is the next round's.
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

            var corked = Cork();
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

                        _dispatchProgressAt = Environment.TickCount64;
                    }

                    slot.Signal();
                }
            }
            finally
            {
                Uncork(corked);
            }
        }
    }

    // A continuation that blocks (say, waiting synchronously for a command it just submitted) holds up the dispatcher
    // running it. The timeout timer starts another when completions have waited longer than one of its ticks, so the
    // blocked caller's own completion is delivered.
    private void CheckDispatch(long now, long tickMilliseconds)
    {
        bool start;
        lock (_dispatchLock)
        {
            start = _ready.Count > 0 && _dispatchers > 0 && now - _dispatchProgressAt >= tickMilliseconds;
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

    // Takes the send path when it is idle, so that what the continuations submit is queued, not sent one by one.
    private bool Cork()
    {
        lock (_sendQueue)
        {
            if (_sending)
            {
                // Someone is sending already and will drain what the continuations queue.
                return false;
            }

            _sending = true;
            Volatile.Write(ref _corkedAt, Environment.TickCount64);
            return true;
        }
    }

    private void Uncork(bool corked)
    {
        // The timeout timer may have taken the send path over (CheckCork): then it is not ours to drain.
        if (corked && Interlocked.Exchange(ref _corkedAt, 0) != 0)
        {
            _ = DrainAsync();
        }
    }

    // A continuation that blocks (say, waiting synchronously for a command it just submitted) would hold the cork and
    // with it its own command. The timeout timer takes over the send path of a cork older than one of its ticks.
    // (The cork is taken once per dispatcher run, which covers a whole batch.)
    private void CheckCork(long now, long tickMilliseconds)
    {
        var corkedAt = Volatile.Read(ref _corkedAt);
        if (corkedAt != 0 && now - corkedAt >= tickMilliseconds && Interlocked.CompareExchange(ref _corkedAt, 0, corkedAt) == corkedAt)
        {
            _ = DrainAsync();
        }
    }

    private sealed class CompletionDispatcher(QueueConnection connection) : IThreadPoolWorkItem
    {
        public void Execute() => connection.RunDispatcher();
    }
}
