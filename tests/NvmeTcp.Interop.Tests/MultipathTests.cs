using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using NvmeTcp.Client;
using NvmeTcp.Client.Tests.Shared;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// <see cref="NvmeSubsystem"/> against Linux nvmet serving one subsystem on two ports (vm/init.sh's multipath setup,
/// namespace 1 in ANA group 2), under write+verify load from 8 callers: port 2 made non-optimized, then the optimized
/// port 1 inaccessible (the I/O moves to port 2), port 1 optimized again, then port 2 removed and re-added through
/// configfs (its connections die; its controller reconnects by itself). Not one I/O may fail, every read must match
/// what was written, and the subsystem must see each new ANA state in the ANA log.
/// </summary>
public sealed class MultipathTests(NvmetVms vms)
{
    private const uint Group = 2;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Kernels => new(NvmetVms.Kernels.Where(k => k != "6.1"));

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Ana_changes_and_a_port_removed_and_re_added_under_write_and_verify_load_fail_no_io(string kernel)
    {
        var output = TestContext.Current.TestOutputHelper;
        void Log(string line) => output?.WriteLine(line);
        using var scratch = new ScratchDirectory();
        await using var vm = await NvmetVm.StartAsync(
            vms.GetImage(kernel),
            Path.Combine(AppContext.BaseDirectory, "vm-logs", "multipath"),
            TimeSpan.FromSeconds(120),
            600,
            Log,
            new NvmetVmOptions { Multipath = true, ControlSocketPath = Path.Combine(scratch.Path, "control.sock"), ConsoleName = $"console-{kernel}.log" });
        Log(vm.Describe());
        await vm.ControlAsync("ping", Bound);

        using var logging = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logging).SetMinimumLevel(LogLevel.Information));
        var options = new NvmeMultipathOptions
        {
            Template = new NvmeTcpOptions
            {
                SubsystemNqn = NvmetTarget.MultipathNqn,
                HostNqn = NvmetTarget.HostNqn,
                IoQueueCount = 2,
                IoQueueSize = 32,
                ReconnectDelay = TimeSpan.FromSeconds(1),
                ControllerLossTimeout = TimeSpan.FromSeconds(60),
                ConnectTimeout = TimeSpan.FromSeconds(5),
                LoggerFactory = loggerFactory,
            },
            IoPolicy = NvmeIoPolicy.RoundRobin,
            NoPathTimeout = TimeSpan.FromSeconds(60),
        };
        options.Paths.Add(new DnsEndPoint("127.0.0.1", vm.Port));
        options.Paths.Add(new DnsEndPoint("127.0.0.1", vm.Port2));
        await using var subsystem = await NvmeSubsystem.ConnectAsync(options).WaitAsync(Bound);
        var changes = new ConcurrentQueue<string>();
        subsystem.PathChanged += (_, e) => changes.Enqueue($"{e.Path.Name} {e.Change} {e.Path.State} {e.Path.AnaStateOf(1)}");
        var port1 = subsystem.Paths.Single(p => p.EndPoint.Port == vm.Port);
        var port2 = subsystem.Paths.Single(p => p.EndPoint.Port == vm.Port2);
        var ns = subsystem.GetNamespace(1);
        Assert.Equal(2, ns.Paths.Count);
        Assert.All(subsystem.Paths, p => Assert.Equal(AnaState.Optimized, p.AnaStateOf(1)));

        var load = MultipathLoad.Start(subsystem, ns, callers: 8, seed: 16_000);
        try
        {
            await load.WaitForAsync(100);

            await SetAsync(vm, port2, 2, AnaState.NonOptimized, "non-optimized");
            var beforeIo = (port1.CompletedIos, port2.CompletedIos);
            await load.WaitForAsync(100);
            Assert.True(port2.CompletedIos - beforeIo.Item2 <= 16, $"non-optimized port 2 took {port2.CompletedIos - beforeIo.Item2} I/Os while port 1 was optimized");

            await SetAsync(vm, port1, 1, AnaState.Inaccessible, "inaccessible");
            var moved = port2.CompletedIos;
            await load.WaitForAsync(100);
            Assert.True(port2.CompletedIos - moved >= 150, "the I/O did not move to the non-optimized port 2");

            await SetAsync(vm, port1, 1, AnaState.Optimized, "optimized");
            await SetAsync(vm, port2, 2, AnaState.Optimized, "optimized");
            await load.WaitForAsync(100);

            await vm.ControlAsync("mp-port-remove 2", Bound);
            await WaitUntilAsync(() => port2.State != NvmeControllerState.Live, "port 2's path to fail");
            await load.WaitForAsync(100);
            await vm.ControlAsync("mp-port-add 2", Bound);
            await WaitUntilAsync(() => port2.State == NvmeControllerState.Live, "port 2's path to reconnect");
            var back = port2.CompletedIos;
            await load.WaitForAsync(100);
            Assert.True(port2.CompletedIos > back, "the re-added port 2 got no I/O");
        }
        finally
        {
            await load.StopAndVerifyAsync();
            Log($"{load.Completed} write+verify rounds; I/Os per path: {string.Join(", ", subsystem.Paths.Select(p => $"{p.Name} {p.CompletedIos}"))}");
            Log("path changes: " + string.Join("; ", changes));
        }
    }

    // Writes the state through configfs, then waits for the subsystem to see it (the ANA change notice and the log),
    // and checks it in the log that path's controller reads now.
    private static async Task SetAsync(NvmetVm vm, NvmePath path, int port, AnaState state, string name)
    {
        await vm.ControlAsync($"ana {port} {Group} {name}", Bound);
        await WaitUntilAsync(() => path.AnaStateOf(1) == state, $"port {port} {name}");
        var log = await path.Controller.GetAnaLogAsync().WaitAsync(Bound);
        Assert.Equal(state, log.StateOf(Group));
        Assert.Contains(1u, log.Groups.Single(g => g.GroupId == Group).NamespaceIds);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), $"timed out waiting for {what}");
    }
}
