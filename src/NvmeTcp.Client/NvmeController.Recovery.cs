using Microsoft.Extensions.Logging;
using NvmeTcp.Client.Core;
using NvmeTcp.Client.Diagnostics;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client;

/// <summary>
/// Failure and reconnect, with the Linux host's knobs (reconnect_delay, ctrl_loss_tmo, fast_io_fail_tmo): when any
/// queue of the association fails (socket loss, protocol violation, command timeout, missing keep-alive), every queue
/// is torn down, the commands in flight fail with a retryable error, and the whole bring-up runs again with the same
/// host ID until it succeeds or the controller loss timeout expires.
/// </summary>
/// <remarks>
/// Commands in flight at a failure are never replayed: the controller may already have executed them, and a write
/// replayed after a newer write to the same blocks would undo it. The caller sees a retryable error and decides.
/// New commands wait for the controller to be live again, or fail once <see cref="NvmeTcpOptions.FastIoFailTimeout"/>
/// has passed since the failure.
/// </remarks>
public sealed partial class NvmeController
{
    private readonly object _stateLock = new();
    private NvmeControllerState _state = NvmeControllerState.Connecting;
    private TaskCompletionSource _live = NewSignal();
    private TaskCompletionSource _fastIoFail = NewSignal();
    private Exception? _lastFailure;
    private Task _recovery = Task.CompletedTask;

    // StateChanged and AsyncEvent, raised in order, one at a time.
    private readonly SerialEvents _events = new();

    /// <summary>Raised on every state change, in order, one at a time, from a thread-pool thread.</summary>
    public event EventHandler<NvmeControllerStateChangedEventArgs>? StateChanged;

