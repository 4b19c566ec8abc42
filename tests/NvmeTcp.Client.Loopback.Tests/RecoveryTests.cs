using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using NvmeTcp.Client.Transport;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>Failure, reconnect and asynchronous events against the in-process target's fault injection.</summary>
public sealed class RecoveryTests : IAsyncLifetime
{
    // What the test's controllers hold; checked for leaks once the test has disposed them.
    private readonly ResourceCounters _resources = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await Leaks.AssertNoneAsync(_resources);

    private NvmeTcpOptions ClientOptions(NvmeTcpTarget target)
    {
        var options = LoopbackTarget.ClientOptions(target);
        options.Resources = _resources;
        return options;
    }

    private NvmeTcpOptions Reconnecting(NvmeTcpTarget target, TimeSpan? lossTimeout = null)
    {
        var options = ClientOptions(target);
        options.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        options.ControllerLossTimeout = lossTimeout ?? TimeSpan.FromSeconds(10);
        return options;
    }

    private static async Task WaitForStateAsync(NvmeController controller, NvmeControllerState state)
    {
        for (var i = 0; i < 200 && controller.State != state; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(state, controller.State);
    }

    [Fact]
    public async Task Connection_reset_fails_in_flight_io_as_retryable_then_reconnects_with_data_intact()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(Reconnecting(target)).WaitAsync(Bound);
        var states = new ConcurrentQueue<NvmeControllerState>();
        controller.StateChanged += (_, e) => states.Enqueue(e.Current);
        var ns = controller.GetNamespace(1);
        var acknowledged = Pattern(65536, 21);
        await controller.IoQueues[0].WriteAsync(ns, 0, acknowledged).AsTask().WaitAsync(Bound);
        var firstControllerId = controller.ControllerId;

        // The next CapsuleResp on queue 1 is never sent: the connection is reset (RST) instead.
        var reset = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Reset });
        var failed = await Assert.ThrowsAsync<NvmeTransportException>(async () => await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound));
        Assert.True(failed.IsRetryable);
        target.Testing.Faults.Remove(reset);

        // New I/O waits for the reconnect rather than failing, on every queue pair the caller holds.
        var back = new byte[acknowledged.Length];
        await controller.IoQueues[0].ReadAsync(ns, 0, back).AsTask().WaitAsync(Bound);
        Assert.Equal(acknowledged, back);
        await controller.IoQueues[1].WriteAsync(ns, 256, acknowledged).AsTask().WaitAsync(Bound);
        Assert.Equal(NvmeControllerState.Live, controller.State);
        Assert.NotEqual(firstControllerId, controller.ControllerId);
        await WaitForEventsAsync(states, NvmeControllerState.Live);
        var seen = states.ToArray();
        Assert.Equal(NvmeControllerState.Resetting, seen[0]);
        Assert.Contains(NvmeControllerState.Connecting, seen);
        Assert.Equal(NvmeControllerState.Live, seen[^1]);
        Assert.Empty(target.Testing.Violations);
    }

    [Fact]
    public async Task State_changes_are_raised_in_order_one_at_a_time()
    {
        // The first handler is held until the controller has gone through Resetting, Connecting and Live again: the
        // later events are raised by then, and must wait for it instead of overlapping or overtaking it.
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(Reconnecting(target)).WaitAsync(Bound);
        var seen = new ConcurrentQueue<NvmeControllerStateChangedEventArgs>();
        using var release = new ManualResetEventSlim();
        var holding = 1;
        var inHandler = 0;
        var overlapped = false;
        controller.StateChanged += (_, e) =>
        {
            overlapped |= Interlocked.Increment(ref inHandler) > 1;
            if (Interlocked.Exchange(ref holding, 0) == 1)
            {
                release.Wait(Bound);
            }

            seen.Enqueue(e);
            Interlocked.Decrement(ref inHandler);
        };
        var ns = controller.GetNamespace(1);
        for (var round = 0; round < 3; round++)
        {
            var reset = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Reset });
            await Assert.ThrowsAsync<NvmeTransportException>(async () => await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound));
            target.Testing.Faults.Remove(reset);
            await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound);
            if (round == 0)
            {
                // Live again: Resetting, Connecting and Live have been raised, and not one handler has returned.
                Assert.Equal(NvmeControllerState.Live, controller.State);
                Assert.Empty(seen);
                release.Set();
            }
        }

        await Eventually.TrueAsync(() => seen.Count(e => e.Current == NvmeControllerState.Live) >= 3, "three Live events");
        var events = seen.ToArray();
        Assert.False(overlapped);
        Assert.Equal(3, events.Count(e => e.Current == NvmeControllerState.Live));
        Assert.Equal(NvmeControllerState.Live, events[0].Previous);
        for (var i = 1; i < events.Length; i++)
        {
            Assert.Equal(events[i - 1].Current, events[i].Previous);
        }
    }

    [Fact]
    public async Task Command_timeout_resets_the_association_and_the_controller_comes_back()
    {
        // The target's clock never moves: the held CapsuleResp stays held however slow the machine is.
        await using var target = await StartAsync(o => o.TimeProvider = new FakeTimeProvider());
        var options = Reconnecting(target);
        options.IoTimeout = TimeSpan.FromMilliseconds(400);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);

        // One CapsuleResp held back (until the target is disposed).
        var delay = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 2, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromSeconds(5) });
        var stuck = controller.IoQueues[1].FlushAsync(ns).AsTask();
        var other = controller.IoQueues[0].ReadAsync(ns, 0, new byte[512]).AsTask();
        await Assert.ThrowsAsync<NvmeTimeoutException>(() => stuck.WaitAsync(Bound));
        target.Testing.Faults.Remove(delay);
        await other.WaitAsync(Bound);
        await controller.IoQueues[1].FlushAsync(ns).AsTask().WaitAsync(Bound);
        Assert.Equal(NvmeControllerState.Live, controller.State);
    }

    // Defect 4 of the core issue: a queue pair kept the MDTS of the association it was created in, so after a reconnect
    // to a controller with a smaller MDTS a valid read was refused (ArgumentOutOfRangeException) instead of split.
    [Fact]
    public async Task A_smaller_MDTS_after_a_reconnect_splits_transfers_by_the_new_limit()
    {
        var first = await StartAsync(subsystem: s => s.Mdts = 5);
        var options = Reconnecting(first);
        var port = first.EndPoint.Port;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var data = Pattern(128 * 1024, 40);
        await controller.IoQueues[0].WriteAsync(ns, 0, data).AsTask().WaitAsync(Bound);
        await first.DisposeAsync();
        await WaitForStateAsync(controller, NvmeControllerState.Connecting);

        // The same subsystem comes back on the same port with MDTS 3 (32 KiB).
        await using var second = await StartAsync(
            configure: o => o.ListenEndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port),
            subsystem: s => s.Mdts = 3);
        await WaitForStateAsync(controller, NvmeControllerState.Live);
        Assert.Equal(32 * 1024, controller.MaxTransferSize);
        var buffer = new byte[data.Length];
        await controller.IoQueues[0].WriteAsync(ns, 0, data).AsTask().WaitAsync(Bound);
        await controller.IoQueues[0].ReadAsync(ns, 0, buffer).AsTask().WaitAsync(Bound);
        Assert.Equal(data, buffer);
    }

    // ReconnectDelay 7 s: apart from the connect timeout's 10 s, so that the test can tell the two timers apart.
    private static readonly TimeSpan Delay7s = TimeSpan.FromSeconds(7);

    // The client on a fake clock (keep-alive off: it would need the clock moved too); the target's clock never moves.
    private async Task<(NvmeTcpTarget Target, NvmeTcpOptions Options)> OnClockAsync(TestClock clock, TimeSpan lossTimeout, TimeSpan? fastIoFail = null)
    {
        var target = await StartAsync(o => o.TimeProvider = new FakeTimeProvider());
        var options = ClientOptions(target);
        options.TimeProvider = clock;
        options.KeepAliveTimeout = TimeSpan.Zero;
        options.ReconnectDelay = Delay7s;
        options.ControllerLossTimeout = lossTimeout;
        options.FastIoFailTimeout = fastIoFail;
        return (target, options);
    }

    // The next CapsuleResp on queue 1 is replaced by a reset (RST): the association fails.
    private static async Task FailAssociationAsync(NvmeTcpTarget target, NvmeController controller)
    {
        var reset = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Reset });
        await Assert.ThrowsAsync<NvmeTransportException>(async () => await controller.IoQueues[0].FlushAsync(controller.GetNamespace(1)).AsTask().WaitAsync(Bound));
        target.Testing.Faults.Remove(reset);
    }

    [Fact]
    public async Task Reconnect_waits_for_reconnect_delay_on_the_clock_then_makes_one_attempt()
    {
        var clock = new TestClock();
        var (target, options) = await OnClockAsync(clock, TimeSpan.FromSeconds(600));
        await using var _ = target;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);

        // Every connection attempt, admin or I/O, gets one ICResp: one reconnect is 1 + IoQueueCount of them.
        var connections = target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.ICResp, Action = NvmeFaultAction.Delay, Delay = TimeSpan.Zero, Count = int.MaxValue });
        await FailAssociationAsync(target, controller);
        var delay = await clock.WaitForDelayAsync(Delay7s, "the reconnect delay");
        Assert.Equal(NvmeControllerState.Connecting, controller.State);

        // A millisecond short of the delay its timer has not fired, so the recovery has not gone past its wait.
        clock.Advance(Delay7s - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, delay.Fired);
        Assert.Equal(0, connections.Applied);
        Assert.Equal(NvmeControllerState.Connecting, controller.State);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, delay.Fired);
        await Eventually.TrueAsync(() => controller.State == NvmeControllerState.Live, "the reconnect");
        Assert.Equal(1 + options.IoQueueCount, connections.Applied);
        Assert.Single(clock.Timers(Delay7s, Timeout.InfiniteTimeSpan));
        await controller.IoQueues[0].FlushAsync(controller.GetNamespace(1)).AsTask().WaitAsync(Bound);
    }

    [Fact]
    public async Task Target_gone_for_longer_than_ctrl_loss_tmo_deletes_the_controller()
    {
        // ctrl_loss_tmo 21 s, reconnect_delay 7 s: attempts at 7, 14 and 21 s (each refused at once: nothing listens);
        // after the third the next one would start past 21 s, so the controller is deleted, as Linux does.
        var clock = new TestClock();
        var (target, options) = await OnClockAsync(clock, TimeSpan.FromSeconds(21));
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var deleted = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        controller.StateChanged += (_, e) =>
        {
            if (e.Current == NvmeControllerState.Deleted)
            {
                deleted.TrySetResult(e.Reason);
            }
        };
        await target.DisposeAsync();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            // Each new wait shows the attempt before it failed and the controller kept trying rather than give up.
            var delay = await clock.WaitForDelayAsync(Delay7s, $"reconnect delay {attempt}", attempt);
            Assert.Equal(NvmeControllerState.Connecting, controller.State);
            clock.Advance(Delay7s);
            Assert.Equal(1, delay.Fired);
        }

        var reason = await deleted.Task.WaitAsync(Bound);
        Assert.Contains("ctrl_loss_tmo", reason?.Message, StringComparison.Ordinal);
        Assert.Equal(3, clock.Timers(Delay7s, Timeout.InfiniteTimeSpan).Count);
        var error = await Assert.ThrowsAsync<NvmeTransportException>(async () => await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound));
        Assert.False(error.IsRetryable);
        Assert.Contains("deleted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fast_io_fail_tmo_fails_waiting_io_while_reconnecting_goes_on()
    {
        var clock = new TestClock();
        var fastIoFail = TimeSpan.FromSeconds(3);
        var (target, options) = await OnClockAsync(clock, TimeSpan.FromSeconds(600), fastIoFail);
        await using var _ = target;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        await FailAssociationAsync(target, controller);
        var failTimer = await clock.WaitForDelayAsync(fastIoFail, "the fast_io_fail timer");
        var reconnect = await clock.WaitForDelayAsync(Delay7s, "the reconnect delay");

        // I/O submitted now waits for the reconnect; a millisecond short of fast_io_fail_tmo it is still waiting.
        var waiting = controller.IoQueues[0].FlushAsync(ns).AsTask();
        clock.Advance(fastIoFail - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, failTimer.Fired);
        Assert.False(waiting.IsCompleted);

        // At fast_io_fail_tmo it fails, and so does new I/O, while the controller goes on reconnecting.
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var error = await Assert.ThrowsAsync<NvmeTransportException>(() => waiting.WaitAsync(Bound));
        Assert.Contains("fast_io_fail_tmo", error.Message, StringComparison.Ordinal);
        Assert.True(error.IsRetryable);
        var next = await Assert.ThrowsAsync<NvmeTransportException>(async () => await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound));
        Assert.Contains("fast_io_fail_tmo", next.Message, StringComparison.Ordinal);
        Assert.Equal(NvmeControllerState.Connecting, controller.State);
        Assert.Equal(0, reconnect.Fired);

        // At the reconnect delay the controller comes back and I/O works again.
        clock.Advance(Delay7s - fastIoFail);
        await Eventually.TrueAsync(() => controller.State == NvmeControllerState.Live, "the reconnect");
        await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound);
    }

    [Fact]
    public async Task Dispose_during_reconnect_completes_promptly()
    {
        var target = await StartAsync();
        var options = Reconnecting(target, Timeout.InfiniteTimeSpan);
        options.ReconnectDelay = TimeSpan.FromSeconds(30);
        var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        await target.DisposeAsync();
        await WaitForStateAsync(controller, NvmeControllerState.Connecting);
        var waiting = controller.IoQueues[0].FlushAsync(controller.GetNamespace(1)).AsTask();
        await controller.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(NvmeControllerState.Deleted, controller.State);
        await Assert.ThrowsAsync<NvmeTransportException>(() => waiting.WaitAsync(Bound));
    }

    [Fact]
    public async Task Connect_refused_with_DNR_on_reconnect_deletes_without_retrying()
    {
        await using var target = await StartAsync();
        var options = Reconnecting(target);
        options.SubsystemNqn = RestrictedNqn;
        options.HostNqn = AllowedHost;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);

        // The subsystem goes away; the connection drops; the reconnect's Connect gets Invalid Parameters with DNR.
        Assert.True(target.RemoveSubsystem(RestrictedNqn));
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Reset });
        await Assert.ThrowsAsync<NvmeTransportException>(async () => await controller.IoQueues[0].FlushAsync(controller.GetNamespace(1)).AsTask().WaitAsync(Bound));
        await WaitForStateAsync(controller, NvmeControllerState.Deleted);
    }

    [Fact]
    public async Task Namespace_attribute_changed_event_refreshes_the_namespaces()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        var events = new TaskCompletionSource<NvmeAsyncEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        controller.AsyncEvent += (_, e) => events.TrySetResult(e);
        Assert.Equal(2, controller.Namespaces.Count);
        target.AddNamespace(Nqn, new NvmeNamespaceOptions(3, 8L << 20, 4096));
        target.RaiseNamespaceAttributeChanged(Nqn, 3);
        var notice = await events.Task.WaitAsync(Bound);
        Assert.True(notice.IsNamespaceAttributeChanged);
        Assert.Equal([3u], notice.ChangedNamespaces);
        Assert.Equal(4096, controller.GetNamespace(3).BlockSize);

        // The request was sent again: a second event arrives too.
        var second = new TaskCompletionSource<NvmeAsyncEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        controller.AsyncEvent += (_, e) => second.TrySetResult(e);
        target.RemoveNamespace(Nqn, 3);
        target.RaiseNamespaceAttributeChanged(Nqn, 3);
        await second.Task.WaitAsync(Bound);
        Assert.DoesNotContain(controller.Namespaces, n => n.Id == 3);
    }

    private static async Task WaitForEventsAsync(ConcurrentQueue<NvmeControllerState> states, NvmeControllerState last)
    {
        for (var i = 0; i < 200 && !states.Contains(last); i++)
        {
            await Task.Delay(25);
        }
    }
}
