using System.Collections.Concurrent;
using System.Net;
using NvmeTcp.Client;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Target;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// ANA against Linux nvmet with two ports (vm/init.sh's multipath subsystem, namespace 1 in ANA group 2), and the same
/// scenario against our target with two ports, so both answer alike: Identify's ANA fields, the ANA log (0Ch) with
/// and without RGO, a state set on port 1 (configfs <c>ana_state</c> through the control channel, or
/// <see cref="NvmeTcpTarget.SetAnaState"/>), the ANA change notice on port 1's controller, the log showing it on
/// port 1 and not on port 2, a Read failing with ANA Inaccessible on port 1 and served on port 2, the other states'
/// statuses, and back; then port
/// 2 taken from the subsystem and given back, its controller reconnecting by itself.
/// </summary>
public sealed class AnaTests(NvmetVms vms)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static TheoryData<string> Kernels => new(NvmetVms.Kernels);

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Nvmet_ana_state_set_on_one_port_shows_in_the_log_the_notice_and_io_statuses_of_that_port_only(string kernel)
    {
        var output = TestContext.Current.TestOutputHelper;
        void Log(string line) => output?.WriteLine(line);
        using var scratch = new ScratchDirectory();
        await using var vm = await NvmetVm.StartAsync(
            vms.GetImage(kernel),
            Path.Combine(AppContext.BaseDirectory, "vm-logs", "ana"),
            TimeSpan.FromSeconds(120),
            600,
            Log,
            new NvmetVmOptions { Multipath = true, ControlSocketPath = Path.Combine(scratch.Path, "control.sock"), ConsoleName = $"console-{kernel}.log" });
        Log(vm.Describe());
        Assert.Contains("mp=ports=1,2:group=2:optimized,optimized", vm.ReadyLine, StringComparison.Ordinal);
        await vm.ControlAsync("ping", Bound);
        await Assert.ThrowsAsync<InvalidOperationException>(() => vm.ControlAsync("ana 3 2 optimized", Bound)); // no port 3

        var seen = await RunAsync(vm.EndPoint, vm.EndPoint2, verb => vm.ControlAsync(verb, Bound), Log);
        Assert.Equal((byte)0x1F, seen.Anacap); // the five states; the group ID may change through configfs
    }

    [Fact]
    public async Task Our_target_with_two_ports_answers_the_same_scenario_as_nvmet()
    {
        var options = new NvmeTargetOptions();
        options.Ports.Add(new NvmeTargetPort(1, new IPEndPoint(IPAddress.Loopback, 0)));
        options.Ports.Add(new NvmeTargetPort(2, new IPEndPoint(IPAddress.Loopback, 0)));
        var subsystem = new NvmeSubsystemOptions(NvmetTarget.MultipathNqn);
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 16 << 20, 4096) { AnaGroupId = 2 });
        options.Subsystems.Add(subsystem);
        await using var target = await NvmeTcpTarget.StartAsync(options, TestContext.Current.CancellationToken);
        var port2 = target.Ports[1];
        Task SetAsync(string verb)
        {
            // The control verbs vm/init.sh takes: "ana PORT GROUP STATE", "mp-port-remove 2", "mp-port-add 2".
            var words = verb.Split(' ');
            switch (words[0])
            {
                case "mp-port-remove":
                    Assert.True(target.RemovePort(port2.PortId));
                    return Task.CompletedTask;
                case "mp-port-add":
                    target.AddPort(port2);
                    return Task.CompletedTask;
            }

            target.SetAnaState(ushort.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture), uint.Parse(words[2], System.Globalization.CultureInfo.InvariantCulture), words[3] switch
            {
                "optimized" => AnaState.Optimized,
                "non-optimized" => AnaState.NonOptimized,
                "inaccessible" => AnaState.Inaccessible,
                "persistent-loss" => AnaState.PersistentLoss,
                "change" => AnaState.Change,
                _ => throw new ArgumentException(verb),
            });
            return Task.CompletedTask;
        }

        var seen = await RunAsync(target.Ports[0].EndPoint, target.Ports[1].EndPoint, SetAsync, line => TestContext.Current.TestOutputHelper?.WriteLine(line));
        Assert.Equal((byte)0x5F, seen.Anacap); // nvmet's five states, and GroupIdStatic: ours never changes
    }

    /// <summary>The scenario, through a controller on each port; returns what differs between targets for the caller to check.</summary>
    private static async Task<NvmeIdentifyController> RunAsync(IPEndPoint port1, IPEndPoint port2, Func<string, Task> control, Action<string> log)
    {
        await using var path1 = await NvmeController.ConnectAsync(Options(port1)).WaitAsync(Bound);
        await using var path2 = await NvmeController.ConnectAsync(Options(port2)).WaitAsync(Bound);
        var events1 = new Events(path1);
        var events2 = new Events(path2);
        Assert.NotEqual(path1.ControllerId, path2.ControllerId);

        var id = path1.Identify;
        log($"Identify: CMIC 0x{id.Cmic:X2} OAES 0x{id.Oaes:X8} ANATT {id.Anatt} ANACAP 0x{id.Anacap:X2} ANAGRPMAX {id.Anagrpmax} NANAGRPID {id.Nanagrpid}");
        Assert.Equal(IdentifyControllerLayout.CmicMultiplePorts | IdentifyControllerLayout.CmicMultipleControllers | IdentifyControllerLayout.CmicAnaReporting, id.Cmic);
        Assert.Equal((10, 128u, 128u), (id.Anatt, id.Anagrpmax, id.Nanagrpid));
        Assert.Equal(0x1F, id.Anacap & 0x1F);
        Assert.NotEqual(0u, id.Oaes & (uint)AsyncEventConfiguration.AnaChange);
        var ns1 = path1.GetNamespace(1);
        var ns2 = path2.GetNamespace(1);
        Assert.Equal((2u, 2u), (ns1.Identify.Anagrpid, ns2.Identify.Anagrpid));
        await EnableAnaNoticesAsync(path1);
        await EnableAnaNoticesAsync(path2);

        var data = Patterns.Of(8 * ns2.BlockSize, 21);
        await path2.IoQueues[0].WriteAsync(ns2, 16, data).AsTask().WaitAsync(Bound);
        var back = new byte[data.Length];
        await path1.IoQueues[0].ReadAsync(ns1, 16, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);

        var before = await AnaLogAsync(path1, 0);
        log($"ANA log before, port 1: {before}");
        Assert.Equal([(1u, AnaState.Optimized, Array.Empty<uint>()), (2u, AnaState.Optimized, [1u])], before.Groups.Select(g => (g.GroupId, g.State, g.Nsids)), GroupComparer.Instance);
        var groupsOnly = await AnaLogAsync(path2, AnaLogLayout.ReturnGroupsOnly);
        Assert.Equal([(1u, AnaState.Optimized, Array.Empty<uint>()), (2u, AnaState.Optimized, Array.Empty<uint>())], groupsOnly.Groups.Select(g => (g.GroupId, g.State, g.Nsids)), GroupComparer.Instance);

        await control("ana 1 2 inaccessible");
        var notice = await events1.Ana.Task.WaitAsync(Bound);
        Assert.Equal((byte)AsyncEventType.Notice, notice.EventType);
        var after1 = await AnaLogAsync(path1, 0);
        var after2 = await AnaLogAsync(path2, 0);
        log($"ANA log after, port 1: {after1}; port 2: {after2}");
        Assert.True(after1.ChangeCount > before.ChangeCount, $"CHGCNT {before.ChangeCount} -> {after1.ChangeCount}");
        Assert.Equal(AnaState.Inaccessible, after1.Groups.Single(g => g.GroupId == 2).State);
        Assert.Equal(AnaState.Optimized, after2.Groups.Single(g => g.GroupId == 2).State);
        Assert.True(after1.Groups.Single(g => g.GroupId == 2).ChangeCount > 0);

        var refused = await Assert.ThrowsAsync<NvmeStatusException>(() => path1.IoQueues[0].ReadAsync(ns1, 16, back).AsTask().WaitAsync(Bound));
        log($"Read through port 1: {refused.Status} ({refused.StatusName})");
        Assert.Equal((NvmeStatusCodeType.PathRelated, (byte)(StatusCodes.AnaInaccessible & 0xFF), false), (refused.Status.CodeType, refused.Status.Code, refused.Status.DoNotRetry));
        Array.Clear(back);
        await path2.IoQueues[0].ReadAsync(ns2, 16, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
        // Port 2's controller was not told: nvmet sends the notice to the controllers of the port whose state changed
        // (nvmet_port_send_ana_event). Checked after port 1's notice and two round trips on port 2, with no wait.
        Assert.False(events2.Ana.Task.IsCompleted, "port 2's controller got an ANA change notice for port 1's state");

        // The other states, each with its status (none for non-optimized), then back to optimized. A notice comes again
        // (the client read the log with RAE clear); which change it reports depends on when the client read it.
        events1.Rearm();
        foreach (var (state, code) in new[] { ("change", StatusCodes.AnaTransition), ("persistent-loss", StatusCodes.AnaPersistentLoss), ("non-optimized", (ushort)0) })
        {
            await control($"ana 1 2 {state}");
            var read = path1.IoQueues[0].ReadAsync(ns1, 16, back).AsTask().WaitAsync(Bound);
            if (code == 0)
            {
                await read;
                log($"Read through port 1 while {state}: served");
                continue;
            }

            var failed = await Assert.ThrowsAsync<NvmeStatusException>(() => read);
            log($"Read through port 1 while {state}: {failed.Status} ({failed.StatusName})");
            Assert.Equal((NvmeStatusCodeType.PathRelated, (byte)(code & 0xFF), false), (failed.Status.CodeType, failed.Status.Code, failed.Status.DoNotRetry));
        }

        await control("ana 1 2 optimized");
        await events1.Ana.Task.WaitAsync(Bound);
        Array.Clear(back);
        await path1.IoQueues[0].ReadAsync(ns1, 16, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
        Assert.Equal(AnaState.Optimized, (await AnaLogAsync(path1, 0)).Groups.Single(g => g.GroupId == 2).State);

        // Port 2 taken from the subsystem and given back: its controller is dropped and reconnects by itself once the
        // port serves again; port 1 serves meanwhile.
        var states2 = new StateLog(path2);
        await control("mp-port-remove 2");
        await states2.WaitForAsync(NvmeControllerState.Connecting, Bound);
        Array.Clear(back);
        await path1.IoQueues[0].ReadAsync(ns1, 16, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
        await control("mp-port-add 2");
        await states2.WaitForAsync(NvmeControllerState.Live, Bound);
        Array.Clear(back);
        await path2.IoQueues[0].ReadAsync(path2.GetNamespace(1), 16, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
        log($"port 2 removed and added: {states2}");
        return id;
    }

    private static NvmeTcpOptions Options(IPEndPoint endPoint) => new()
    {
        Address = endPoint.Address.ToString(),
        Port = endPoint.Port,
        SubsystemNqn = NvmetTarget.MultipathNqn,
        HostNqn = NvmetTarget.HostNqn,
        IoQueueCount = 1,
        IoQueueSize = 16,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ReconnectDelay = TimeSpan.FromSeconds(1),
        ControllerLossTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>
    /// Waits (bounded) until the client's own Set Features has enabled the notices it acts on, ANA change among them
    /// (it sends it in the background after connecting), and checks the controller holds exactly those.
    /// </summary>
    private static async Task EnableAnaNoticesAsync(NvmeController controller)
    {
        var wanted = (uint)(AsyncEventConfiguration.NamespaceAttribute | AsyncEventConfiguration.AnaChange);
        for (var i = 0; i < 100; i++)
        {
            if (await controller.GetFeatureAsync(FeatureId.AsyncEventConfiguration).WaitAsync(Bound) == wanted)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"The client never enabled namespace attribute and ANA change notices (AEC 0x{await controller.GetFeatureAsync(FeatureId.AsyncEventConfiguration):X}).");
    }

    private static async Task<AnaLog> AnaLogAsync(NvmeController controller, byte logSpecific) =>
        AnaLog.Parse(await controller.GetLogPageAsync(LogPageId.AsymmetricNamespaceAccess, 4096, logSpecific: logSpecific).WaitAsync(Bound));

    private sealed class Events
    {
        public Events(NvmeController controller) => controller.AsyncEvent += (_, e) =>
        {
            if (e.EventInformation == (byte)AsyncEventNotice.AnaChange && e.LogPageId == LogPageId.AsymmetricNamespaceAccess)
            {
                All.Enqueue(e);
                Ana.TrySetResult(e);
            }
        };

        public ConcurrentQueue<NvmeAsyncEventArgs> All { get; } = new();

        public TaskCompletionSource<NvmeAsyncEventArgs> Ana { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Rearm() => Ana = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class GroupComparer : IEqualityComparer<(uint GroupId, AnaState State, uint[] Nsids)>
    {
        public static readonly GroupComparer Instance = new();

        public bool Equals((uint GroupId, AnaState State, uint[] Nsids) x, (uint GroupId, AnaState State, uint[] Nsids) y) =>
            x.GroupId == y.GroupId && x.State == y.State && x.Nsids.SequenceEqual(y.Nsids);

        public int GetHashCode((uint GroupId, AnaState State, uint[] Nsids) obj) => HashCode.Combine(obj.GroupId, obj.State);
    }

    private sealed record AnaGroup(uint GroupId, ulong ChangeCount, AnaState State, uint[] Nsids)
    {
        public override string ToString() => $"group {GroupId} {State} chgcnt {ChangeCount} nsids [{string.Join(",", Nsids)}]";
    }

    private sealed record AnaLog(ulong ChangeCount, IReadOnlyList<AnaGroup> Groups)
    {
        // The client's parser (NvmeAnaLog), seen as records the assertions compare whole.
        public static AnaLog Parse(ReadOnlySpan<byte> log)
        {
            var parsed = NvmeAnaLog.Parse(log);
            return new AnaLog(parsed.ChangeCount, [.. parsed.Groups.Select(g => new AnaGroup(g.GroupId, g.ChangeCount, g.State, [.. g.NamespaceIds]))]);
        }

        public override string ToString() => $"CHGCNT {ChangeCount}: {string.Join("; ", Groups)}";
    }
}
