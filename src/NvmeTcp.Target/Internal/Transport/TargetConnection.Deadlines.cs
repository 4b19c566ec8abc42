namespace NvmeTcp.Target.Internal.Transport;

/// <summary>
/// The deadlines a connection keeps on <see cref="NvmeTargetOptions.TimeProvider"/>: its ICReq must arrive within
/// <see cref="NvmeTargetOptions.IcReqTimeout"/> of the accept; a PDU, once its first byte has arrived, whole within
/// <see cref="NvmeTargetOptions.PduTimeout"/> (a host trickling a byte a second is not held for ever); and a send the
/// host's window holds up must move within the same time (a host that never reads its replies is not held for ever
/// either, with the bytes buffered for it). Idle time between PDUs is the keep-alive timer's business, not this. One
/// timer, armed only when a deadline starts while it is idle, so the receive path pays a field write per PDU and a
/// timer change per partial read or stalled send at most.
/// </summary>
internal sealed partial class TargetConnection
{
    private ITimer? _deadlineTimer;
    private long _acceptedAt;
    private long _partialSince;
    private long _sendStalledSince;
    private int _timerArmed;
    private volatile bool _initialized;

    private TimeProvider Time => _target.Options.TimeProvider;

    private void StartDeadlines()
    {
        _acceptedAt = Time.GetTimestamp();
        _deadlineTimer = Time.CreateTimer(static s => ((TargetConnection)s!).OnDeadlineTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (_target.Options.IcReqTimeout > TimeSpan.Zero)
        {
            Volatile.Write(ref _timerArmed, 1);
            _deadlineTimer.Change(_target.Options.IcReqTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>On the receive loop, before waiting for more bytes: a PDU has started and not ended.</summary>
    private void NotePartialPdu()
    {
        if (Volatile.Read(ref _partialSince) != 0 || _target.Options.PduTimeout <= TimeSpan.Zero)
        {
            return;
        }

        Volatile.Write(ref _partialSince, Time.GetTimestamp());
        if (Interlocked.CompareExchange(ref _timerArmed, 1, 0) == 0)
        {
            _deadlineTimer?.Change(_target.Options.PduTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Under the send lock: a socket send did not complete at once.</summary>
    private void NoteSendStalled()
    {
        if (_target.Options.PduTimeout <= TimeSpan.Zero)
        {
            return;
        }

        Volatile.Write(ref _sendStalledSince, Time.GetTimestamp());
        if (Interlocked.CompareExchange(ref _timerArmed, 1, 0) == 0)
        {
            _deadlineTimer?.Change(_target.Options.PduTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Under the send lock: the stalled send completed (or failed).</summary>
    private void NoteSendMoved() => Volatile.Write(ref _sendStalledSince, 0);

    /// <summary>On the receive loop: a whole PDU was taken (or reading stopped for back-pressure); no PDU is pending.</summary>
    private void NotePduBoundary() => Volatile.Write(ref _partialSince, 0);

    private void OnDeadlineTimer()
    {
        try
        {
            CheckDeadlines();
        }
        catch (Exception e)
        {
            _target.Log.UnhandledError(QueueId, RemoteEndPoint, e);
        }
    }

    private void CheckDeadlines()
    {
        if (Volatile.Read(ref _closing) != 0)
        {
            return;
        }

        var now = Time.GetTimestamp();
        if (!_initialized && _target.Options.IcReqTimeout > TimeSpan.Zero)
        {
            var waited = Time.GetElapsedTime(_acceptedAt, now);
            if (waited >= _target.Options.IcReqTimeout)
            {
                Expire("IcReqTimeout", $"no ICReq within {_target.Options.IcReqTimeout.TotalSeconds:0.###} s of the accept");
                return;
            }

            _deadlineTimer?.Change(_target.Options.IcReqTimeout - waited, Timeout.InfiniteTimeSpan);
            return;
        }

        var since = Volatile.Read(ref _partialSince);
        var stalled = Volatile.Read(ref _sendStalledSince);
        if (since != 0 || stalled != 0)
        {
            var waited = since == 0 ? TimeSpan.Zero : Time.GetElapsedTime(since, now);
            var blocked = stalled == 0 ? TimeSpan.Zero : Time.GetElapsedTime(stalled, now);
            if (waited >= _target.Options.PduTimeout)
            {
                Expire("PduTimeout", $"a PDU started {waited.TotalSeconds:0.###} s ago is still incomplete");
                return;
            }

            if (blocked >= _target.Options.PduTimeout)
            {
                Expire("SendTimeout", $"the host has taken nothing sent to it for {blocked.TotalSeconds:0.###} s");
                return;
            }

            _deadlineTimer?.Change(_target.Options.PduTimeout - (waited > blocked ? waited : blocked), Timeout.InfiniteTimeSpan);
            return;
        }

        // Nothing pending: disarm, then look again, since the loops arm only a timer they see idle.
        Volatile.Write(ref _timerArmed, 0);
        if ((Volatile.Read(ref _partialSince) != 0 || Volatile.Read(ref _sendStalledSince) != 0) && Interlocked.CompareExchange(ref _timerArmed, 1, 0) == 0)
        {
            _deadlineTimer?.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private void Expire(string rule, string message)
    {
        _target.Testing.AddViolation(new NvmeTargetViolation(QueueId, rule, 0, 0, 0, message));
        _target.Log.LimitReached(rule, RemoteEndPoint, message);
        Abort();
    }

    private void StopDeadlines() => _deadlineTimer?.Dispose();
}
