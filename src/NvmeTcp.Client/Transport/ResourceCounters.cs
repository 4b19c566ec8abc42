namespace NvmeTcp.Client.Transport;

/// <summary>
/// What a controller (or a standalone queue connection) holds: open sockets, background work still running, and
/// command slots not yet back in their queue's free list. Tests check that all three return to zero after a fault and
/// a dispose ("no leaked socket, task or buffer").
/// </summary>
/// <remarks>
/// Counted per lifetime (a socket, a loop, a connection), never per command, so that the I/O path pays nothing:
/// slots are counted only once their connection has closed, inside the lock that already guards the free list.
/// A slot comes back only when its caller has the result and no socket operation can touch the caller's buffer,
/// so zero slots also means no caller buffer is still in use.
/// </remarks>
internal sealed class ResourceCounters
{
    private int _sockets;
    private int _tasks;
    private int _slots;

    /// <summary>Sockets opened and not yet disposed.</summary>
    public int Sockets => Volatile.Read(ref _sockets);

    /// <summary>Background work started and not finished: receive loops, send paths, timeout timers, keep-alive, watchers, asynchronous event loops, recovery.</summary>
    public int Tasks => Volatile.Read(ref _tasks);

    /// <summary>Command slots of closed connections not yet returned (their caller has not taken the result, or a loop still uses the buffer).</summary>
    public int Slots => Volatile.Read(ref _slots);

    /// <summary>Whether nothing is held.</summary>
    public bool IsIdle => Sockets == 0 && Tasks == 0 && Slots == 0;

    public void SocketOpened() => Interlocked.Increment(ref _sockets);

    public void SocketClosed() => Interlocked.Decrement(ref _sockets);

    public void TaskStarted() => Interlocked.Increment(ref _tasks);

    public void TaskEnded() => Interlocked.Decrement(ref _tasks);

    public void SlotsHeld(int count) => Interlocked.Add(ref _slots, count);

    public void SlotReturned() => Interlocked.Decrement(ref _slots);

    /// <inheritdoc/>
    public override string ToString() => $"{Sockets} sockets, {Tasks} background tasks, {Slots} command slots held";
}
