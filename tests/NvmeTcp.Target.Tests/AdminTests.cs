using System.Net;
using Microsoft.Extensions.Time.Testing;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Tests;

public class AdminTests
{
    [Fact]
    public async Task Identify_namespaces_list_and_descriptors()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        var (_, ns1) = await admin.ExecuteAsync(IdentifyCommand.Namespace(1));
        var id1 = NvmeIdentifyNamespace.Parse(ns1);
        Assert.Equal((64UL << 20) / 512, id1.Nsze);
        Assert.Equal(512, id1.BlockSize);
        var (_, ns2) = await admin.ExecuteAsync(IdentifyCommand.Namespace(2));
        var id2 = NvmeIdentifyNamespace.Parse(ns2);
        Assert.Equal(4096, id2.BlockSize);
        Assert.Equal((16UL << 20) / 4096, id2.Ncap);
        Assert.NotEqual(id1.Nguid.ToArray(), id2.Nguid.ToArray());

        var (_, inactive) = await admin.ExecuteAsync(IdentifyCommand.Namespace(7));
        Assert.All(inactive, b => Assert.Equal(0, b)); // zeros, as nvmet
        var (broadcast, _) = await admin.ExecuteAsync(IdentifyCommand.Namespace(0xFFFFFFFF));
        StatusAssert.Is(StatusCodes.InvalidNamespaceOrFormat, broadcast, dnr: true);

        var (_, list) = await admin.ExecuteAsync(IdentifyCommand.ActiveNamespaces());
        Assert.Equal([1u, 2u], NvmeNamespaceList.Parse(list));
        var (_, after1) = await admin.ExecuteAsync(IdentifyCommand.ActiveNamespaces(1));
        Assert.Equal([2u], NvmeNamespaceList.Parse(after1));

        var (_, descriptors) = await admin.ExecuteAsync(IdentifyCommand.NamespaceDescriptors(1));
        var parsed = NvmeNamespaceDescriptor.ParseList(descriptors);
        Assert.Equal(
            [NvmeNamespaceIdentifierType.Eui64, NvmeNamespaceIdentifierType.Nguid, NvmeNamespaceIdentifierType.Uuid, NvmeNamespaceIdentifierType.Csi],
            parsed.Select(d => d.Type));
        Assert.Equal(id1.Nguid.ToArray(), parsed[1].Value.ToArray());
        Assert.Equal(id1.Eui64.ToArray(), parsed[0].Value.ToArray());
        Assert.Equal((byte)0, parsed[3].Csi);

