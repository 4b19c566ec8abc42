using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Target.Internal.Execution;

namespace NvmeTcp.Target.Internal.Transport;

/// <summary>
/// Commands that complete off the receive loop: an Asynchronous Event Request waits for an event raised on another
/// thread, and a command on a file namespace runs its disk I/O on the thread pool, since nothing slow may run on a
/// receive loop (other commands and connections would wait behind it). Either way the command's slot is freed at once
/// and its CID stays taken, in <c>_deferredCids</c>, until it completes; the CID leaves that table before its CQE is
/// queued, so a host that reuses it on seeing the CQE never trips the duplicate check. Every execution is counted and
/// awaited before the connection frees what it holds; none is left to run unobserved.
/// </summary>
internal sealed partial class TargetConnection
{
    private const byte DeferredAsyncEvent = 1;
    private const byte DeferredExecution = 2;

    private readonly TaskCompletionSource _executionsDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _executions;
    private int _deferredCount;
    private int _receiveStopped;

    /// <inheritdoc/>
    public bool CompleteDeferred(ushort cid, NvmeStatus status, uint dw0)
    {
        if (!RemoveDeferred(cid, DeferredAsyncEvent))
        {
            return false;
        }

        SendResponse(cid, status, dw0, 0);
        return true;
    }

    /// <summary>On the receive loop: the CID leaves the command table for <c>_deferredCids</c>, which stays thread-safe.</summary>
    void ITargetQueue.Defer(TargetRequest request)
    {
        var command = (TargetCommand)request;
        AddDeferred(command.Cid, DeferredAsyncEvent);
        ReturnCommand(command);
    }

    void ITargetQueue.RunDeferred<TState>(TargetRequest request, TState state, Action<TState, DeferredCommand> work)
    {
        var command = (TargetCommand)request;
        var cid = command.Cid;
        var opcode = command.Sqe.Opcode;
        AddDeferred(cid, DeferredExecution);
        ReturnCommand(command);
        Interlocked.Increment(ref _executions);
        _ = Task.Run(() => RunExecution(state, work, new DeferredCommand(this, cid), opcode));
    }

    bool ITargetQueue.CompleteExecution(ushort cid, NvmeStatus status)
    {
        if (!RemoveDeferred(cid, DeferredExecution))
        {
            return false;
        }

        if (!status.IsSuccess)
        {
            Controller?.RecordError((ushort)Math.Max(0, QueueId), cid, status);
        }

        SendResponse(cid, status, 0, 0);
        return true;
    }

    void ITargetQueue.SendExecutionData<TState>(ushort cid, int length, TState state, C2HFill<TState> fill)
    {
        // No SUCCESS flag here: the CID must leave _deferredCids before the last PDU that completes it is queued, so
        // the data goes first and a CapsuleResp ends it.
        EnqueueC2HData(cid, length, state, fill, success: false);
        ((ITargetQueue)this).CompleteExecution(cid, NvmeStatus.Success);
    }

    private void RunExecution<TState>(TState state, Action<TState, DeferredCommand> work, DeferredCommand command, byte opcode)
    {
        try
        {
            work(state, command);
        }
        catch (Exception e)
        {
            _target.Log.CommandCrashed(QueueId, opcode, command.Cid, e);
            command.Complete(Status.Of(StatusCodes.InternalError));
        }
        finally
        {
            // Dekker with WaitForExecutionsAsync: decrement (a full fence), then read the flag it sets first.
            if (Interlocked.Decrement(ref _executions) == 0 && Volatile.Read(ref _receiveStopped) != 0)
            {
                _executionsDone.TrySetResult();
            }
        }
    }

    /// <summary>CIDs deferred now; kept apart because ConcurrentDictionary.Count takes every lock of the table.</summary>
    private int DeferredCount => Volatile.Read(ref _deferredCount);

    private void AddDeferred(ushort cid, byte kind)
    {
        _deferredCids[cid] = kind;
        Interlocked.Increment(ref _deferredCount);
    }

    /// <summary>Takes a CID out of the table if it is deferred as <paramref name="kind"/>; any thread.</summary>
    private bool RemoveDeferred(ushort cid, byte kind)
    {
        if (!_deferredCids.TryRemove(new KeyValuePair<ushort, byte>(cid, kind)))
        {
            return false;
        }

        Interlocked.Decrement(ref _deferredCount);
        return true;
    }

    /// <summary>Once the loops have stopped: waits until no execution still uses the namespaces or queues PDUs.</summary>
    private Task WaitForExecutionsAsync()
    {
        Interlocked.Exchange(ref _receiveStopped, 1);
        return Volatile.Read(ref _executions) == 0 ? Task.CompletedTask : _executionsDone.Task;
    }
}
