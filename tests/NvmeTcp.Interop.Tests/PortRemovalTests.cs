using System.Diagnostics;
using Microsoft.Extensions.Logging;
using NvmeTcp.Client;
using NvmeTcp.Interop.Tests.Harness;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// A real Linux nvmet port taken away and given back through configfs, under write load: the VM's /init unlinks every
/// subsystem from port 1 (nvmet deletes the port's controllers and closes its listener) and links them again, on verbs
/// sent over a second serial port. The client must fail what was in flight as retryable, keep failing to reconnect
/// while the port is gone, and come back by itself when it returns, with the data intact.
/// </summary>
public sealed class PortRemovalTests(NvmetVms vms)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static TheoryData<string> Kernels => new(NvmetVms.Kernels);

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Port_removed_and_re_added_through_configfs_the_controller_comes_back_by_itself_with_data_intact(string kernel)
    {
        var output = TestContext.Current.TestOutputHelper;
        void Log(string line) => output?.WriteLine(line);
        var image = vms.GetImage(kernel);
        using var scratch = new ScratchDirectory();
        var total = Stopwatch.StartNew();
        await using var vm = await NvmetVm.StartAsync(
            image,
            Path.Combine(AppContext.BaseDirectory, "vm-logs", "port"),
            TimeSpan.FromSeconds(120),
            600,
            Log,
            new NvmetVmOptions { ControlSocketPath = Path.Combine(scratch.Path, "control.sock"), ConsoleName = $"console-{kernel}.log" });
        Log(vm.Describe());
        await vm.ControlAsync("ping", Bound);

        using var logging = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logging).SetMinimumLevel(LogLevel.Information));
        var options = new NvmeTcpOptions
        {
            Address = "127.0.0.1",
            Port = vm.Port,
            SubsystemNqn = NvmetTarget.InteropNqn,
            HostNqn = NvmetTarget.HostNqn,
            IoQueueCount = 2,
            IoQueueSize = 32,
            ReconnectDelay = TimeSpan.FromSeconds(1),
            ControllerLossTimeout = TimeSpan.FromSeconds(60),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            LoggerFactory = loggerFactory,
        };
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var states = new StateLog(controller);
        var ns = controller.GetNamespace(1);
        var before = Patterns.Of(65536, 11);
        await controller.IoQueues[0].WriteAsync(ns, 2048, before).AsTask().WaitAsync(Bound);

        // On 6.12 (NVME_TARGET_AUTH) a second controller authenticates (bidirectional, SHA-384, ffdhe3072): its
        // reconnect after port-add must authenticate every queue again, or nvmet refuses its commands.
        using var authLogs = new ListLoggerProvider();
        using var authLoggerFactory = LoggerFactory.Create(builder => builder.AddProvider(authLogs).SetMinimumLevel(LogLevel.Debug));
        NvmeController? authenticated = null;
        StateLog? authStates = null;
        if (kernel == "6.12")
        {
            var authOptions = AuthenticationTests.Options(vm.Port, "sha384", "ffdhe3072", bidirectional: true);
            // Port-add links the subsystems one after the other (interop first): a reconnect landing between the
            // first link and the auth subsystem's would be refused with DNR. So this controller retries every 3 s,
            // and port-add follows one of its failed attempts at once, long before its next.
            authOptions.ReconnectDelay = TimeSpan.FromSeconds(3);
            authOptions.ConnectTimeout = TimeSpan.FromSeconds(5);
            authOptions.LoggerFactory = authLoggerFactory;
            authenticated = await NvmeController.ConnectAsync(authOptions).WaitAsync(Bound);
            authStates = new StateLog(authenticated);
        }

        await using var authDisposal = authenticated;
        var load = WriteLoad.Start(controller, ns, callers: 16, firstLba: 8192, bytesPerCaller: 4096, seed: 8_000_000);
        await load.WaitForAsync(300, Bound);
        var written = load.Completed;
        var removedAt = Stopwatch.GetTimestamp();
        await vm.ControlAsync("port-remove", Bound);
        var removeTook = Stopwatch.GetElapsedTime(removedAt);
        load.Stop();

        // The port is gone: the controller leaves Live, new I/O waits, and reconnect attempts fail (nothing listens).
        await states.WaitForAsync(NvmeControllerState.Connecting, Bound);
        var waitingData = Patterns.Of(8192, 12);
        var waitingWrite = controller.IoQueues[1].WriteAsync(ns, 20_000, waitingData).AsTask();
        var waitingRead = new byte[before.Length];
        var waitingReadTask = controller.IoQueues[0].ReadAsync(ns, 2048, waitingRead).AsTask();
        await TargetRestartTests.WaitForReconnectFailuresAsync(logging, 2, Bound);
        Assert.False(waitingWrite.IsCompleted, $"a write issued while the port was gone completed: {waitingWrite.Status}");
        Assert.False(waitingReadTask.IsCompleted, $"a read issued while the port was gone completed: {waitingReadTask.Status}");
        Assert.Equal(NvmeControllerState.Connecting, controller.State);

        // nvmet may complete what it had read before it closes the connection, so how many writes fail varies (0 to 16
        // seen); those that do must be retryable, and every other caller's next write waits for the port to return.
        var failed = load.FailedSoFar;
        Assert.All(failed, f => Assert.True(f.Error is NvmeTransportException { IsRetryable: true }, f.Error!.ToString()));

        if (authenticated is not null)
        {
            await TargetRestartTests.WaitForReconnectFailuresAsync(authLogs, TargetRestartTests.ReconnectFailures(authLogs) + 1, Bound);
        }

        var addedAt = Stopwatch.GetTimestamp();
        await vm.ControlAsync("port-add", Bound);
        await Task.WhenAll(waitingWrite, waitingReadTask).WaitAsync(Bound);
        var liveAt = await states.WaitForAsync(NvmeControllerState.Live, Bound);
        foreach (var reason in logging.Messages.Where(m => m.EventId == 1102).Select(m => m.Text).Distinct())
        {
            Log(reason);
        }

        Assert.Equal(before, waitingRead);

        var outcomes = await load.Outcomes.WaitAsync(Bound);
        Assert.All(outcomes, o => Assert.True(o.Error is null or NvmeTransportException { IsRetryable: true }, o.Error?.ToString()));
        Assert.Equal(NvmeControllerState.Live, controller.State);
        Assert.Contains(NvmeControllerState.Resetting, states.States);
        Assert.Equal(NvmeControllerState.Live, states.States[^1]);
        Assert.DoesNotContain(NvmeControllerState.Deleting, states.States);
        await WriteLoad.AssertRegionsAsync(controller, ns, outcomes, Bound);
        var back = new byte[waitingData.Length];
        await controller.IoQueues[1].ReadAsync(ns, 20_000, back).AsTask().WaitAsync(Bound);
        Assert.Equal(waitingData, back);

        if (authenticated is not null)
        {
            try
            {
                await authStates!.WaitForAsync(NvmeControllerState.Live, Bound);
            }
            finally
            {
                foreach (var (id, level, text) in authLogs.Messages)
                {
                    Log($"authenticated controller log {id} {level}: {text}");
                }
            }

            var block = new byte[4096];
            await authenticated.IoQueues[0].ReadAsync(authenticated.GetNamespace(1), 0, block).AsTask().WaitAsync(Bound);
            var authentications = authLogs.Messages.Count(m => m.EventId == 1006);
            Log($"authenticated controller: states {authStates}; {authentications} queue authentications (2 before port-remove, 2 after)");
            Assert.Contains(NvmeControllerState.Connecting, authStates.States);
            Assert.Equal(4, authentications);
        }

        // The new association shuts down in order, before the target goes.
        await controller.DisposeAsync().AsTask().WaitAsync(Bound);
        Assert.Contains(logging.Messages, m => m.EventId == 1002 && m.Text.Contains("orderly shutdown complete", StringComparison.Ordinal));

        Log($"{written} writes before port-remove (answered in {removeTook.TotalMilliseconds:0} ms); {failed.Count} of 16 callers' writes failed (retryable), the others waited; "
            + $"{TargetRestartTests.ReconnectFailures(logging)} failed reconnect attempts; live {Stopwatch.GetElapsedTime(addedAt, liveAt).TotalSeconds:F1} s after port-add; "
            + $"states: {states}; test {total.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// Unlinking only our subsystem while the port stays up for another is no transient failure: nvmet deletes the
    /// controller, and the reconnect's Connect is refused with Connect Invalid Parameters and DNR (the port no longer
    /// offers the subsystem), after which the client stops trying, as the Linux host does.
    /// </summary>
    [Fact]
    public async Task Subsystem_unlinked_from_a_port_that_stays_up_refuses_the_reconnect_with_DNR_and_the_controller_is_deleted()
    {
        var output = TestContext.Current.TestOutputHelper;
        var image = vms.GetImage("6.12");
        using var scratch = new ScratchDirectory();
        await using var vm = await NvmetVm.StartAsync(
            image,
            Path.Combine(AppContext.BaseDirectory, "vm-logs", "port"),
            TimeSpan.FromSeconds(120),
            600,
            line => output?.WriteLine(line),
            new NvmetVmOptions { ControlSocketPath = Path.Combine(scratch.Path, "control.sock"), ConsoleName = "console-6.12-unlink.log" });
        output?.WriteLine(vm.Describe());
        var options = new NvmeTcpOptions
        {
            Address = "127.0.0.1",
            Port = vm.Port,
            SubsystemNqn = NvmetTarget.InteropNqn,
            HostNqn = NvmetTarget.HostNqn,
            IoQueueCount = 1,
            ReconnectDelay = TimeSpan.FromMilliseconds(500),
            ControllerLossTimeout = TimeSpan.FromSeconds(60),
        };
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var states = new StateLog(controller);
        var ns = controller.GetNamespace(1);
        await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound);

        await vm.ControlAsync("unlink-interop", Bound);
        await states.WaitForAsync(NvmeControllerState.Deleted, Bound);
        var error = await Assert.ThrowsAsync<NvmeTransportException>(async () => await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound));
        Assert.False(error.IsRetryable);
        var refusal = Assert.IsType<NvmeStatusException>(error.InnerException);
        Assert.True(refusal.Status.DoNotRetry);
        output?.WriteLine($"states: {states}; {error.Message}");
    }
}
