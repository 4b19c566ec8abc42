using System.Globalization;
using System.Net;
using System.Text.Json;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Target;

namespace NvmeTcp.Cli.Tests;

/// <summary>
/// An in-process target serving one subsystem on two ports (PORTID 1 and 2): namespace 1 in ANA group 1, namespace 2
/// in ANA group 2. Tests that change ANA states put them back.
/// </summary>
public sealed class TwoPortTargetFixture : IAsyncLifetime
{
    public const string Nqn = "nqn.2026-01.io.nvmetcp:cli-multipath";

    public NvmeTcpTarget Target { get; private set; } = null!;

    public string Port(ushort portId) => Target.Ports.Single(p => p.PortId == portId).EndPoint.Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Both ports as two -a/-s pairs, and the NQN.</summary>
    public string[] Paths => ["-a", "127.0.0.1", "-s", Port(1), "-a", "127.0.0.1", "-s", Port(2), "-n", Nqn];

    public ValueTask InitializeAsync() => new(StartAsync());

    public async ValueTask DisposeAsync() => await Target.DisposeAsync();

    private async Task StartAsync() => Target = await Start(Nqn, 2);

    /// <summary>A target with <paramref name="ports"/> ports on loopback (PORTID 1, 2, ...), serving <paramref name="nqn"/>.</summary>
    public static Task<NvmeTcpTarget> Start(string nqn, int ports)
    {
        var subsystem = new NvmeSubsystemOptions(nqn) { ModelNumber = "cli multipath", SerialNumber = "CLIMP01" };
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 16L << 20, 512));
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(2, 8L << 20, 4096) { AnaGroupId = 2 });
        var options = new NvmeTargetOptions();
        for (ushort id = 1; id <= ports; id++)
        {
            options.Ports.Add(new NvmeTargetPort(id, new IPEndPoint(IPAddress.Loopback, 0)));
        }

        options.Subsystems.Add(subsystem);
        return NvmeTcpTarget.StartAsync(options);
    }
}

