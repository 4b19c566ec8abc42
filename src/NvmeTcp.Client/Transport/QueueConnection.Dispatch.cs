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
    private CommandSlot[] _completed;
    private int _completedCount;

    // Handed over, waiting for the dispatcher (under _dispatchLock), and the dispatcher's current batch.
    private CommandSlot[] _ready;
    private CommandSlot[] _dispatching;
    private int _readyCount;
    private bool _dispatcherQueued;

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

        bool queue;
        lock (_dispatchLock)
        {
            Array.Copy(_completed, 0, _ready, _readyCount, _completedCount);
            _readyCount += _completedCount;
            queue = !_dispatcherQueued;
            _dispatcherQueued = true;
        }

        Array.Clear(_completed, 0, _completedCount);
        _completedCount = 0;
        if (queue)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_dispatcher, preferLocal: false);
        }
    }

    private void RunDispatcher()
    {
        while (true)
        {
            int count;
            lock (_dispatchLock)
            {
                if (_readyCount == 0)
                {
                    _dispatcherQueued = false;
                    return;
                }

                (_ready, _dispatching) = (_dispatching, _ready);
                count = _readyCount;
                _readyCount = 0;
            }

            var corked = Cork();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var slot = _dispatching[i];
                    _dispatching[i] = null!;
                    slot.Signal();
                }
            }
            finally
            {
                Uncork(corked);
            }
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