        // Stable across restarts: derived from NQN and NSID.
        await using var again = await TestTargets.StartAsync();
        var (admin2, _) = await RawHost.AdminAsync(again.EndPoint, TestTargets.Nqn);
        await using var _2 = admin2;
        var (_, ns1Again) = await admin2.ExecuteAsync(IdentifyCommand.Namespace(1));
        Assert.Equal(id1.Nguid.ToArray(), NvmeIdentifyNamespace.Parse(ns1Again).Nguid.ToArray());
    }

    [Fact]
    public async Task Logs_features_keep_alive_abort()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        await io.ExecuteAsync(Protocol.Nvm.ReadWriteCommands.Write(1, 0, 8, 4096).InCapsule(), new byte[4096]);
        var (failed, _) = await io.ExecuteAsync(Protocol.Nvm.ReadWriteCommands.Read(1, 1UL << 40, 1, 512));
        Assert.False(failed.Status.IsSuccess);

        var (_, smart) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.SmartHealth, 512, 0xFFFFFFFF));
        var log = NvmeSmartLog.Parse(smart);
        Assert.Equal(1, (int)log.HostWriteCommands);
        Assert.Equal(1, (int)log.DataUnitsWritten);
        var (_, errors) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.ErrorInformation, 64 * 4));
        var first = NvmeErrorLogEntry.ParseList(errors)[0];
        Assert.Equal(1UL, first.ErrorCount);
        Assert.Equal(1, first.Sqid);
        Assert.Equal(StatusCodes.LbaOutOfRange, (ushort)(((int)first.Status.CodeType << 8) | first.Status.Code));
        var (_, effects) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.CommandsSupportedAndEffects, 4096));
        Assert.Equal(1u, RawHost.Dword(effects, 6 * 4) & 1); // Identify supported
        var (badLid, _) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 1024));
        StatusAssert.Is(StatusCodes.InvalidField, badLid, dnr: true);
        var (offsetLog, part) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.SmartHealth, 8, 0xFFFFFFFF, offset: 80));
        Assert.True(offsetLog.Status.IsSuccess);
        Assert.Equal(1u, RawHost.Dword(part, 0)); // host write commands at 80

        var (kato, _) = await admin.ExecuteAsync(FeatureCommands.SetKeepAliveTimer(1500));
        Assert.True(kato.Status.IsSuccess);
        var (katoGet, _) = await admin.ExecuteAsync(FeatureCommands.Get(FeatureId.KeepAliveTimer));
        Assert.Equal(2000u, katoGet.Dw0); // rounded up to KAS (1 s), as nvmet rounds to seconds
        var (queues, _) = await admin.ExecuteAsync(FeatureCommands.Get(FeatureId.NumberOfQueues));
        Assert.Equal(7u | (7u << 16), queues.Dw0);
        var (saveable, _) = await admin.ExecuteAsync(FeatureCommands.Set(FeatureId.KeepAliveTimer, 1000, save: true));
        Assert.False(saveable.Status.IsSuccess);
        var (unknown, _) = await admin.ExecuteAsync(FeatureCommands.Get(0x42));
        StatusAssert.Is(StatusCodes.InvalidField, unknown, dnr: true);
        var (aec, _) = await admin.ExecuteAsync(FeatureCommands.SetAsyncEventConfiguration(AsyncEventConfiguration.DiscoveryLogChange));
        StatusAssert.Is(StatusCodes.InvalidField, aec, dnr: true); // not supported by an I/O controller

        var (keepAlive, _) = await admin.ExecuteAsync(AdminCommands.KeepAlive());
        Assert.True(keepAlive.Status.IsSuccess);
        var (abort, _) = await admin.ExecuteAsync(AdminCommands.Abort(1, 7));
        Assert.True(abort.Status.IsSuccess);
        Assert.Equal(1u, abort.Dw0 & 1);
        var unknownOpcode = Sqe.Create(0x7E);
        DataPointer.SetTransport(ref unknownOpcode, 0);
        var (opcode, _) = await admin.ExecuteAsync(unknownOpcode);
        StatusAssert.Is(StatusCodes.InvalidOpcode, opcode, dnr: true);
    }

    [Fact]
    public async Task Connect_rejections()
    {
        var options = TestTargets.Options(s => s.AllowedHosts.Add("nqn.2014-08.org.nvmexpress:uuid:allowed"));
        await using var target = await TestTargets.StartAsync(options);
        await using var host = await RawHost.ConnectAsync(target.EndPoint);

        var (unknown, _) = await host.ConnectAdminAsync("nqn.2026-11.dev.nvmetcp:nope");
        StatusAssert.Is(StatusCodes.ConnectInvalidParameters, unknown, dnr: true);
        Assert.Equal((1u << 16) | 256u, unknown.Dw0);

        var (notAllowed, _) = await host.ConnectAdminAsync(TestTargets.Nqn);
        StatusAssert.Is(StatusCodes.ConnectInvalidHost, notAllowed, dnr: true);
        Assert.Equal((1u << 16) | 512u, notAllowed.Dw0);

        var (noController, _) = await host.ConnectIoAsync(TestTargets.Nqn, 1, 77);
        Assert.False(noController.Status.IsSuccess);

        var (smallAdmin, _) = await host.ExecuteAsync(Protocol.Fabrics.ConnectCommand.Create(0, 8), RawHost.ConnectDataFor(TestTargets.Nqn, hostNqn: "nqn.2014-08.org.nvmexpress:uuid:allowed"));
        StatusAssert.Is(StatusCodes.ConnectInvalidParameters, smallAdmin, dnr: true);
        Assert.Equal(44u, smallAdmin.Dw0);

        var (ok, _) = await host.ConnectAdminAsync(TestTargets.Nqn, hostNqn: "nqn.2014-08.org.nvmexpress:uuid:allowed");
        Assert.True(ok.Status.IsSuccess);
        Assert.Empty(target.Testing.Violations);
    }

    [Fact]
    public async Task Io_connect_checks_queue_id_size_and_host()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await admin.ExecuteAsync(FeatureCommands.SetNumberOfQueues(2, 2));
        await using var host = await RawHost.ConnectAsync(target.EndPoint);
        var (qid, _) = await host.ConnectIoAsync(TestTargets.Nqn, 3, cntlid);
        StatusAssert.Is(StatusCodes.ConnectInvalidParameters, qid, dnr: true);
        Assert.Equal(42u, qid.Dw0);
        var (size, _) = await host.ConnectIoAsync(TestTargets.Nqn, 1, cntlid, queueSize: 129);
        StatusAssert.Is(StatusCodes.ConnectInvalidParameters, size, dnr: true);
        Assert.Equal(44u, size.Dw0);
        var (otherHost, _) = await host.ExecuteAsync(Protocol.Fabrics.ConnectCommand.Create(1, 32), RawHost.ConnectDataFor(TestTargets.Nqn, cntlid, "nqn.2014-08.org.nvmexpress:uuid:other"));
        StatusAssert.Is(StatusCodes.ConnectInvalidParameters, otherHost, dnr: true);
        Assert.Equal((1u << 16) | 16u, otherHost.Dw0);
        var (ok, _) = await host.ConnectIoAsync(TestTargets.Nqn, 2, cntlid);
        Assert.True(ok.Status.IsSuccess);
        await using var twice = await RawHost.ConnectAsync(target.EndPoint);
        var (again, _) = await twice.ConnectIoAsync(TestTargets.Nqn, 2, cntlid);
        StatusAssert.Is(StatusCodes.CommandSequenceError, again, dnr: true);
    }

    [Fact]
    public async Task Keep_alive_expiry_tears_the_controller_down()
    {
        var time = new FakeTimeProvider();
        var options = TestTargets.Options();
        options.TimeProvider = time;
        await using var target = await TestTargets.StartAsync(options);
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn, katoMs: 1000);
        await using var _1 = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);

        // Commands since CC.EN armed the timer (Property Get, the I/O Connect) count as traffic, as in nvmet's
        // nvmet_keep_alive_timer: the first expiry only re-arms it. The fake clock runs timer callbacks inside Advance.
        time.Advance(TimeSpan.FromMilliseconds(1000));
        Assert.Equal(1, target.ControllerCount);
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(1, target.ControllerCount);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, target.ControllerCount);
        Assert.True(await admin.WaitClosedAsync());
        Assert.True(await io.WaitClosedAsync());
    }

    [Fact]
    public async Task Keep_alive_commands_keep_the_controller()
    {
        var time = new FakeTimeProvider();
        var options = TestTargets.Options();
        options.TimeProvider = time;
        await using var target = await TestTargets.StartAsync(options);
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn, katoMs: 1000);
        await using var _1 = admin;
        for (var i = 0; i < 6; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(400));
            var (ka, _) = await admin.ExecuteAsync(AdminCommands.KeepAlive());
            Assert.True(ka.Status.IsSuccess);
        }

        Assert.Equal(1, target.ControllerCount);
        Assert.Equal(6, target.Testing.KeepAliveCount);

        // Idle from here: the last Keep Alive re-arms the timer once more, and a whole KATO after that it expires. Two
        // steps: a timer re-armed inside one Advance may count from the end of it.
        time.Advance(TimeSpan.FromMilliseconds(1000));
        time.Advance(TimeSpan.FromMilliseconds(1000));
        Assert.Equal(0, target.ControllerCount);
    }

    [Fact]
    public async Task Async_event_for_namespace_change()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        var (aec, _) = await admin.ExecuteAsync(FeatureCommands.SetAsyncEventConfiguration(AsyncEventConfiguration.NamespaceAttribute));
        Assert.True(aec.Status.IsSuccess);
        var aer = AdminCommands.AsynchronousEventRequest();
        aer.Cid = 0x4000;
        await admin.SendAsync(admin.EncodeCommand(aer));
        // Commands run in order: once a later one has completed, the AER is waiting for an event.
        Assert.True((await admin.ExecuteAsync(AdminCommands.KeepAlive())).Cqe.Status.IsSuccess);
        target.AddNamespace(TestTargets.Nqn, new NvmeNamespaceOptions(5, 1 << 20));
        var pdu = await admin.ReceiveAsync();
        Assert.Equal(PduType.CapsuleResp, pdu.Header.Type);
        Assert.Equal(0x4000, pdu.Header.Cqe.Cid);
        Assert.Equal(0x00040002u, pdu.Header.Cqe.Dw0);
        var (_, changed) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.ChangedNamespaceList, 4096));
        Assert.Equal([5u], NvmeNamespaceList.Parse(changed));
        var (_, list) = await admin.ExecuteAsync(IdentifyCommand.ActiveNamespaces());
        Assert.Equal([1u, 2u, 5u], NvmeNamespaceList.Parse(list));

        // AERL + 1 = 4 outstanding at most.
        for (ushort i = 0; i < 4; i++)
        {
            var more = AdminCommands.AsynchronousEventRequest();
            more.Cid = (ushort)(0x4100 + i);
            await admin.SendAsync(admin.EncodeCommand(more));
        }

        var (limit, _) = await admin.ExecuteAsync(AdminCommands.AsynchronousEventRequest());
        StatusAssert.Is(StatusCodes.AsyncEventRequestLimitExceeded, limit, dnr: true);
    }

    [Fact]
    public async Task Discovery_controller_reports_maxcmd()
    {
        // The Linux host checks MAXCMD of every fabrics controller, discovery included (nvme_check_ctrl_fabric_info):
        // 0 failed the connect on the kernels that first checked it and logs "Firmware bug" on later ones (6.12).
        // nvmet reports it on discovery too.
        await using var target = await TestTargets.StartAsync();
        var (disc, _) = await RawHost.AdminAsync(target.EndPoint, NvmeIdentifyController.DiscoveryNqn);
        await using var _1 = disc;
        var (_, idData) = await disc.ExecuteAsync(IdentifyCommand.Controller());
        var id = NvmeIdentifyController.Parse(idData);
        Assert.True(id.IsDiscoveryController);
        Assert.Equal(128, id.Maxcmd);
        Assert.NotEqual(0, id.Kas);
    }

    [Fact]
    public async Task Discovery_log_with_offsets_and_generation_counter()
    {
        var options = TestTargets.Options();
        options.Subsystems.Add(new NvmeSubsystemOptions("nqn.2026-11.dev.nvmetcp:other"));
        var hidden = new NvmeSubsystemOptions("nqn.2026-11.dev.nvmetcp:hidden");
        hidden.AllowedHosts.Add("nqn.2014-08.org.nvmexpress:uuid:someone-else");
        options.Subsystems.Add(hidden);
        await using var target = await TestTargets.StartAsync(options);
        var (disc, cntlid) = await RawHost.AdminAsync(target.EndPoint, NvmeIdentifyController.DiscoveryNqn);
        await using var _1 = disc;
        var (_, idData) = await disc.ExecuteAsync(IdentifyCommand.Controller());
        var id = NvmeIdentifyController.Parse(idData);
        Assert.Equal(NvmeControllerType.Discovery, id.ControllerType);
        Assert.True(id.IsDiscoveryController);
        Assert.Equal(cntlid, id.Cntlid);

        var (_, head) = await disc.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 1024));
        var header = NvmeDiscoveryLogHeader.Parse(head);
        Assert.Equal(2UL, header.Numrec);
        var (_, whole) = await disc.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 3 * 1024));
        var log = NvmeDiscoveryLog.Parse(whole);
        Assert.Equal(header.Genctr, log.Header.Genctr);
        var entries = log.Entries;
        Assert.Equal(["nqn.2026-11.dev.nvmetcp:other", TestTargets.Nqn], entries.Select(e => e.SubsystemNqn).Order(StringComparer.Ordinal));
        foreach (var e in entries)
        {
            Assert.Equal(NvmeTransportType.Tcp, e.TransportType);
            Assert.Equal(NvmeAddressFamily.IPv4, e.AddressFamily);
            Assert.Equal(NvmeSubsystemType.Nvm, e.SubsystemType);
            Assert.Equal(NvmeSecureChannelRequirement.NotRequired, e.SecureChannel);
            Assert.Equal(0xFFFF, e.Cntlid);
            Assert.Equal(32, e.Asqsz);
            Assert.Equal(target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), e.TransportServiceId);
            Assert.Equal(IPAddress.Loopback.ToString(), e.TransportAddress);
        }

        var (_, second) = await disc.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 1024, offset: 2048));
        Assert.Equal(entries[1].SubsystemNqn, NvmeDiscoveryLogEntry.Parse(second).SubsystemNqn);
        var (_, odd) = await disc.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 12, offset: 1028));
        Assert.Equal(whole.AsSpan(1028, 12).ToArray(), odd);
        var (past, _) = await disc.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 16, offset: 8192));
        StatusAssert.Is(StatusCodes.InvalidField, past, dnr: true); // an offset past the log (NVMe Base 2.0, 5.16)
        var misalignedSqe = GetLogPageCommand.Create(LogPageId.Discovery, 16);
        misalignedSqe.Cdw12 = 2;
        var (misaligned, _) = await disc.ExecuteAsync(misalignedSqe);
        StatusAssert.Is(StatusCodes.InvalidField, misaligned, dnr: true);

        var (smart, _) = await disc.ExecuteAsync(GetLogPageCommand.Create(LogPageId.SmartHealth, 512));
        StatusAssert.Is(StatusCodes.InvalidField, smart, dnr: true);
        var (ns, _) = await disc.ExecuteAsync(IdentifyCommand.Namespace(1));
        StatusAssert.Is(StatusCodes.InvalidField, ns, dnr: true);

        var (aec, _) = await disc.ExecuteAsync(FeatureCommands.SetAsyncEventConfiguration(AsyncEventConfiguration.DiscoveryLogChange));
        Assert.True(aec.Status.IsSuccess);
        var aer = AdminCommands.AsynchronousEventRequest();
        aer.Cid = 0x5000;
        await disc.SendAsync(disc.EncodeCommand(aer));
        // Commands run in order: once a later one has completed, the AER is waiting for an event.
        Assert.True((await disc.ExecuteAsync(AdminCommands.KeepAlive())).Cqe.Status.IsSuccess);
        target.AddSubsystem(new NvmeSubsystemOptions("nqn.2026-11.dev.nvmetcp:new"));
        var evt = await disc.ReceiveAsync();
        Assert.Equal(0x0070F002u, evt.Header.Cqe.Dw0);
        var (_, after) = await disc.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 1024));
        var newHeader = NvmeDiscoveryLogHeader.Parse(after);
        Assert.True(newHeader.Genctr > header.Genctr);
        Assert.Equal(3UL, newHeader.Numrec);
    }

    [Fact]
    public async Task Discovery_can_report_itself()
    {
        var options = TestTargets.Options();
        options.DiscoveryReportsItself = true;
        await using var target = await TestTargets.StartAsync(options);
        var (disc, _) = await RawHost.AdminAsync(target.EndPoint, NvmeIdentifyController.DiscoveryNqn);
        await using var _1 = disc;
        var (_, whole) = await disc.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 3 * 1024));
        var log = NvmeDiscoveryLog.Parse(whole);
        Assert.Equal(NvmeSubsystemType.CurrentDiscovery, log.Entries[0].SubsystemType);
        Assert.Equal(NvmeIdentifyController.DiscoveryNqn, log.Entries[0].SubsystemNqn);
    }
}
