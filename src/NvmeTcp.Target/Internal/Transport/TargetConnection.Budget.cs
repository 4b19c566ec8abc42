using System.Buffers;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Internal.Transport;

/// <summary>
/// What one connection may hold for a host, and back-pressure when it holds that much. Replies queued and not yet
/// written are counted in bytes and in commands (<see cref="NvmeTargetOptions.MaxBufferedBytesPerConnection"/>,
/// <see cref="NvmeTargetOptions.MaxBufferedCommandsPerConnection"/>): past either bound the receive loop sends what it
/// has and reads no more PDUs until the host has taken enough, so a host that pipelines and never reads costs a bound,
/// not what it asked for. Host data solicited by R2T is bounded in bytes too: a write whose buffer would pass the bound
/// waits, unsolicited, until earlier writes have their data (the controller decides when to send an R2T).
/// </summary>
internal sealed partial class TargetConnection
{
    private readonly Lock _drainLock = new();
    private readonly Queue<TargetCommand> _waitingForR2T = new();
    private long _queuedBytes;
    private int _queuedCompletions;
    private long _solicitedBytes;
    private TaskCompletionSource? _drainWaiter;

    /// <summary>Bytes of PDUs queued and not yet written (tests and logs).</summary>
    internal long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    private bool OverBudget =>
        Interlocked.Read(ref _queuedBytes) > _target.Options.MaxBufferedBytesPerConnection
        || Volatile.Read(ref _queuedCompletions) > _target.Options.MaxBufferedCommandsPerConnection;

    private static bool IsCompletion(in OutgoingPdu pdu) =>
        pdu.Type == PduType.CapsuleResp || (pdu.Type == PduType.C2HData && ((PduFlags)pdu.Buffer[1] & PduFlags.Success) != 0);

    /// <summary>Counts a PDU as queued.</summary>
    private void Account(in OutgoingPdu pdu)
    {
        Interlocked.Add(ref _queuedBytes, pdu.Length);
        if (IsCompletion(pdu))
        {
            Interlocked.Increment(ref _queuedCompletions);
        }
    }

    /// <summary>A queued PDU was written (or dropped): its buffer goes back to the pool, and a waiting receive loop may go on.</summary>
    private void Release(in OutgoingPdu pdu)
    {
        ArrayPool<byte>.Shared.Return(pdu.Buffer);
        Interlocked.Add(ref _queuedBytes, -pdu.Length);
        if (IsCompletion(pdu))
        {
            Interlocked.Decrement(ref _queuedCompletions);
        }

        // Dekker with WaitForDrainAsync: the counters are written (a full fence) before the waiter is read, and it
        // publishes the waiter before it reads them, so one of the two sees the other.
        if (Volatile.Read(ref _drainWaiter) is not null)
        {
            lock (_drainLock)
            {
                if (_drainWaiter is { } waiter && !OverBudget)
                {
                    _drainWaiter = null;
                    waiter.TrySetResult();
                }
            }
        }
    }

    /// <summary>
    /// On the receive loop, between PDUs: while over budget, sends what the loop has batched (which waits for the host
    /// to read) and then waits for the send loop to drain what other threads queued. Ends at once when aborted.
    /// </summary>
    private async ValueTask<bool> WaitForDrainAsync()
    {
        if (!await FlushBatchAsync().ConfigureAwait(false))
        {
            return false;
        }

        // Not reading is our choice here, not the host's slowness: no PDU deadline runs meanwhile.
        NotePduBoundary();
        var logged = false;
        while (OverBudget && Volatile.Read(ref _closing) == 0)
        {
            if (!logged)
            {
                logged = true;
                _target.Log.BackPressure(QueueId, RemoteEndPoint, QueuedBytes, Volatile.Read(ref _queuedCompletions));
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_drainLock)
            {
                _drainWaiter = waiter;
            }

            Interlocked.MemoryBarrier();
            if (!OverBudget)
            {
                lock (_drainLock)
                {
                    _drainWaiter = null;
                }

                break;
            }

            if (_blocking)
            {
                // On the receive thread, which must not continue on another; Abort cancels the wait as it does the await.
                waiter.Task.Wait(_abort.Token);
            }
            else
            {
                await waiter.Task.WaitAsync(_abort.Token).ConfigureAwait(false);
            }
        }

        return Volatile.Read(ref _closing) == 0;
    }

    /// <summary>
    /// Solicits the data of <paramref name="command"/> now if its buffer fits what is already solicited (or nothing
    /// is), else queues it behind the others; R2Ts go out in arrival order either way.
    /// </summary>
    private void SolicitOrQueue(TargetCommand command, uint length)
    {
        if (_waitingForR2T.Count > 0 || !FitsSolicited(length))
        {
            command.AwaitR2T(length);
            _waitingForR2T.Enqueue(command);
            return;
        }

        Solicit(command, length);
    }

    /// <summary>A command's data has all arrived (or it ended): its solicited bytes are free, and queued writes may go.</summary>
    private void EndSolicited(TargetCommand command)
    {
        _solicitedBytes -= command.Length;
        while (_waitingForR2T.TryPeek(out var next))
        {
            if (!_outstanding.TryGetValue(next.Cid, out var current) || current != next || !next.IsAwaitingR2T)
            {
                _waitingForR2T.Dequeue(); // completed or reused meanwhile
                continue;
            }

            if (!FitsSolicited(next.PendingLength))
            {
                return;
            }

            _waitingForR2T.Dequeue();
            Solicit(next, next.PendingLength);
        }
    }

    private bool FitsSolicited(uint length) =>
        _solicitedBytes == 0 || _solicitedBytes + length <= _target.Options.MaxBufferedBytesPerConnection;

    private void Solicit(TargetCommand command, uint length)
    {
        _solicitedBytes += length;
        command.RentBuffer(length);
        SendR2Ts(command);
    }
}
