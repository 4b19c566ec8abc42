using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target.Tests;

/// <summary>Several ports serving one subsystem, ANA groups with per-port states, the ANA log, notices and path statuses.</summary>
public class AnaTests
{
    // DW0 of the ANA change notice: type notice (2), information 03h, log page 0Ch.
    private const uint AnaChangeDw0 = 0x000C0302;

    /// <summary>Two ports on 127.0.0.1 (PORTIDs 1 and 2); namespace 1 in group 1, namespaces 2 and 5 in group 3.</summary>
    private static NvmeTargetOptions TwoPorts()
    {
        var options = TestTargets.Options(s =>
        {
            s.Namespaces[1].AnaGroupId = 3;
            s.Namespaces.Add(new NvmeNamespaceOptions(5, 1 << 20) { AnaGroupId = 3 });
        });
        options.Ports.Add(new NvmeTargetPort(1, new IPEndPoint(IPAddress.Loopback, 0)));
        options.Ports.Add(new NvmeTargetPort(2, new IPEndPoint(IPAddress.Loopback, 0)));
        return options;
    }

    [Fact]
    public async Task Both_ports_serve_the_subsystem_with_the_ana_identify_fields()
    {
        await using var target = await TestTargets.StartAsync(TwoPorts());
        var ports = target.Ports;
        Assert.Equal([(ushort)1, (ushort)2], ports.Select(p => p.PortId));
        Assert.All(ports, p => Assert.NotEqual(0, p.EndPoint.Port));
        Assert.NotEqual(ports[0].EndPoint.Port, ports[1].EndPoint.Port);
        Assert.Equal(ports[0].EndPoint, target.EndPoint);

        var (admin1, cntlid1) = await RawHost.AdminAsync(ports[0].EndPoint, TestTargets.Nqn);
        await using var _1 = admin1;
        var (admin2, cntlid2) = await RawHost.AdminAsync(ports[1].EndPoint, TestTargets.Nqn);
        await using var _2 = admin2;
        Assert.NotEqual(cntlid1, cntlid2);
        await using var io1 = await RawHost.IoAsync(ports[0].EndPoint, TestTargets.Nqn, cntlid1);
        await using var io2 = await RawHost.IoAsync(ports[1].EndPoint, TestTargets.Nqn, cntlid2);
        var data = TestTargets.Pattern(4096, 1);
        Assert.True((await io1.ExecuteAsync(ReadWriteCommands.Write(1, 8, 8, 4096), writeData: data)).Cqe.Status.IsSuccess);
        var (read, back) = await io2.ExecuteAsync(ReadWriteCommands.Read(1, 8, 8, 4096));
        Assert.True(read.Status.IsSuccess);
        Assert.Equal(data, back);

        var id = NvmeIdentifyController.Parse((await admin2.ExecuteAsync(IdentifyCommand.Controller())).Data);
        Assert.Equal(IdentifyControllerLayout.CmicMultiplePorts | IdentifyControllerLayout.CmicMultipleControllers | IdentifyControllerLayout.CmicAnaReporting, id.Cmic);
        Assert.Equal((byte)0x5F, id.Anacap); // the five states (as nvmet) and a static ANAGRPID
        Assert.Equal((byte)10, id.Anatt);
        Assert.Equal(128u, id.Anagrpmax);
        Assert.Equal(128u, id.Nanagrpid);
        Assert.Equal((uint)(AsyncEventConfiguration.NamespaceAttribute | AsyncEventConfiguration.AnaChange), id.Oaes);
        Assert.Equal(3u, NvmeIdentifyNamespace.Parse((await admin2.ExecuteAsync(IdentifyCommand.Namespace(2))).Data).Anagrpid);
        Assert.Equal(1u, NvmeIdentifyNamespace.Parse((await admin2.ExecuteAsync(IdentifyCommand.Namespace(1))).Data).Anagrpid);
        var (_, supported) = await admin2.ExecuteAsync(GetLogPageCommand.Create(LogPageWriterIds.Supported, 1024));
        Assert.Equal(1u, RawHost.Dword(supported, LogPageId.AsymmetricNamespaceAccess * 4) & 1);

        var (disc, _) = await RawHost.AdminAsync(ports[1].EndPoint, NvmeIdentifyController.DiscoveryNqn);
        await using var _3 = disc;
        var discId = NvmeIdentifyController.Parse((await disc.ExecuteAsync(IdentifyCommand.Controller())).Data);
        Assert.Equal((0, 0, 0u, 0u, 0u), (discId.Cmic, discId.Anacap, discId.Anagrpmax, discId.Nanagrpid, discId.Oaes & (uint)AsyncEventConfiguration.AnaChange));
    }

