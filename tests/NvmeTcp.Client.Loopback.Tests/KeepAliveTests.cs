using NvmeTcp.Client.Transport;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>Keep-alive: every KATO/2 when idle, skipped under traffic with TBKAS, and a missing answer resets the association.</summary>
public sealed class KeepAliveTests : IAsyncLifetime
{
    // What the test's controllers hold; checked for leaks (keep-alive loops included) once they are disposed.
    private readonly ResourceCounters _resources = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await Leaks.AssertNoneAsync(_resources);

    private NvmeTcpOptions WithKato(NvmeTcpTarget target, TimeSpan kato)
    {
        var options = ClientOptions(target, queues: 1);
        options.Resources = _resources;
        options.KeepAliveTimeout = kato;
        options.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        return options;
    }

    [Fact]
    public async Task Idle_controller_sends_Keep_Alive_every_half_KATO()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(WithKato(target, TimeSpan.FromSeconds(1))).WaitAsync(Bound);
        var before = target.Testing.KeepAliveCount;
        await Task.Delay(1700);
        Assert.True(target.Testing.KeepAliveCount - before >= 2, $"{target.Testing.KeepAliveCount - before} Keep Alive commands in 1.7 s with KATO 1 s");
        Assert.Equal(NvmeControllerState.Live, controller.State);
    }

    [Fact]
    public async Task With_TBKAS_traffic_replaces_Keep_Alive_and_idleness_brings_it_back()
    {
        await using var target = await StartAsync(subsystem: s => s.TrafficBasedKeepAlive = true);
        await using var controller = await NvmeController.ConnectAsync(WithKato(target, TimeSpan.FromSeconds(2))).WaitAsync(Bound);
        Assert.True((controller.Identify.Ctratt & (1u << 6)) != 0);
        var ns = controller.GetNamespace(1);
        var buffer = new byte[512];
        var before = target.Testing.KeepAliveCount;
        var until = Environment.TickCount64 + 2000;
        while (Environment.TickCount64 < until)
        {
            await controller.IoQueues[0].ReadAsync(ns, 0, buffer).AsTask().WaitAsync(Bound);
        }

        var duringTraffic = target.Testing.KeepAliveCount - before;
        Assert.True(duringTraffic <= 1, $"{duringTraffic} Keep Alive commands during 2 s of continuous I/O with TBKAS");
        before = target.Testing.KeepAliveCount;
        await Task.Delay(1800);
        Assert.True(target.Testing.KeepAliveCount - before >= 2, $"{target.Testing.KeepAliveCount - before} Keep Alive commands in 1.8 s idle (period KATO/4)");
    }

    [Fact]
    public async Task Unanswered_Keep_Alive_resets_the_association_within_KATO()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(WithKato(target, TimeSpan.FromSeconds(1))).WaitAsync(Bound);
        var resetting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        controller.StateChanged += (_, e) =>
        {
            if (e.Current == NvmeControllerState.Resetting)
            {
                resetting.TrySetResult();
            }
        };

        // The admin queue goes silent (a black hole): Keep Alive gets no answer.
        var hole = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 0, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.BlackHole });
        await resetting.Task.WaitAsync(TimeSpan.FromSeconds(8));
        target.Testing.Faults.Remove(hole);
        for (var i = 0; i < 200 && controller.State != NvmeControllerState.Live; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(NvmeControllerState.Live, controller.State);
    }
}
