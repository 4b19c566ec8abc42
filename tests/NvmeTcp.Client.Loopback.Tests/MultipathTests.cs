using System.Collections.Concurrent;
using System.Net;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Client.Tests.Shared;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>
/// <see cref="NvmeSubsystem"/> against the in-process target serving one subsystem on two ports: ANA states and their
/// transitions, each policy's spread, and failover on a lost path, an ANA change and every path down then back,
/// with data verified and no error surfaced while a usable path exists.
/// </summary>
public sealed class MultipathTests
{
    private const ushort Port1 = 1;
    private const ushort Port2 = 2;
    private const uint Group = 1;

    private static Task<NvmeTcpTarget> StartTwoPortsAsync() => LoopbackTarget.StartAsync(options =>
    {
        options.Ports.Add(new NvmeTargetPort(Port1, new IPEndPoint(IPAddress.Loopback, 0)));
        options.Ports.Add(new NvmeTargetPort(Port2, new IPEndPoint(IPAddress.Loopback, 0)));
    });

    private static NvmeMultipathOptions Options(NvmeTcpTarget target, NvmeIoPolicy policy = NvmeIoPolicy.RoundRobin, TimeSpan? noPath = null)
    {
        var template = ClientOptions(target);
        template.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        template.ControllerLossTimeout = TimeSpan.FromSeconds(30);
        var options = new NvmeMultipathOptions { Template = template, IoPolicy = policy, NoPathTimeout = noPath ?? TimeSpan.FromSeconds(15) };
        foreach (var port in target.Ports)
        {
            options.Paths.Add(new DnsEndPoint("127.0.0.1", port.EndPoint.Port));
        }

        return options;
    }

    private static int PortOf(NvmeTcpTarget target, ushort portId) => target.Ports.Single(p => p.PortId == portId).EndPoint.Port;

