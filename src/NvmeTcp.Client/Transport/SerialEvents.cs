namespace NvmeTcp.Client.Transport;

/// <summary>
/// Raises events on the thread pool one at a time, in the order they were posted, so that a handler never sees a
/// later state before an earlier one and never runs on a loop or under a lock of ours.
/// </summary>
internal sealed class SerialEvents : IThreadPoolWorkItem
{
    private readonly Queue<Action> _pending = new();
    private bool _running;

    /// <summary>Queues <paramref name="raise"/> after every event posted before it.</summary>
    public void Post(Action raise)
    {
        lock (_pending)
        {
            _pending.Enqueue(raise);
            if (_running)
            {
                return;
            }

            _running = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <inheritdoc/>
    public void Execute()
    {
        while (true)
        {
            Action raise;
            lock (_pending)
            {
                if (!_pending.TryDequeue(out raise!))
                {
                    _running = false;
                    return;
                }
            }

            // A handler's exception is the application's bug and ends the process, as from any thread-pool callback.
            raise();
        }
    }
}
