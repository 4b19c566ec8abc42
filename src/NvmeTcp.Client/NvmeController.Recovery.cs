using System.Net;
using Microsoft.Extensions.Logging;
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
    private QueueConnection[] _ioConnections = [];
    private CancellationTokenSource _association = new();
    private Task _associationTasks = Task.CompletedTask;
    private Task _recovery = Task.CompletedTask;
    private EndPoint? _endPoint;

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

    private void BecomeLive(EndPoint endPoint)
    {
        _endPoint = endPoint;
        foreach (var connection in (QueueConnection[])[_admin, .. _ioConnections])
        {
            connection.FailureObserver = OnConnectionFailed;
        }

        var token = _association.Token;
        var tasks = new List<Task>
        {
            StartKeepAlive((uint)_options.KeepAliveTimeout.TotalMilliseconds, _admin, [_admin, .. _ioConnections], token),
            Background(() => WatchAsync([_admin, .. _ioConnections], token)),
        };
        tasks.AddRange(StartAsyncEvents(_admin, token));
        _associationTasks = Task.WhenAll(tasks);
        SetState(NvmeControllerState.Live, null);
    }

    // The first queue of the association to fail starts recovery.
    private async Task WatchAsync(QueueConnection[] association, CancellationToken token)
    {
        var stopped = Task.Delay(Timeout.Infinite, token);
        var failed = await Task.WhenAny(association.Select(c => c.Completion).Append(stopped)).ConfigureAwait(false);
        if (failed == stopped)
        {
            return;
        }

        // Two paths on purpose: a failing connection reports itself synchronously (OnConnectionFailed), so new commands
        // wait at once; this watcher catches what that cannot, a queue that failed before its observer was attached or
        // before the association became Live.
        var connection = association.First(c => c.Completion == failed);
        OnConnectionFailed(connection, connection.Failure ?? new NvmeTransportException($"Queue {connection.QueueId} closed.", connection.QueueId, isRetryable: true));
    }

    // The first failure of a live association's queue: leave Live at once (so new commands wait), then recover.
    private void OnConnectionFailed(QueueConnection connection, Exception reason)
    {
        lock (_stateLock)
        {
            if (_state != NvmeControllerState.Live || Volatile.Read(ref _disposed) != 0
                || (connection != _admin && Array.IndexOf(_ioConnections, connection) < 0))
            {
                return;
            }

            // Inside the lock (Monitor is re-entrant): of two queues failing at once, exactly one starts recovery.
            SetState(NvmeControllerState.Resetting, reason);
        }

        Log.QueueFailed(_logger, connection.QueueId, reason.Message);
        _recovery = Background(() => RecoverAsync(reason));
    }

    private async Task RecoverAsync(Exception reason)
    {
        _lastFailure = reason;
        SetState(NvmeControllerState.Resetting, reason);
        var failedAt = Environment.TickCount64;
        await TearDownAssociationAsync(reason).ConfigureAwait(false);

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
            var elapsed = TimeSpan.FromMilliseconds(Environment.TickCount64 - failedAt);
            if (!forever && elapsed + _options.ReconnectDelay > lossTimeout)
            {
                await DeleteAsync(new NvmeTransportException(
                    $"Controller at {_endPoint}: no reconnect within ctrl_loss_tmo ({lossTimeout.TotalSeconds:0.#} s) after {attempt} attempts; last error: {reason.Message}",
                    0,
                    isRetryable: false,
                    reason)).ConfigureAwait(false);
                return;
            }

            SetState(NvmeControllerState.Connecting, reason);
            try
            {
                await Task.Delay(_options.ReconnectDelay, _stop.Token).ConfigureAwait(false);
                attempt++;
                await ReconnectAsync(_stop.Token).ConfigureAwait(false);
                BecomeLive(_endPoint!);
                return;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (NvmeException e) when (e is NvmeStatusException { Status.DoNotRetry: true } or NvmeTransportException { IsRetryable: false })
            {
                // A controller that refuses with DNR (e.g. this host is no longer allowed), or demands authentication
                // this host cannot give, will refuse again.
                await DeleteAsync(e).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is NvmeException or System.Net.Sockets.SocketException)
            {
                Log.ReconnectFailed(_logger, attempt, _endPoint, e.Message);
                reason = e;
                _lastFailure = e;
            }
        }
    }

    private async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        var admin = await QueueConnection.ConnectAsync(_endPoint!, AdminQueueOptions(_options), cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _admin, admin);
        try
        {
            await BringUpAsync(_endPoint!, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A bring-up that failed after its I/O queues connected (reading the namespaces, say) leaves them in
            // _ioConnections; close them too, or each failed attempt would leave sockets open until the target closes
            // them. Those of the torn-down association are already closed; closing them again does nothing.
            foreach (var connection in _ioConnections)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            await admin.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // Every queue goes down; only when each has completed its pending commands (no buffer in use) do we go on.
    private async Task TearDownAssociationAsync(Exception reason)
    {
        await _association.CancelAsync().ConfigureAwait(false);
        var reset = new NvmeTransportException($"Queue reset: the association with {_endPoint} failed ({reason.Message}).", 0, isRetryable: true, reason);
        QueueConnection[] connections = [Volatile.Read(ref _admin), .. _ioConnections];
        foreach (var connection in connections)
        {
            connection.Fail(reset);
        }

        foreach (var connection in connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await _associationTasks.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or NvmeException)
        {
        }

        _association.Dispose();
        _association = new CancellationTokenSource();
    }

    private async Task FailWaitingIoAfterAsync(TimeSpan delay, Exception reason)
    {
        var signal = _fastIoFail;
        try
        {
            await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
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
            $"Controller at {_endPoint} is not live {delay.TotalSeconds:0.#} s after it failed (fast_io_fail_tmo); the I/O was not sent. Last error: {reason.Message}",
            0,
            isRetryable: true,
            reason));
    }

    private async Task DeleteAsync(Exception reason)
    {
        _lastFailure = reason;
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

        await _association.CancelAsync().ConfigureAwait(false);
        try
        {
            await _associationTasks.ConfigureAwait(false);
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

    private NvmeTransportException Deleted() => new NvmeTransportException(
        $"Controller at {_endPoint} was deleted{(_lastFailure is { } e ? $": {e.Message}" : string.Empty)}.",
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