    private static NvmePath PathOf(NvmeSubsystem subsystem, NvmeTcpTarget target, ushort portId) =>
        subsystem.Paths.Single(p => p.EndPoint.Port == PortOf(target, portId));

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 400 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition(), $"timed out waiting for {what}");
    }

    private static async Task ReadAndCheckAsync(NvmeSubsystem subsystem, NvmeSubsystemNamespace ns, ulong lba, byte[] expected)
    {
        var back = new byte[expected.Length];
        await subsystem.ReadAsync(ns, lba, back).AsTask().WaitAsync(Bound);
        Assert.Equal(expected, back);
    }

    [Fact]
    public async Task Two_ports_make_two_paths_to_the_same_namespaces_all_optimized()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target)).WaitAsync(Bound);

        Assert.Equal(2, subsystem.Paths.Count);
        Assert.Equal([1u, 2u], subsystem.Namespaces.Select(n => n.Id));
        var ns = subsystem.GetNamespace(1);
        Assert.False(ns.Nguid.IsEmpty);
        Assert.All(subsystem.Paths, p => Assert.Equal(AnaState.Optimized, p.AnaStateOf(1)));
        Assert.All(subsystem.Paths, p => Assert.True(p.Controller.Identify.ReportsAna));
        Assert.Equal(2, ns.Paths.Count);

        var data = Pattern(8192, 1);
        await subsystem.WriteAsync(ns, 100, data).AsTask().WaitAsync(Bound);
        await ReadAndCheckAsync(subsystem, ns, 100, data);
    }

    [Theory]
    [InlineData(NvmeIoPolicy.RoundRobin)]
    [InlineData(NvmeIoPolicy.QueueDepth)]
    public async Task Round_robin_and_queue_depth_use_both_optimized_paths(NvmeIoPolicy policy)
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, policy)).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);

        // 8 callers at once, 400 reads: queue-depth sees in-flight I/O on the busier path and picks the other.
        var buffers = Enumerable.Range(0, 8).Select(_ => new byte[4096]).ToArray();
        await Task.WhenAll(buffers.Select(async buffer =>
        {
            for (var i = 0; i < 50; i++)
            {
                await subsystem.ReadAsync(ns, (ulong)i * 8, buffer);
            }
        })).WaitAsync(Bound);

        var counts = subsystem.Paths.Select(p => p.CompletedIos).ToArray();
        Assert.Equal(400, counts.Sum());
        Assert.All(counts, c => Assert.True(c > 0, $"a path got no I/O: {string.Join(", ", counts)}"));
        if (policy == NvmeIoPolicy.RoundRobin)
        {
            // Strict alternation per namespace: the two counts differ by at most the callers' interleaving.
            Assert.InRange(Math.Abs(counts[0] - counts[1]), 0, 2);
        }
    }

    [Fact]
    public async Task Numa_keeps_to_the_first_optimized_path_and_moves_only_when_it_stops_being_usable()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, NvmeIoPolicy.Numa)).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);
        var first = subsystem.Paths[0];
        var second = subsystem.Paths[1];
        var buffer = new byte[4096];
        for (var i = 0; i < 20; i++)
        {
            await subsystem.ReadAsync(ns, 0, buffer).AsTask().WaitAsync(Bound);
        }

        Assert.Equal(20, first.CompletedIos);
        Assert.Equal(0, second.CompletedIos);

        target.SetAnaState(first.EndPoint.Port == PortOf(target, Port1) ? Port1 : Port2, Group, AnaState.NonOptimized);
        await WaitUntilAsync(() => first.AnaStateOf(1) == AnaState.NonOptimized, "the ANA change notice");
        for (var i = 0; i < 20; i++)
        {
            await subsystem.ReadAsync(ns, 0, buffer).AsTask().WaitAsync(Bound);
        }

        Assert.Equal(20, second.CompletedIos);
    }

    [Fact]
    public async Task Non_optimized_is_used_only_when_no_optimized_path_is_left_and_inaccessible_never()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, NvmeIoPolicy.RoundRobin, TimeSpan.FromMilliseconds(300))).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);
        var path1 = PathOf(subsystem, target, Port1);
        var path2 = PathOf(subsystem, target, Port2);
        var buffer = new byte[4096];

        target.SetAnaState(Port2, Group, AnaState.NonOptimized);
        await WaitUntilAsync(() => path2.AnaStateOf(1) == AnaState.NonOptimized, "port 2 non-optimized");
        for (var i = 0; i < 10; i++)
        {
            await subsystem.ReadAsync(ns, 0, buffer).AsTask().WaitAsync(Bound);
        }

        Assert.Equal((10L, 0L), (path1.CompletedIos, path2.CompletedIos));

        target.SetAnaState(Port1, Group, AnaState.Inaccessible);
        await WaitUntilAsync(() => path1.AnaStateOf(1) == AnaState.Inaccessible, "port 1 inaccessible");
        for (var i = 0; i < 10; i++)
        {
            await subsystem.ReadAsync(ns, 0, buffer).AsTask().WaitAsync(Bound);
        }

        Assert.Equal((10L, 10L), (path1.CompletedIos, path2.CompletedIos));

        target.SetAnaState(Port2, Group, AnaState.PersistentLoss);
        await WaitUntilAsync(() => path2.AnaStateOf(1) == AnaState.PersistentLoss, "port 2 persistent loss");
        var failed = await Assert.ThrowsAsync<NvmeNoPathException>(async () => await subsystem.ReadAsync(ns, 0, buffer).AsTask().WaitAsync(Bound));
        Assert.Contains("No usable path", failed.Message, StringComparison.Ordinal);
        Assert.Equal((10L, 10L), (path1.CompletedIos, path2.CompletedIos));
    }

    [Fact]
    public async Task Ana_change_under_write_load_loses_no_io_and_keeps_the_data()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, NvmeIoPolicy.Numa)).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);
        var changes = new ConcurrentQueue<string>();
        subsystem.PathChanged += (_, e) => changes.Enqueue($"{e.Path.Name} {e.Change}");

        var load = MultipathLoad.Start(subsystem, ns, callers: 8, seed: 5);
        await load.WaitForAsync(200);
        target.SetAnaState(Port1, Group, AnaState.Change);
        await load.WaitForAsync(200);
        target.SetAnaState(Port1, Group, AnaState.Inaccessible);
        target.SetAnaState(Port2, Group, AnaState.Optimized);
        await load.WaitForAsync(200);
        target.SetAnaState(Port1, Group, AnaState.Optimized);
        await load.WaitForAsync(200);
        await load.StopAndVerifyAsync();

        Assert.Contains(changes, c => c.EndsWith("AnaChanged", StringComparison.Ordinal));
        Assert.Equal(AnaState.Optimized, PathOf(subsystem, target, Port1).AnaStateOf(1));
        Assert.True(PathOf(subsystem, target, Port2).CompletedIos > 0, "the I/O never moved to port 2");
    }

    [Fact]
    public async Task A_path_status_without_a_notice_moves_the_io_and_the_log_is_read_again()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, NvmeIoPolicy.Numa)).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);
        var first = subsystem.Paths[0];
        var firstPort = first.EndPoint.Port == PortOf(target, Port1) ? Port1 : Port2;

        // The host disabled ANA notices: only the I/O's status tells it.
        await first.Controller.SetFeatureAsync(0x0B, 0).WaitAsync(Bound);
        target.SetAnaState(firstPort, Group, AnaState.Inaccessible);
        var data = Pattern(4096, 9);
        await subsystem.WriteAsync(ns, 7, data).AsTask().WaitAsync(Bound);
        await ReadAndCheckAsync(subsystem, ns, 7, data);
        Assert.Equal(2, subsystem.Paths[1].CompletedIos);
        await WaitUntilAsync(() => first.AnaStateOf(1) == AnaState.Inaccessible, "the ANA log read after the path status");
        Assert.Equal(AnaState.Inaccessible, first.Controller.AnaLog!.StateOf(Group));
    }

    [Fact]
    public async Task Port_removed_under_load_fails_over_without_an_error_and_the_path_returns_when_the_port_does()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, NvmeIoPolicy.RoundRobin)).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);
        var path1 = PathOf(subsystem, target, Port1);
        var endPoint = target.Ports.Single(p => p.PortId == Port1).EndPoint;

        var load = MultipathLoad.Start(subsystem, ns, callers: 8, seed: 6);
        await load.WaitForAsync(200);
        Assert.True(target.RemovePort(Port1));
        await WaitUntilAsync(() => path1.State != NvmeControllerState.Live, "path 1 to fail");
        await load.WaitForAsync(200);
        var before = path1.CompletedIos;
        target.AddPort(new NvmeTargetPort(Port1, endPoint));
        await WaitUntilAsync(() => path1.State == NvmeControllerState.Live, "path 1 to reconnect");
        await load.WaitForAsync(200);
        await load.StopAndVerifyAsync();
        Assert.True(path1.CompletedIos > before, "the returned path got no I/O");
    }

    [Fact]
    public async Task All_paths_down_io_waits_and_completes_when_a_path_returns()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, NvmeIoPolicy.RoundRobin)).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);
        var data = Pattern(4096, 3);
        var endPoint = target.Ports.Single(p => p.PortId == Port2).EndPoint;

        Assert.True(target.RemovePort(Port1));
        Assert.True(target.RemovePort(Port2));
        await WaitUntilAsync(() => subsystem.Paths.All(p => p.State != NvmeControllerState.Live), "both paths to fail");
        var write = subsystem.WriteAsync(ns, 55, data).AsTask();
        await Task.Delay(300);
        Assert.False(write.IsCompleted, "the write did not wait for a path");

        target.AddPort(new NvmeTargetPort(Port2, endPoint));
        await write.WaitAsync(Bound);
        await ReadAndCheckAsync(subsystem, ns, 55, data);
    }

    [Fact]
    public async Task All_paths_down_longer_than_the_no_path_timeout_fails_with_no_path()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, noPath: TimeSpan.FromMilliseconds(500))).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);
        Assert.True(target.RemovePort(Port1));
        Assert.True(target.RemovePort(Port2));
        var failed = await Assert.ThrowsAsync<NvmeNoPathException>(async () => await subsystem.ReadAsync(ns, 0, new byte[512]).AsTask().WaitAsync(Bound));
        Assert.True(failed.IsTransient);
    }

    [Fact]
    public async Task Dnr_is_never_retried_on_another_path()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, NvmeIoPolicy.Numa)).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);

        // Past the end of the namespace: LBA Out of Range, with DNR.
        var failed = await Assert.ThrowsAsync<NvmeStatusException>(async () => await subsystem.ReadAsync(ns, ns.BlockCount, new byte[512]).AsTask().WaitAsync(Bound));
        Assert.True(failed.Status.DoNotRetry);
        Assert.Equal(0, subsystem.Paths.Sum(p => p.CompletedIos));
        Assert.All(subsystem.Paths, p => Assert.Equal(0, p.InFlight));
    }

    [Fact]
    public async Task A_path_status_on_every_path_ends_after_each_path_was_tried_never_looping()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, NvmeIoPolicy.RoundRobin)).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);

        // Every I/O response says Internal Path Error (SCT 3, SC 00h) without DNR; the CQE status sits at byte 22.
        var status = new byte[2];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(status, (ushort)(StatusCodes.InternalPathError << 1));
        var faults = new[] { 1, 2 }.Select(queue => target.Testing.Faults.Add(new NvmeTargetFault
        {
            Pdu = NvmeFaultPdu.CapsuleResp, QueueId = queue, Action = NvmeFaultAction.Patch, Offset = 22, Bytes = status, Count = 1000,
        })).ToArray();
        var failed = await Assert.ThrowsAsync<NvmeStatusException>(async () => await subsystem.ReadAsync(ns, 0, new byte[512]).AsTask().WaitAsync(Bound));
        Assert.True(failed.Status.Is(StatusCodes.InternalPathError));

        // Each path once, then once more after the settle time if something changed: a small, bounded number.
        Assert.InRange(faults.Sum(f => f.Applied), 2, new NvmeMultipathOptions().MaxAttempts);
        Assert.All(faults, f => target.Testing.Faults.Remove(f));
    }

    [Fact]
    public async Task A_path_whose_namespace_differs_is_refused_and_the_others_are_untouched()
    {
        await using var target = await StartTwoPortsAsync();
        await using var other = await LoopbackTarget.StartAsync(
            options => options.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            subsystem => subsystem.Namespaces[0].Nguid = Enumerable.Repeat((byte)0x5A, 16).ToArray());
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target)).WaitAsync(Bound);

        var refused = await Assert.ThrowsAsync<NvmePathMismatchException>(() => subsystem.AddPathAsync(new DnsEndPoint("127.0.0.1", other.EndPoint.Port)).WaitAsync(Bound));
        Assert.Contains("NGUID", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, subsystem.Paths.Count);

        // The refused path's controller was disposed: the other target tears it down once its connections close.
        await WaitUntilAsync(() => other.ControllerCount == 0, "the refused path's controller to go");
    }

    [Fact]
    public async Task Paths_come_from_discovery_and_persistent_discovery_adds_and_removes_them()
    {
        await using var target = await StartTwoPortsAsync();
        var options = Options(target);
        options.Paths.Clear();
        options.DiscoveryEndPoints.Add(new DnsEndPoint("127.0.0.1", PortOf(target, Port1)));
        options.PersistentDiscovery = true;
        await using var subsystem = await NvmeSubsystem.ConnectAsync(options).WaitAsync(Bound);
        Assert.Equal(2, subsystem.Paths.Count);

        var third = target.AddPort(new NvmeTargetPort(3, new IPEndPoint(IPAddress.Loopback, 0)));
        await WaitUntilAsync(() => subsystem.Paths.Count == 3, "the third port's path");
        Assert.Contains(subsystem.Paths, p => p.EndPoint.Port == third.EndPoint.Port);

        Assert.True(target.RemovePort(Port2));
        await WaitUntilAsync(() => subsystem.Paths.Count == 2, "port 2's path to go");
        var data = Pattern(4096, 4);
        var ns = subsystem.GetNamespace(1);
        await subsystem.WriteAsync(ns, 9, data).AsTask().WaitAsync(Bound);
        await ReadAndCheckAsync(subsystem, ns, 9, data);
    }

    /// <summary>
    /// The soak: 100 path flaps under write+verify load, alternating ports, in turn a port removed and added again
    /// (connections die, controllers reconnect) and a port made inaccessible then optimized (ANA notices). Never
    /// both paths down at once; 0 errors and 0 mismatches allowed.
    /// </summary>
    [Fact]
    public async Task Soak_100_path_flaps_under_write_and_verify_load_lose_nothing()
    {
        await using var target = await StartTwoPortsAsync();
        await using var subsystem = await NvmeSubsystem.ConnectAsync(Options(target, NvmeIoPolicy.RoundRobin)).WaitAsync(Bound);
        var ns = subsystem.GetNamespace(1);
        var endPoints = target.Ports.ToDictionary(p => p.PortId, p => p.EndPoint);
        var load = MultipathLoad.Start(subsystem, ns, callers: 8, seed: 100);
        await load.WaitForAsync(50);
        for (var flap = 0; flap < 100; flap++)
        {
            var port = flap % 2 == 0 ? Port1 : Port2;
            var path = PathOf(subsystem, target, port);
            if (flap % 4 < 2)
            {
                Assert.True(target.RemovePort(port));
                await WaitUntilAsync(() => path.State != NvmeControllerState.Live, $"flap {flap}: port {port} down");
                await load.WaitForAsync(10);
                target.AddPort(new NvmeTargetPort(port, endPoints[port]));
                await WaitUntilAsync(() => path.State == NvmeControllerState.Live, $"flap {flap}: port {port} back");
            }
            else
            {
                target.SetAnaState(port, Group, AnaState.Inaccessible);
                await WaitUntilAsync(() => path.AnaStateOf(1) == AnaState.Inaccessible, $"flap {flap}: port {port} inaccessible");
                await load.WaitForAsync(10);
                target.SetAnaState(port, Group, AnaState.Optimized);
                await WaitUntilAsync(() => path.AnaStateOf(1) == AnaState.Optimized, $"flap {flap}: port {port} optimized");
            }

            await load.WaitForAsync(10);
        }

        await load.StopAndVerifyAsync();
        Assert.All(subsystem.Paths, p => Assert.True(p.CompletedIos > 0));
    }
}