    /// <summary>The association's state.</summary>
    public NvmeControllerState State
    {
        get
        {
            lock (_stateLock)
            {
                return _state;
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Faults a signal and marks its exception observed: the signals are faulted whether or not any caller waits on
    // them (every Dispose faults _live; WaitUntilLiveAsync observes only the one of the two that won), and an
    // unobserved faulted task raises TaskScheduler.UnobservedTaskException when it is finalized.
    private static void FaultSignal(TaskCompletionSource signal, Exception error)
    {
        signal.TrySetException(error);
        _ = signal.Task.Exception;
    }

    // Publishes a brought-up association (the first, or one rebuilt after a failure) and starts its background work.
    private void BecomeLive(Association association)
    {
        Volatile.Write(ref _current, association);
        foreach (var connection in association.Connections)
        {
            connection.FailureObserver = OnConnectionFailed;
        }

        var tasks = new List<Task>
        {
            StartKeepAlive(association),
            Background(() => WatchAsync(association)),
        };
        tasks.AddRange(StartAsyncEvents(association));
        association.BackgroundWork = Task.WhenAll(tasks);
        SetState(NvmeControllerState.Live, null);
    }

    // The first queue of the association to fail starts recovery.
    private async Task WatchAsync(Association association)
    {
        var token = association.Stopping.Token;
        var connections = association.Connections;
        var stopped = Task.Delay(Timeout.InfiniteTimeSpan, _time, token);
        var failed = await Task.WhenAny(connections.Select(c => c.Completion).Append(stopped)).ConfigureAwait(false);
        if (failed == stopped)
        {
            return;
        }

        // Two paths on purpose: a failing connection reports itself synchronously (OnConnectionFailed), so new commands
        // wait at once; this watcher catches what that cannot, a queue that failed before its observer was attached or
        // before the association became Live.
        var connection = connections.First(c => c.Completion == failed);
        OnConnectionFailed(connection, connection.Failure ?? new NvmeTransportException($"Queue {connection.QueueId} closed.", connection.QueueId, isRetryable: true));
    }

    // The first failure of a live association's queue: leave Live at once (so new commands wait), then recover.
    private void OnConnectionFailed(QueueConnection connection, Exception reason)
    {
        lock (_stateLock)
        {
            var association = Current;
            if (_state != NvmeControllerState.Live || Volatile.Read(ref _disposed) != 0
                || Array.IndexOf(association.Connections, connection) < 0)
            {
                return;
            }

            // Inside the lock (Monitor is re-entrant): of two queues failing at once, exactly one starts recovery.
            SetState(NvmeControllerState.Resetting, reason);
            Log.QueueFailed(_logger, connection.QueueId, reason.Message);
            _recovery = Background(() => RecoverAsync(association, reason));
        }
    }

    private async Task RecoverAsync(Association failed, Exception reason)
    {
        _lastFailure = reason;
        var failedAt = _time.GetTimestamp();

        // Every queue goes down; only when each has completed its pending commands (no buffer in use) do we go on.
        await failed.CloseAsync(new NvmeTransportException($"Queue reset: the association with {failed.EndPoint} failed ({reason.Message}).", 0, isRetryable: true, reason)).ConfigureAwait(false);

        if (_options.FastIoFailTimeout is { } fastIoFail)
        {
            _ = Background(() => FailWaitingIoAfterAsync(fastIoFail, reason));
        }

        var lossTimeout = _options.ControllerLossTimeout;
        var forever = lossTimeout == Timeout.InfiniteTimeSpan;
        if (!forever && lossTimeout <= TimeSpan.Zero)
        {
            await DeleteAsync(reason).ConfigureAwait(false);
            return;
        }

        var attempt = 0;
        while (Volatile.Read(ref _disposed) == 0)
        {
            // As Linux: wait reconnect_delay, and give up when the next attempt would start past ctrl_loss_tmo.
            var elapsed = _time.GetElapsedTime(failedAt);
            if (!forever && elapsed + _options.ReconnectDelay > lossTimeout)
            {
                await DeleteAsync(new NvmeTransportException(
                    $"Controller at {failed.EndPoint}: no reconnect within ctrl_loss_tmo ({lossTimeout.TotalSeconds:0.#} s) after {attempt} attempts; last error: {reason.Message}",
                    0,
                    isRetryable: false,
                    reason)).ConfigureAwait(false);
                return;
            }

            SetState(NvmeControllerState.Connecting, reason);
            try
            {
                await Task.Delay(_options.ReconnectDelay, _time, _stop.Token).ConfigureAwait(false);
                attempt++;
                var association = await ReconnectAttemptAsync(failed.EndPoint, attempt).ConfigureAwait(false);
                lock (_stateLock)
                {
                    if (Volatile.Read(ref _disposed) == 0)
                    {
                        BecomeLive(association);
                        return;
                    }
                }

                // Disposed while it was being brought up: nobody will use it.
                await association.CloseAsync(Deleted()).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (NvmeException e) when (!e.IsTransient)
            {
                // A controller that refuses with DNR (e.g. this host is no longer allowed), or demands authentication
                // this host cannot give, will refuse again.
                await DeleteAsync(e).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is NvmeException or System.Net.Sockets.SocketException)
            {
                Log.ReconnectFailed(_logger, attempt, failed.EndPoint, e.Message);
                reason = e;
                _lastFailure = e;
            }
        }
    }

    // One attempt, in its own activity and counted by outcome.
    private async Task<Association> ReconnectAttemptAsync(System.Net.EndPoint endPoint, int attempt)
    {
        using var activity = Telemetry.Start("nvme reconnect", endPoint, _options.SubsystemNqn, System.Diagnostics.ActivityKind.Internal);
        activity?.SetTag("nvme.reconnect.attempt", attempt);
        try
        {
            var association = await BringUpAsync(_options, endPoint, _logger, _stop.Token).ConfigureAwait(false);
            Telemetry.Reconnects.Add(1, new KeyValuePair<string, object?>("nvme.outcome", Telemetry.Success));
            return association;
        }
        catch (Exception e)
        {
            Telemetry.Fail(activity, e);
            Telemetry.Reconnects.Add(1, new KeyValuePair<string, object?>("nvme.outcome", Telemetry.Failure));
            Telemetry.CountError(e, "reconnect");
            throw;
        }
    }

    private async Task FailWaitingIoAfterAsync(TimeSpan delay, Exception reason)
    {
        var signal = _fastIoFail;
        try
        {
            await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        lock (_stateLock)
        {
            if (_state is NvmeControllerState.Live)
            {
                return;
            }
        }

        FaultSignal(signal, new NvmeTransportException(
            $"Controller at {RemoteEndPoint} is not live {delay.TotalSeconds:0.#} s after it failed (fast_io_fail_tmo); the I/O was not sent. Last error: {reason.Message}",
            0,
            isRetryable: true,
            reason));
    }

    private async Task DeleteAsync(Exception reason)
    {
        _lastFailure = reason;
        Telemetry.Unregister(this);
        SetState(NvmeControllerState.Deleting, reason);
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        SetState(NvmeControllerState.Deleted, reason);
    }

    private async Task StopRecoveryAsync()
    {
        try
        {
            await _recovery.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or NvmeException)
        {
        }
    }

    /// <summary>Waits until the controller is live; throws when it is deleted or fast_io_fail_tmo has expired.</summary>
    internal async Task WaitUntilLiveAsync(CancellationToken cancellationToken)
    {
        Task live;
        Task fastFail;
        lock (_stateLock)
        {
            if (_state == NvmeControllerState.Live)
            {
                return;
            }

            if (_state is NvmeControllerState.Deleting or NvmeControllerState.Deleted)
            {
                throw Deleted();
            }

            live = _live.Task;
            fastFail = _fastIoFail.Task;
        }

        await (await Task.WhenAny(live, fastFail).WaitAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private static string StateName(NvmeControllerState state) => state switch
    {
        NvmeControllerState.Live => "live",
        NvmeControllerState.Resetting => "resetting",
        NvmeControllerState.Connecting => "connecting",
        NvmeControllerState.Deleting => "deleting",
        NvmeControllerState.Deleted => "deleted",
        _ => state.ToString().ToLowerInvariant(),
    };

    private NvmeTransportException Deleted() => new NvmeTransportException(
        $"Controller at {RemoteEndPoint} was deleted{(_lastFailure is { } e ? $": {e.Message}" : string.Empty)}.",
        0,
        isRetryable: false,
        _lastFailure);

    private void SetState(NvmeControllerState next, Exception? reason)
    {
        NvmeControllerState previous;
        lock (_stateLock)
        {
            previous = _state;
            if (previous == next || previous == NvmeControllerState.Deleted)
            {
                return;
            }

            _state = next;
            if (Telemetry.StateChanges.Enabled)
            {
                Telemetry.StateChanges.Add(1, new KeyValuePair<string, object?>("nvme.controller.state", StateName(next)));
            }

            if (next == NvmeControllerState.Live)
            {
                _live.TrySetResult();
                _fastIoFail = NewSignal();
            }
            else if (previous == NvmeControllerState.Live)
            {
                _live = NewSignal();
            }

            if (next is NvmeControllerState.Deleting or NvmeControllerState.Deleted)
            {
                FaultSignal(_live, Deleted());
                FaultSignal(_fastIoFail, Deleted());
            }

            // Posted under the lock, so events leave in the order the state changed.
            if (StateChanged is { } handler)
            {
                var args = new NvmeControllerStateChangedEventArgs(previous, next, reason);
                _events.Post(() => handler(this, args));
            }
        }

        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.StateChanged(_logger, ControllerId, previous, next, reason?.Message ?? string.Empty);
        }
    }
}