    [Fact]
    public async Task Ana_log_per_port_with_and_without_rgo_and_in_parts()
    {
        var options = TwoPorts();
        options.AnaTransitionTime = 7;
        options.AnaGroupMax = 16;
        await using var target = await TestTargets.StartAsync(options);
        Assert.Equal(AnaState.Optimized, target.GetAnaState(2, 3));
        target.SetAnaState(2, 3, AnaState.Inaccessible);
        Assert.Equal(AnaState.Inaccessible, target.GetAnaState(2, 3));
        Assert.Equal(AnaState.Optimized, target.GetAnaState(1, 3));
        Assert.Equal(1UL, target.AnaChangeCount);

        var (admin1, _) = await RawHost.AdminAsync(target.Ports[0].EndPoint, TestTargets.Nqn);
        await using var _1 = admin1;
        var (admin2, _) = await RawHost.AdminAsync(target.Ports[1].EndPoint, TestTargets.Nqn);
        await using var _2 = admin2;
        var id = NvmeIdentifyController.Parse((await admin1.ExecuteAsync(IdentifyCommand.Controller())).Data);
        Assert.Equal((7, 16u, 16u), (id.Anatt, id.Anagrpmax, id.Nanagrpid));

        var (ok1, log1) = await admin1.ExecuteAsync(GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, 4096));
        Assert.True(ok1.Status.IsSuccess);
        var port1 = AnaLog.Parse(log1);
        Assert.Equal(1UL, port1.ChangeCount);
        Assert.Equal([new AnaGroup(1, 0, AnaState.Optimized, [1]), new AnaGroup(3, 0, AnaState.Optimized, [2, 5])], port1.Groups);
        var (_, log2) = await admin2.ExecuteAsync(GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, 4096));
        Assert.Equal([new AnaGroup(1, 0, AnaState.Optimized, [1]), new AnaGroup(3, 1, AnaState.Inaccessible, [2, 5])], AnaLog.Parse(log2).Groups);
        Assert.All(log2.AsSpan(AnaLogLayout.HeaderSize + (2 * AnaLogLayout.DescriptorSize) + (3 * AnaLogLayout.NsidSize)).ToArray(), b => Assert.Equal(0, b));

        // RGO: the descriptors without their NSIDs.
        var (_, groupsOnly) = await admin2.ExecuteAsync(GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, 4096, logSpecific: AnaLogLayout.ReturnGroupsOnly));
        Assert.Equal([new AnaGroup(1, 0, AnaState.Optimized, []), new AnaGroup(3, 1, AnaState.Inaccessible, [])], AnaLog.Parse(groupsOnly).Groups);

        // In parts: a dword-aligned offset and length read those bytes of the whole log; past its end is Invalid Field.
        var size = AnaLogLayout.HeaderSize + (2 * AnaLogLayout.DescriptorSize) + (3 * AnaLogLayout.NsidSize);
        var (_, part) = await admin2.ExecuteAsync(GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, 40, offset: 44));
        Assert.Equal(log2.AsSpan(44, 40).ToArray(), part);
        var (_, header) = await admin2.ExecuteAsync(GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, AnaLogLayout.HeaderSize));
        Assert.Equal(log2.AsSpan(0, AnaLogLayout.HeaderSize).ToArray(), header);
        var (past, _) = await admin2.ExecuteAsync(GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, 16, offset: (ulong)size + 4));
        StatusAssert.Is(StatusCodes.InvalidField, past, dnr: true);

        // Group 1, nvmet's default group, is listed without namespaces too.
        Assert.True(target.RemoveNamespace(TestTargets.Nqn, 1));
        var (_, without) = await admin2.ExecuteAsync(GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, 4096));
        Assert.Equal([new AnaGroup(1, 0, AnaState.Optimized, []), new AnaGroup(3, 1, AnaState.Inaccessible, [2, 5])], AnaLog.Parse(without).Groups);
    }

    [Theory]
    [InlineData(AnaState.Inaccessible, StatusCodes.AnaInaccessible)]
    [InlineData(AnaState.PersistentLoss, StatusCodes.AnaPersistentLoss)]
    [InlineData(AnaState.Change, StatusCodes.AnaTransition)]
    [InlineData(AnaState.NonOptimized, (ushort)0)]
    [InlineData(AnaState.Optimized, (ushort)0)]
    public async Task Io_through_a_port_follows_the_groups_state_there(AnaState state, ushort expected)
    {
        await using var target = await TestTargets.StartAsync(TwoPorts());
        var (admin1, cntlid1) = await RawHost.AdminAsync(target.Ports[0].EndPoint, TestTargets.Nqn);
        await using var _1 = admin1;
        var (admin2, cntlid2) = await RawHost.AdminAsync(target.Ports[1].EndPoint, TestTargets.Nqn);
        await using var _2 = admin2;
        await using var io1 = await RawHost.IoAsync(target.Ports[0].EndPoint, TestTargets.Nqn, cntlid1);
        await using var io2 = await RawHost.IoAsync(target.Ports[1].EndPoint, TestTargets.Nqn, cntlid2);
        var data = TestTargets.Pattern(8192, 2);
        Assert.True((await io1.ExecuteAsync(ReadWriteCommands.Write(1, 0, 16, 8192), writeData: data)).Cqe.Status.IsSuccess);

        target.SetAnaState(1, 1, state);
        var other = TestTargets.Pattern(8192, 3);
        var range = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(range.AsSpan(4), 16);
        var results = new List<Cqe>
        {
            (await io1.ExecuteAsync(ReadWriteCommands.Read(1, 0, 16, 8192))).Cqe,
            (await io1.ExecuteAsync(ReadWriteCommands.Write(1, 0, 16, 8192), writeData: other)).Cqe, // by R2T
            (await io1.ExecuteAsync(ReadWriteCommands.Write(1, 0, 1, 512).InCapsule(), other.AsMemory(0, 512))).Cqe,
            (await io1.ExecuteAsync(ReadWriteCommands.Compare(1, 0, 16, 8192), writeData: other)).Cqe, // what the writes left, when served
            (await io1.ExecuteAsync(ReadWriteCommands.WriteZeroes(1, 0, 16))).Cqe,
            (await io1.ExecuteAsync(DatasetManagementCommand.Create(1, 1, DatasetAttributes.Deallocate).InCapsule(), range)).Cqe,
            (await io1.ExecuteAsync(ReadWriteCommands.Flush(1))).Cqe,
            (await io1.ExecuteAsync(ReservationCommands.Report(1, 4096))).Cqe,
        };
        foreach (var cqe in results)
        {
            StatusAssert.Is(expected, cqe, dnr: false);
        }

        // Namespace 2 (group 3) and port 2 are not affected; group 1's data through port 2 is what was first written
        // when the commands above failed.
        Assert.True((await io1.ExecuteAsync(ReadWriteCommands.Read(2, 0, 1, 4096))).Cqe.Status.IsSuccess);
        var (read2, back) = await io2.ExecuteAsync(ReadWriteCommands.Read(1, 0, 16, 8192));
        Assert.True(read2.Status.IsSuccess);
        if (expected != 0)
        {
            Assert.Empty(io1.R2Ts.Where(r => r.R2tl == 8192).Skip(1)); // only the first write (before the change) was solicited
            Assert.Equal(data, back);
            var id = NvmeIdentifyNamespace.Parse((await admin1.ExecuteAsync(IdentifyCommand.Namespace(1))).Data);
            Assert.Equal(state == AnaState.Change ? 16UL : 0UL, id.Nuse); // NUSE 0 when inaccessible or lost, as nvmet
            Assert.Equal(16UL, NvmeIdentifyNamespace.Parse((await admin2.ExecuteAsync(IdentifyCommand.Namespace(1))).Data).Nuse);
        }
        else
        {
            Assert.All(back, b => Assert.Equal(0, b)); // served: Write Zeroes and the deallocation ran last
        }

        // Back to optimized: served again.
        target.SetAnaState(1, 1, AnaState.Optimized);
        Assert.True((await io1.ExecuteAsync(ReadWriteCommands.Read(1, 0, 16, 8192))).Cqe.Status.IsSuccess);
    }

    [Fact]
    public async Task Ana_change_notice_goes_to_that_ports_controllers_once_until_the_log_is_read()
    {
        await using var target = await TestTargets.StartAsync(TwoPorts());
        var (onPort1, _) = await RawHost.AdminAsync(target.Ports[0].EndPoint, TestTargets.Nqn);
        await using var _1 = onPort1;
        var (onPort2, _) = await RawHost.AdminAsync(target.Ports[1].EndPoint, TestTargets.Nqn);
        await using var _2 = onPort2;
        var (disabled, _) = await RawHost.AdminAsync(target.Ports[0].EndPoint, TestTargets.Nqn);
        await using var _3 = disabled;
        Assert.True((await disabled.ExecuteAsync(FeatureCommands.SetAsyncEventConfiguration(AsyncEventConfiguration.NamespaceAttribute))).Cqe.Status.IsSuccess);
        foreach (var host in new[] { onPort1, onPort2, disabled })
        {
            await ArmAsync(host, 0x4000);
        }

        target.SetAnaState(1, 1, AnaState.Inaccessible);
        var pdu = await onPort1.ReceiveAsync();
        Assert.Equal((PduType.CapsuleResp, (ushort)0x4000, AnaChangeDw0), (pdu.Header.Type, pdu.Header.Cqe.Cid, pdu.Header.Cqe.Dw0));
        Assert.True(AsyncEventCompletion.FromDword0(pdu.Header.Cqe.Dw0).IsNotice(AsyncEventNotice.AnaChange));

        // The notice was queued before SetAnaState returned: a Keep Alive answered first shows there was none.
        await NoEventAsync(onPort2);
        await NoEventAsync(disabled);

        // Masked until the log is read with RAE clear: a second change sends nothing, nor does a read with RAE.
        await ArmAsync(onPort1, 0x4001);
        target.SetAnaState(1, 1, AnaState.Change);
        await NoEventAsync(onPort1);
        Assert.True((await onPort1.ExecuteAsync(GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, 4096, retainAsyncEvent: true))).Cqe.Status.IsSuccess);
        target.SetAnaState(1, 1, AnaState.Optimized);
        await NoEventAsync(onPort1);
        var (_, log) = await onPort1.ExecuteAsync(GetLogPageCommand.Create(LogPageId.AsymmetricNamespaceAccess, 4096));
        Assert.Equal(3UL, AnaLog.Parse(log).ChangeCount);
        Assert.Equal(new AnaGroup(1, 3, AnaState.Optimized, [1]), AnaLog.Parse(log).Groups[0]);

        target.SetAnaState(1, 1, AnaState.NonOptimized);
        var again = await onPort1.ReceiveAsync();
        Assert.Equal((PduType.CapsuleResp, (ushort)0x4001, AnaChangeDw0), (again.Header.Type, again.Header.Cqe.Cid, again.Header.Cqe.Dw0));
    }

    [Fact]
    public async Task RemovePort_drops_that_ports_controllers_only_and_AddPort_serves_again()
    {
        await using var target = await TestTargets.StartAsync(TwoPorts());
        var port1 = target.Ports[0];
        var (admin1, cntlid1) = await RawHost.AdminAsync(port1.EndPoint, TestTargets.Nqn);
        await using var _1 = admin1;
        await using var io1 = await RawHost.IoAsync(port1.EndPoint, TestTargets.Nqn, cntlid1);
        var (admin2, cntlid2) = await RawHost.AdminAsync(target.Ports[1].EndPoint, TestTargets.Nqn);
        await using var _2 = admin2;
        await using var io2 = await RawHost.IoAsync(target.Ports[1].EndPoint, TestTargets.Nqn, cntlid2);
        var (disc, _) = await RawHost.AdminAsync(target.Ports[1].EndPoint, NvmeIdentifyController.DiscoveryNqn);
        await using var _3 = disc;
        Assert.True((await disc.ExecuteAsync(FeatureCommands.SetAsyncEventConfiguration(AsyncEventConfiguration.DiscoveryLogChange))).Cqe.Status.IsSuccess);
        await ArmAsync(disc, 0x5000);
        var generation = target.DiscoveryGenerationCounter;

        Assert.True(target.RemovePort(1));
        Assert.False(target.RemovePort(1));
        Assert.True(await admin1.WaitClosedAsync());
        Assert.True(await io1.WaitClosedAsync());
        Assert.Equal([(ushort)2], target.Ports.Select(p => p.PortId));
        Assert.True((await io2.ExecuteAsync(ReadWriteCommands.Read(1, 0, 1, 512))).Cqe.Status.IsSuccess);
        Assert.True((await admin2.ExecuteAsync(AdminCommands.KeepAlive())).Cqe.Status.IsSuccess);
        Assert.Equal(1, target.Controllers(TestTargets.Nqn));
        var notice = await disc.ReceiveAsync();
        Assert.Equal(0x0070F002u, notice.Header.Cqe.Dw0);
        Assert.True(target.DiscoveryGenerationCounter > generation);
        using (var refused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await Assert.ThrowsAsync<SocketException>(() => refused.ConnectAsync(port1.EndPoint, TestContext.Current.CancellationToken).AsTask());
        }

        // The ANA states of a removed port stay for its return, as nvmet's port keeps them.
        target.SetAnaState(1, 1, AnaState.Inaccessible);
        var removedGeneration = target.DiscoveryGenerationCounter;
        var added = target.AddPort(new NvmeTargetPort(1, port1.EndPoint));
        Assert.True(target.DiscoveryGenerationCounter > removedGeneration);
        Assert.Equal(port1.EndPoint, added.EndPoint);
        Assert.Equal([(ushort)2, (ushort)1], target.Ports.Select(p => p.PortId));
        Assert.Throws<ArgumentException>(() => target.AddPort(new NvmeTargetPort(1, new IPEndPoint(IPAddress.Loopback, 0))));
        var (admin3, cntlid3) = await RawHost.AdminAsync(port1.EndPoint, TestTargets.Nqn);
        await using var _4 = admin3;
        await using var io3 = await RawHost.IoAsync(port1.EndPoint, TestTargets.Nqn, cntlid3);
        StatusAssert.Is(StatusCodes.AnaInaccessible, (await io3.ExecuteAsync(ReadWriteCommands.Read(1, 0, 1, 512))).Cqe, dnr: false);
        target.SetAnaState(1, 1, AnaState.Optimized);
        Assert.True((await io3.ExecuteAsync(ReadWriteCommands.Read(1, 0, 1, 512))).Cqe.Status.IsSuccess);
    }

    [Fact]
    public async Task Discovery_log_has_an_entry_per_subsystem_and_port()
    {
        var options = TwoPorts();
        options.Subsystems.Add(new NvmeSubsystemOptions("nqn.2026-11.dev.nvmetcp:other"));
        await using var target = await TestTargets.StartAsync(options);
        var (disc, _) = await RawHost.AdminAsync(target.Ports[1].EndPoint, NvmeIdentifyController.DiscoveryNqn);
        await using var _1 = disc;
        var (_, whole) = await disc.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 5 * 1024));
        var entries = NvmeDiscoveryLog.Parse(whole).Entries;
        var expected = new[] { "nqn.2026-11.dev.nvmetcp:other", TestTargets.Nqn }
            .SelectMany(nqn => target.Ports.Select(p => (nqn, p.PortId, Port(p.EndPoint), "127.0.0.1")))
            .ToArray();
        Assert.Equal(expected, entries.Select(e => (e.SubsystemNqn, e.Portid, e.TransportServiceId, e.TransportAddress)).ToArray());

        static string Port(IPEndPoint endPoint) => endPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Ana_arguments_are_checked()
    {
        var badGroup = TestTargets.Options(s => s.Namespaces[0].AnaGroupId = 129);
        await Assert.ThrowsAsync<ArgumentException>(() => TestTargets.StartAsync(badGroup));
        var zeroGroup = TestTargets.Options(s => s.Namespaces[0].AnaGroupId = 0);
        await Assert.ThrowsAsync<ArgumentException>(() => TestTargets.StartAsync(zeroGroup));
        var twice = TestTargets.Options();
        twice.Ports.Add(new NvmeTargetPort(4, new IPEndPoint(IPAddress.Loopback, 0)));
        twice.Ports.Add(new NvmeTargetPort(4, new IPEndPoint(IPAddress.Loopback, 0)));
        await Assert.ThrowsAsync<ArgumentException>(() => TestTargets.StartAsync(twice));

        await using var target = await TestTargets.StartAsync();
        Assert.Equal([(ushort)1], target.Ports.Select(p => p.PortId)); // the single port of ListenEndPoint and PortId
        Assert.Throws<ArgumentException>(() => target.SetAnaState(2, 1, AnaState.Inaccessible));
        Assert.Throws<ArgumentOutOfRangeException>(() => target.SetAnaState(1, 0, AnaState.Inaccessible));
        Assert.Throws<ArgumentOutOfRangeException>(() => target.SetAnaState(1, 129, AnaState.Inaccessible));
        Assert.Throws<ArgumentOutOfRangeException>(() => target.SetAnaState(1, 1, AnaState.None));
        Assert.Throws<ArgumentException>(() => target.AddNamespace(TestTargets.Nqn, new NvmeNamespaceOptions(9, 1 << 20) { AnaGroupId = 200 }));
    }

    [Fact]
    public async Task A_port_that_cannot_be_bound_fails_the_start_and_releases_what_it_opened()
    {
        var directory = Directory.CreateTempSubdirectory("nvmetcp-ana-");
        try
        {
            var path = Path.Combine(directory.FullName, "disk.img");
            await using (var stream = File.Create(path))
            {
                stream.SetLength(1 << 20);
            }

            using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            taken.Listen();
            var options = TestTargets.Options(s => s.Namespaces.Add(NvmeNamespaceOptions.ForFile(7, path, 4096)));
            options.Ports.Add(new NvmeTargetPort(1, new IPEndPoint(IPAddress.Loopback, 0)));
            options.Ports.Add(new NvmeTargetPort(2, (IPEndPoint)taken.LocalEndPoint!));
            await Assert.ThrowsAsync<SocketException>(() => TestTargets.StartAsync(options));

            // The file is not held (a file namespace opens it exclusively), and a port is never shared.
            await using var target = await TestTargets.StartAsync(TestTargets.Options(s => s.Namespaces.Add(NvmeNamespaceOptions.ForFile(7, path, 4096))));
            Assert.Throws<SocketException>(() => target.AddPort(new NvmeTargetPort(2, target.EndPoint)));
            Assert.Throws<SocketException>(() => target.AddPort(new NvmeTargetPort(3, (IPEndPoint)taken.LocalEndPoint!)));
            Assert.Equal([(ushort)1], target.Ports.Select(p => p.PortId));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Sends an Asynchronous Event Request with <paramref name="cid"/>; it waits once a later command has completed.</summary>
    private static async Task ArmAsync(RawHost host, ushort cid)
    {
        var aer = AdminCommands.AsynchronousEventRequest();
        aer.Cid = cid;
        await host.SendAsync(host.EncodeCommand(aer));
        Assert.True((await host.ExecuteAsync(AdminCommands.KeepAlive())).Cqe.Status.IsSuccess);
    }

    /// <summary>
    /// A Keep Alive answered with nothing before it: any notice raised earlier would have been queued ahead of it
    /// (ExecuteAsync fails on a completion of another CID).
    /// </summary>
    private static async Task NoEventAsync(RawHost host) =>
        Assert.True((await host.ExecuteAsync(AdminCommands.KeepAlive())).Cqe.Status.IsSuccess);

    private static class LogPageWriterIds
    {
        public const byte Supported = 0x00;
    }

    private sealed record AnaGroup(uint GroupId, ulong ChangeCount, AnaState State, uint[] Nsids)
    {
        public bool Equals(AnaGroup? other) =>
            other is not null && (GroupId, ChangeCount, State) == (other.GroupId, other.ChangeCount, other.State) && Nsids.SequenceEqual(other.Nsids);

        public override int GetHashCode() => HashCode.Combine(GroupId, ChangeCount, State);
    }

    private sealed record AnaLog(ulong ChangeCount, IReadOnlyList<AnaGroup> Groups)
    {
        // The client's parser (NvmeAnaLog), seen as records the assertions compare whole.
        public static AnaLog Parse(ReadOnlySpan<byte> log)
        {
            var parsed = NvmeAnaLog.Parse(log);
            return new AnaLog(parsed.ChangeCount, [.. parsed.Groups.Select(g => new AnaGroup(g.GroupId, g.ChangeCount, g.State, [.. g.NamespaceIds]))]);
        }
    }
}

internal static class AnaTestTargetExtensions
{
    /// <summary>Live controllers of one subsystem.</summary>
    public static int Controllers(this NvmeTcpTarget target, string nqn) => target.FindSubsystem(nqn)!.Controllers.Count();
}