public sealed class MultipathVerbTests(TwoPortTargetFixture fixture) : IClassFixture<TwoPortTargetFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task List_subsys_json_has_nvme_clis_shape_with_every_path_and_its_ana_state()
    {
        var result = await Cli.RunAsync(["list-subsys", .. fixture.Paths, "--iopolicy", "round-robin", "-o", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var host = Assert.Single(result.Json().EnumerateArray());
        Assert.Equal(["HostNQN", "HostID", "Subsystems"], host.EnumerateObject().Select(p => p.Name));
        Assert.StartsWith("nqn.", host.GetProperty("HostNQN").GetString(), StringComparison.Ordinal);
        Assert.True(Guid.TryParse(host.GetProperty("HostID").GetString(), out _));
        var subsystem = Assert.Single(host.GetProperty("Subsystems").EnumerateArray());
        Assert.Equal(["Name", "NQN", "IOPolicy", "Paths"], subsystem.EnumerateObject().Select(p => p.Name));
        Assert.Matches("^nvmetcp-subsys[0-9]+$", subsystem.GetProperty("Name").GetString());
        Assert.Equal(TwoPortTargetFixture.Nqn, subsystem.GetProperty("NQN").GetString());
        Assert.Equal("round-robin", subsystem.GetProperty("IOPolicy").GetString());
        var paths = subsystem.GetProperty("Paths").EnumerateArray().ToList();
        Assert.Equal(2, paths.Count);
        Assert.All(paths, p => Assert.Equal(["Name", "Transport", "Address", "State", "ANAState"], p.EnumerateObject().Select(m => m.Name)));
        Assert.All(paths, p => Assert.Matches("^nvmetcp[0-9]+$", p.GetProperty("Name").GetString()));
        Assert.All(paths, p => Assert.Equal("tcp", p.GetProperty("Transport").GetString()));
        Assert.All(paths, p => Assert.Equal("live", p.GetProperty("State").GetString()));
        Assert.All(paths, p => Assert.Equal("optimized", p.GetProperty("ANAState").GetString()));
        Assert.Equal(
            [$"traddr=127.0.0.1,trsvcid={fixture.Port(1)}", $"traddr=127.0.0.1,trsvcid={fixture.Port(2)}"],
            paths.Select(p => p.GetProperty("Address").GetString()));
    }

    [Fact]
    public async Task List_subsys_normal_prints_nvme_clis_tree_and_the_namespaces_ana_state_per_path()
    {
        fixture.Target.SetAnaState(2, 2, AnaState.NonOptimized);
        try
        {
            // Namespace 2 is in group 2: optimized through port 1, non-optimized through port 2. Default policy numa.
            var result = await Cli.RunAsync(["list-subsys", .. fixture.Paths, "--namespace-id", "2"]);
            Assert.True(result.ExitCode == 0, result.ToString());
            var lines = result.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            Assert.Matches($"^nvmetcp-subsys[0-9]+ - NQN={TwoPortTargetFixture.Nqn}$", lines[0]);
            var indent = new string(' ', lines[0].IndexOf(" - ", StringComparison.Ordinal) + 3);
            Assert.StartsWith($"{indent}hostnqn=nqn.", lines[1], StringComparison.Ordinal);
            Assert.Equal($"{indent}iopolicy=numa", lines[2]);
            Assert.Equal("\\", lines[3]);
            Assert.Matches($@"^ \+- nvmetcp[0-9]+ tcp traddr=127\.0\.0\.1,trsvcid={fixture.Port(1)} live optimized$", lines[4]);
            Assert.Matches($@"^ \+- nvmetcp[0-9]+ tcp traddr=127\.0\.0\.1,trsvcid={fixture.Port(2)} live non-optimized$", lines[5]);
        }
        finally
        {
            fixture.Target.SetAnaState(2, 2, AnaState.Optimized);
        }
    }

    [Fact]
    public async Task List_subsys_with_discover_finds_both_ports_from_one_discovery_controller()
    {
        // The target serves discovery on every port; its log lists the subsystem on both.
        var result = await Cli.RunAsync(["list-subsys", "-a", "127.0.0.1", "-s", fixture.Port(1), "--discover", "--iopolicy", "queue-depth", "-o", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var subsystem = result.Json()[0].GetProperty("Subsystems")[0];
        Assert.Equal(TwoPortTargetFixture.Nqn, subsystem.GetProperty("NQN").GetString());
        Assert.Equal("queue-depth", subsystem.GetProperty("IOPolicy").GetString());
        Assert.Equal(
            new[] { fixture.Port(1), fixture.Port(2) }.Order(),
            subsystem.GetProperty("Paths").EnumerateArray().Select(p => p.GetProperty("Address").GetString()!.Split("trsvcid=")[1]).Order());
    }

    [Theory]
    [InlineData("-a", "127.0.0.1", "-a", "127.0.0.2", "-s", "4420", "-s", "4421", "-s", "4422")]
    [InlineData("-a", "127.0.0.1", "--iopolicy", "service-time")]
    [InlineData("-a", "127.0.0.1", "-s", "0")]
    public async Task List_subsys_bad_paths_or_policy_are_usage_errors(params string[] options)
    {
        var result = await Cli.RunAsync(["list-subsys", .. options, "-n", TwoPortTargetFixture.Nqn]);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.NotEqual(string.Empty, result.Error);
    }

    [Fact]
    public async Task Ana_log_json_has_nvme_clis_keys_and_the_state_through_the_port_asked()
    {
        fixture.Target.SetAnaState(2, 1, AnaState.Inaccessible);
        try
        {
            var result = await Cli.RunAsync(["ana-log", "-a", "127.0.0.1", "-s", fixture.Port(2), "-n", TwoPortTargetFixture.Nqn, "-o", "json"]);
            Assert.True(result.ExitCode == 0, result.ToString());
            var json = result.Json();
            Assert.Equal(["Asymmetric Namespace Access Log for NVMe device", "chgcnt", "ngrps", "ANA DESC LIST "], json.EnumerateObject().Select(p => p.Name));
            Assert.Matches("^nvmetcp[0-9]+$", json.GetProperty("Asymmetric Namespace Access Log for NVMe device").GetString());
            Assert.True(json.GetProperty("chgcnt").GetUInt64() > 0);
            var groups = json.GetProperty("ANA DESC LIST ").EnumerateArray().ToList();
            Assert.Equal(json.GetProperty("ngrps").GetInt32(), groups.Count);
            Assert.All(groups, g => Assert.Equal(["grpid", "nnsids", "chgcnt", "state", "NSIDS"], g.EnumerateObject().Select(p => p.Name)));
            var one = groups.Single(g => g.GetProperty("grpid").GetUInt32() == 1);
            Assert.Equal("inaccessible", one.GetProperty("state").GetString());
            Assert.Equal(1, one.GetProperty("nnsids").GetInt32());
            Assert.Equal([1u], one.GetProperty("NSIDS").EnumerateArray().Select(n => n.GetProperty("nsid").GetUInt32()));
            var two = groups.Single(g => g.GetProperty("grpid").GetUInt32() == 2);
            Assert.Equal("optimized", two.GetProperty("state").GetString());
            Assert.Equal([2u], two.GetProperty("NSIDS").EnumerateArray().Select(n => n.GetProperty("nsid").GetUInt32()));

            // Through port 1 the same group is still optimized.
            var other = await Cli.RunAsync(["ana-log", "-a", "127.0.0.1", "-s", fixture.Port(1), "-n", TwoPortTargetFixture.Nqn, "-o", "json"]);
            Assert.Equal("optimized", other.Json().GetProperty("ANA DESC LIST ").EnumerateArray().Single(g => g.GetProperty("grpid").GetUInt32() == 1).GetProperty("state").GetString());
        }
        finally
        {
            fixture.Target.SetAnaState(2, 1, AnaState.Optimized);
        }
    }

    [Fact]
    public async Task Ana_log_groups_only_and_normal_output_as_nvme_cli_prints_them()
    {
        var groupsOnly = await Cli.RunAsync(["ana-log", "-a", "127.0.0.1", "-s", fixture.Port(1), "-n", TwoPortTargetFixture.Nqn, "-g", "-o", "json"]);
        Assert.True(groupsOnly.ExitCode == 0, groupsOnly.ToString());
        var groups = groupsOnly.Json().GetProperty("ANA DESC LIST ").EnumerateArray().ToList();
        Assert.Contains(groups, g => g.GetProperty("grpid").GetUInt32() == 1);
        Assert.All(groups, g => Assert.Equal(0, g.GetProperty("nnsids").GetInt32()));
        Assert.All(groups, g => Assert.Equal(0, g.GetProperty("NSIDS").GetArrayLength()));

        var text = await Cli.RunAsync(["ana-log", "-a", "127.0.0.1", "-s", fixture.Port(1), "-n", TwoPortTargetFixture.Nqn]);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Matches($@"^Asymmetric Namespace Access Log for NVMe device: nvmetcp[0-9]+\r?\nANA LOG HEADER :-\r?\nchgcnt\t:\t", text.Out);
        Assert.Contains($"ANA Log Desc :-{Environment.NewLine}grpid\t:\t1{Environment.NewLine}nnsids\t:\t1{Environment.NewLine}chgcnt\t:\t", text.Out, StringComparison.Ordinal);
        Assert.Contains($"state\t:\toptimized{Environment.NewLine}\tnsid\t:\t1{Environment.NewLine}", text.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Perf_over_two_paths_round_robin_verifies_and_reports_each_paths_share()
    {
        var result = await Cli.RunAsync(["perf", .. fixture.Paths, "--iopolicy", "round-robin", "--pattern", "randrw", "--verify", "--size", "1m", "-D", "4", "-i", "1", "--time", "0.5", "-o", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(0, json.GetProperty("verify_errors").GetInt64());
        Assert.Equal("round-robin", json.GetProperty("iopolicy").GetString());
        Assert.Equal(2, json.GetProperty("io_queues").GetInt32());
        var paths = json.GetProperty("paths").EnumerateArray().ToList();
        Assert.Equal(2, paths.Count);
        Assert.All(paths, p => Assert.Equal(["name", "address", "ios"], p.EnumerateObject().Select(m => m.Name)));
        Assert.Equal([$"traddr=127.0.0.1,trsvcid={fixture.Port(1)}", $"traddr=127.0.0.1,trsvcid={fixture.Port(2)}"], paths.Select(p => p.GetProperty("address").GetString()));

        // No warmup and no prefill: every measured I/O completed on exactly one path; round-robin alternates.
        var counts = paths.Select(p => p.GetProperty("ios").GetInt64()).ToArray();
        Assert.Equal(json.GetProperty("ios").GetInt64(), counts.Sum());
        Assert.All(counts, c => Assert.True(c > counts.Sum() / 4, result.Out));
        Assert.Equal(string.Empty, result.Error);
    }

    [Fact]
    public async Task Perf_over_one_path_prints_no_path_report_and_the_normal_output_lists_paths_when_several()
    {
        var single = await Cli.RunAsync(["perf", "-a", "127.0.0.1", "-s", fixture.Port(1), "-n", TwoPortTargetFixture.Nqn, "-D", "2", "-i", "1", "--time", "0.2", "-o", "json"]);
        Assert.True(single.ExitCode == 0, single.ToString());
        Assert.False(single.Json().TryGetProperty("paths", out _));
        Assert.False(single.Json().TryGetProperty("iopolicy", out _));

        var several = await Cli.RunAsync(["perf", .. fixture.Paths, "--iopolicy", "queue-depth", "--pattern", "read", "--verify", "--size", "256k", "--namespace-id", "2", "-D", "2", "-i", "1", "--time", "0.2"]);
        Assert.True(several.ExitCode == 0, several.ToString());
        Assert.Contains("paths (queue-depth), I/Os completed while measured:", several.Out, StringComparison.Ordinal);
        Assert.Matches($@"nvmetcp[0-9]+ traddr=127\.0\.0\.1,trsvcid={fixture.Port(1)}: [0-9,]+", several.Out);
        Assert.Matches($@"nvmetcp[0-9]+ traddr=127\.0\.0\.1,trsvcid={fixture.Port(2)}: [0-9,]+", several.Out);
        Assert.Contains("blocks read back, all as written", several.Out, StringComparison.Ordinal);
    }
}

/// <summary>Verbs that need a target of their own: ports come and go while they run.</summary>
public sealed class MultipathChangeTests
{
    private const string Nqn = "nqn.2026-01.io.nvmetcp:cli-multipath-changes";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData("normal")]
    [InlineData("json")]
    public async Task Discover_persistent_prints_the_log_then_each_port_added_and_removed_until_cancelled(string format)
    {
        await using var target = await TwoPortTargetFixture.Start(Nqn, 1);
        var port1 = target.Ports[0].EndPoint.Port.ToString(CultureInfo.InvariantCulture);
        var output = new SharedWriter();
        using var stop = new CancellationTokenSource();
        var run = Cli.RunAsync(["discover", "-a", "127.0.0.1", "-s", port1, "--persistent", "-o", format], output, stop.Token);
        try
        {
            Assert.True(await output.WaitForAsync(t => t.Contains('\n'), Bound), output.ToString());
            var added = target.AddPort(new NvmeTargetPort(2, new IPEndPoint(IPAddress.Loopback, 0)));
            var port2 = added.EndPoint.Port.ToString(CultureInfo.InvariantCulture);
            Assert.True(await output.WaitForAsync(t => Shows(t, format, 2, "added    subtype"), Bound), output.ToString());
            Assert.True(target.RemovePort(2));
            Assert.True(await output.WaitForAsync(t => Shows(t, format, 3, "removed  subtype"), Bound), output.ToString());
            await stop.CancelAsync();
            var result = await run.WaitAsync(Bound, TestContext.Current.CancellationToken);

            // Ctrl+C is how a persistent discover ends: exit 0 after disconnecting.
            Assert.True(result.ExitCode == 0, result.ToString() + output);
            var text = output.ToString();
            if (format == "json")
            {
                var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
                Assert.Equal(3, lines.Count);
                Assert.All(lines[0].GetProperty("records").EnumerateArray(), r => Assert.Equal(port1, r.GetProperty("trsvcid").GetString()));
                Assert.Equal([port2], lines[1].GetProperty("added").EnumerateArray().Select(r => r.GetProperty("trsvcid").GetString()));
                Assert.Equal(0, lines[1].GetProperty("removed").GetArrayLength());
                Assert.Equal(0, lines[2].GetProperty("added").GetArrayLength());
                Assert.Equal([port2], lines[2].GetProperty("removed").EnumerateArray().Select(r => r.GetProperty("trsvcid").GetString()));
                Assert.True(lines[2].GetProperty("genctr").GetUInt64() > lines[1].GetProperty("genctr").GetUInt64());
            }
            else
            {
                Assert.StartsWith("Discovery Log Number of Records 1, Generation counter ", text, StringComparison.Ordinal);
                Assert.Matches(@"Discovery log changed, Generation counter \d+: 1 added, 0 removed", text);
                Assert.Matches(@"Discovery log changed, Generation counter \d+: 0 added, 1 removed", text);
                Assert.Matches($@"added    subtype: nvme subsystem, portid: 2, traddr: 127\.0\.0\.1, trsvcid: {port2}, subnqn: {Nqn}", text);
                Assert.Matches($@"removed  subtype: nvme subsystem, portid: 2, traddr: 127\.0\.0\.1, trsvcid: {port2}, subnqn: {Nqn}", text);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await run.WaitAsync(Bound, TestContext.Current.CancellationToken);
        }
    }

    // JSON: one object per line, so the count of lines; text: the change's own line.
    private static bool Shows(string text, string format, int jsonLines, string line) =>
        format == "json" ? text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= jsonLines : text.Contains(line, StringComparison.Ordinal);

    [Fact]
    public async Task Perf_over_two_paths_loses_one_mid_run_without_one_failed_io_or_mismatch()
    {
        await using var target = await TwoPortTargetFixture.Start(Nqn, 2);
        string Port(ushort id) => target.Ports.Single(p => p.PortId == id).EndPoint.Port.ToString(CultureInfo.InvariantCulture);
        var run = Cli.RunAsync(["perf", "-a", "127.0.0.1", "-s", Port(1), "-a", "127.0.0.1", "-s", Port(2), "-n", Nqn, "--iopolicy", "round-robin",
            "--pattern", "randrw", "--verify", "--size", "1m", "-D", "4", "-i", "1", "--time", "2", "--reconnect-delay", "1", "-o", "json"]);

        // Both paths connected (two I/O controllers), then some I/O on both before port 1 goes.
        for (var i = 0; i < 400 && target.ControllerCount < 2; i++)
        {
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        Assert.Equal(2, target.ControllerCount);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.False(run.IsCompleted);
        Assert.True(target.RemovePort(1));
        var result = await run.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(0, json.GetProperty("verify_errors").GetInt64());
        Assert.Equal(2, json.GetProperty("io_queues").GetInt32());
        var counts = json.GetProperty("paths").EnumerateArray().ToDictionary(p => p.GetProperty("address").GetString()!, p => p.GetProperty("ios").GetInt64());
        Assert.True(counts[$"traddr=127.0.0.1,trsvcid={Port(2)}"] > counts.Values.Sum() / 2, result.Out);
        Assert.Equal(json.GetProperty("ios").GetInt64(), counts.Values.Sum());
    }

    /// <summary>
    /// The soak of issue 16: 100 path flaps under <c>perf --verify</c> over two paths. Every tenth flap removes a port
    /// and adds it back (its connections die; the client reconnects after its 1 s delay), the others make a port's
    /// group inaccessible and then optimized again; ports alternate, never both down. 0 errors, 0 mismatches.
    /// </summary>
    [Fact]
    public async Task Soak_100_path_flaps_under_perf_verify_lose_no_io_and_no_data()
    {
        await using var target = await TwoPortTargetFixture.Start(Nqn, 2);
        var endPoints = target.Ports.ToDictionary(p => p.PortId, p => p.EndPoint);
        string Port(ushort id) => endPoints[id].Port.ToString(CultureInfo.InvariantCulture);
        var token = TestContext.Current.CancellationToken;
        var run = Cli.RunAsync(["perf", "-a", "127.0.0.1", "-s", Port(1), "-a", "127.0.0.1", "-s", Port(2), "-n", Nqn, "--iopolicy", "round-robin",
            "--pattern", "randrw", "--verify", "--size", "1m", "-D", "8", "-i", "1", "--time", "45", "--reconnect-delay", "1", "-o", "json"]);
        async Task UntilControllersAsync(int count, string what)
        {
            for (var i = 0; i < 400 && target.ControllerCount != count; i++)
            {
                await Task.Delay(25, token);
            }

            Assert.True(target.ControllerCount == count, $"{what}: {target.ControllerCount} controllers, not {count}");
        }

        await UntilControllersAsync(2, "start");
        for (var flap = 0; flap < 100; flap++)
        {
            var port = (ushort)(flap % 2 == 0 ? 1 : 2);
            if (flap % 10 == 9)
            {
                Assert.True(target.RemovePort(port));
                await UntilControllersAsync(1, $"flap {flap}: port {port} removed");
                target.AddPort(new NvmeTargetPort(port, endPoints[port]));
                await UntilControllersAsync(2, $"flap {flap}: port {port} back");
            }
            else
            {
                target.SetAnaState(port, 1, AnaState.Inaccessible);
                await Task.Delay(60, token);
                target.SetAnaState(port, 1, AnaState.Optimized);
            }

            await Task.Delay(60, token);
            Assert.False(run.IsCompleted, $"perf ended during flap {flap}");
        }

        var result = await run.WaitAsync(TimeSpan.FromSeconds(60), token);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(0, json.GetProperty("verify_errors").GetInt64());
        Assert.True(json.GetProperty("ios").GetInt64() > 1000, result.Out);
        Assert.All(json.GetProperty("paths").EnumerateArray(), p => Assert.True(p.GetProperty("ios").GetInt64() > 0, result.Out));
    }
}
