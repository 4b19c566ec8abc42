using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using NvmeTcp.Client.Transport;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>
/// Keep-alive: every KATO/2 when idle, skipped under traffic with TBKAS, and a missing answer resets the association.
/// The client runs on a fake clock, so a Keep Alive goes out only when the test moves the clock.
/// </summary>
/// <remarks>
/// A tick of the keep-alive timer runs inside <see cref="FakeTimeProvider.Advance"/> and the keep-alive loop resumes
/// there, so a Keep Alive it decides to send is queued on the admin queue before <see cref="Advance"/> returns. An
/// admin command the test sends afterwards (a probe) is answered after it: once the probe completes, the target's
/// count shows every Keep Alive the ticks so far sent. The target's own clock is a fake one that never moves, so its
/// keep-alive never expires while the client's clock stands still.
/// </remarks>
public sealed class KeepAliveTests : IAsyncLifetime
{
    private static readonly TimeSpan OneMs = TimeSpan.FromMilliseconds(1);

    // What the test's controllers hold; checked for leaks (keep-alive loops included) once they are disposed.
    private readonly ResourceCounters _resources = new();
    private readonly TestClock _clock = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await Leaks.AssertNoneAsync(_resources);

    private static Task<NvmeTcpTarget> StartFrozenAsync(Action<NvmeSubsystemOptions>? subsystem = null) =>
        StartAsync(o => o.TimeProvider = new FakeTimeProvider(), subsystem);

    private NvmeTcpOptions WithKato(NvmeTcpTarget target, TimeSpan kato)
    {
        var options = ClientOptions(target, queues: 1);
        options.Resources = _resources;
        options.KeepAliveTimeout = kato;
        options.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        options.TimeProvider = _clock;
        return options;
    }

    private void Advance(TimeSpan by) => _clock.Advance(by);

    // An admin command after everything queued so far on the admin queue (see the remarks).
    private static async Task ProbeAsync(NvmeController controller) =>
        await controller.GetFeatureAsync(0x0F).WaitAsync(Bound);

    [Fact]
    public async Task Idle_controller_sends_Keep_Alive_every_half_KATO()
    {
        await using var target = await StartFrozenAsync();
        await using var controller = await NvmeController.ConnectAsync(WithKato(target, TimeSpan.FromSeconds(10))).WaitAsync(Bound);
        var half = TimeSpan.FromSeconds(5);
        var timer = await _clock.WaitForTimerAsync(half, half, "the keep-alive timer (period KATO/2)");
        for (var round = 1; round <= 3; round++)
        {
            // A millisecond short of KATO/2 since the last one: none. At KATO/2: exactly one.
            Advance(half - OneMs);
            await ProbeAsync(controller);
            Assert.Equal(round - 1, target.Testing.KeepAliveCount);
            Advance(OneMs);
            await ProbeAsync(controller);
            Assert.Equal(round, target.Testing.KeepAliveCount);
        }

        Assert.Equal(3, timer.Fired);
        Assert.Equal(NvmeControllerState.Live, controller.State);
    }

    [Fact]
    public async Task With_TBKAS_traffic_replaces_Keep_Alive_and_idleness_brings_it_back()
    {
        await using var target = await StartFrozenAsync(subsystem: s => s.TrafficBasedKeepAlive = true);
        await using var controller = await NvmeController.ConnectAsync(WithKato(target, TimeSpan.FromSeconds(8))).WaitAsync(Bound);
        Assert.True((controller.Identify.Ctratt & (1u << 6)) != 0);

        // With TBKAS the timer ticks every KATO/4 (a completion can then postpone a Keep Alive by two ticks at most).
        var quarter = TimeSpan.FromSeconds(2);
        await _clock.WaitForTimerAsync(quarter, quarter, "the keep-alive timer (period KATO/4)");

        // The controller's own traffic once live (it sets the Asynchronous Event Configuration) may make a tick skip:
        // move the clock a tick at a time until a Keep Alive goes out. Two probes then settle the loop: the first is
        // answered after every Keep Alive the ticks queued, and the loop took their completions before the second
        // was sent (one dispatcher per queue, in order), so it waits for its next tick and the probes below are
        // traffic it has not seen yet.
        for (var tick = 0; tick < 5 && target.Testing.KeepAliveCount == 0; tick++)
        {
            Advance(quarter);
            await Eventually.WithinAsync(() => target.Testing.KeepAliveCount > 0, TimeSpan.FromMilliseconds(500));
        }

        await ProbeAsync(controller);
        await ProbeAsync(controller);
        var sent = target.Testing.KeepAliveCount;
        Assert.True(sent > 0, "no Keep Alive in five idle ticks");

        // Traffic: each tick follows a completion (the probe of the round before) and sends nothing; the next probe
        // would be answered after a Keep Alive that tick sent.
        for (var round = 0; round < 4; round++)
        {
            await ProbeAsync(controller);
            Assert.Equal(sent, target.Testing.KeepAliveCount);
            Advance(quarter);
        }

        await ProbeAsync(controller);
        Assert.Equal(sent, target.Testing.KeepAliveCount);

        // Idle: the tick after the last probe still sees it; the one after that sends a Keep Alive.
        Advance(quarter);
        Advance(quarter);
        await Eventually.TrueAsync(() => target.Testing.KeepAliveCount > sent, "a Keep Alive once idle");
        await ProbeAsync(controller);
        Assert.Equal(sent + 1, target.Testing.KeepAliveCount);
        Assert.Equal(NvmeControllerState.Live, controller.State);
    }

    [Fact]
    public async Task Unanswered_Keep_Alive_resets_the_association_within_KATO()
    {
        await using var target = await StartFrozenAsync();
        var kato = TimeSpan.FromSeconds(10);
        await using var controller = await NvmeController.ConnectAsync(WithKato(target, kato)).WaitAsync(Bound);
        var resets = new ConcurrentQueue<Exception?>();
        controller.StateChanged += (_, e) =>
        {
            if (e.Current == NvmeControllerState.Resetting)
            {
                resets.Enqueue(e.Reason);
            }
        };
        await _clock.WaitForTimerAsync(kato / 2, kato / 2, "the keep-alive timer");

        // The admin queue goes silent (a black hole): the Keep Alive sent at KATO/2 gets no answer.
        var hole = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 0, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.BlackHole });
        Advance(kato / 2);
        await Eventually.TrueAsync(() => hole.Applied == 1, "the Keep Alive to reach the black hole");

        // The Keep Alive may take KATO. The timeout timer, which ticks every AdminTimeout / 10 (at most 1 s), fails the
        // queue inside Advance, and the controller leaves Live at once: its state shows the outcome without waiting.
        Advance(kato);
        Assert.Equal(NvmeControllerState.Live, controller.State);
        Advance(TimeSpan.FromSeconds(1));
        Assert.NotEqual(NvmeControllerState.Live, controller.State);
        target.Testing.Faults.Remove(hole);
        await Eventually.TrueAsync(() => !resets.IsEmpty, "the Resetting event");
        var reason = Assert.IsType<NvmeTimeoutException>(Assert.Single(resets));
        Assert.Contains("Keep Alive", reason.Message, StringComparison.Ordinal);

        // The reconnect waits for ReconnectDelay on the same clock, then brings the controller back.
        await _clock.WaitForDelayAsync(TimeSpan.FromMilliseconds(100), "the reconnect delay");
        Advance(TimeSpan.FromMilliseconds(100));
        await Eventually.TrueAsync(() => controller.State == NvmeControllerState.Live, "the controller to be live again");
        await ProbeAsync(controller);
    }
}
