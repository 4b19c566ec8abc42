using System.Net;
using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Target.Internal;

namespace NvmeTcp.Target.Tests;

// The target's writers and the client's parsers meet only in the Spec layouts: what one writes, the other reads back
// field by field. (The client's parsers are pinned to real Linux nvmet data by the golden tests in Client.Tests.)
public sealed class SpecRoundTripTests : IAsyncLifetime
{
    private const string HostNqn = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    private static readonly IPEndPoint Referral = new(IPAddress.Parse("192.0.2.7"), 8009);
    private NvmeTcpTarget _target = null!;

    public async ValueTask InitializeAsync()
    {
        var options = TestTargets.Options(s =>
        {
            s.Mdts = 3;
            s.Kas = 7;
            s.MaxQueueSize = 100;
            s.TrafficBasedKeepAlive = true;
            s.Namespaces.Add(new NvmeNamespaceOptions(5, 1L << 20, 4096, NvmeNamespaceBacking.Null));
        });
        options.DiscoveryReportsItself = true;
        options.DiscoveryReferrals.Add(Referral);
        options.PortId = 9;
        _target = await TestTargets.StartAsync(options);
    }

    public ValueTask DisposeAsync() => _target.DisposeAsync();

    [Fact]
    public void Identify_controller_of_an_io_controller()
    {
        WithController(TestTargets.Nqn, (controller, subsystem) =>
        {
            var d = new byte[IdentifyControllerLayout.Size];
            IdentifyWriter.Controller(d, controller, _target.Options);
            var id = NvmeIdentifyController.Parse(d);

            Assert.Equal(0, id.Vid);
            Assert.Equal(0, id.Ssvid);
            Assert.Equal("SN-TEST-1", id.SerialNumber);
            Assert.Equal("Test Model", id.ModelNumber);
            Assert.Equal("FR1", id.FirmwareRevision);
            Assert.Equal(6, id.Rab);
            Assert.Equal(0u, id.Ieee);
            Assert.Equal(IdentifyControllerLayout.CmicMultiplePorts | IdentifyControllerLayout.CmicMultipleControllers | IdentifyControllerLayout.CmicAnaReporting, id.Cmic);
            Assert.Equal(3, id.Mdts);
            Assert.Equal(subsystem.MaxTransferBytes, id.MaxDataTransferBytes(ControllerCapabilities.MinimumPageSize(controller.Cap)));
            Assert.Equal(controller.Cntlid, id.Cntlid);
            Assert.Equal(new Version(2, 0, 0), id.Version);
            Assert.Equal(0u, id.Rtd3r);
            Assert.Equal(0u, id.Rtd3e);
            Assert.Equal((uint)(AsyncEventConfiguration.NamespaceAttribute | AsyncEventConfiguration.AnaChange), id.Oaes);
            Assert.Equal(IdentifyControllerLayout.CtrattHostId128 | IdentifyControllerLayout.CtrattTrafficBasedKeepAlive, id.Ctratt);
            Assert.Equal(NvmeControllerType.Io, id.ControllerType);
            Assert.False(id.IsDiscoveryController);
            Assert.Equal(new byte[16], id.Fguid.ToArray());
            Assert.Equal((0, 0, 0), (id.Crdt1, id.Crdt2, id.Crdt3));
            Assert.Equal(0, id.Oacs);
            Assert.Equal(3, id.Acl);
            Assert.Equal(Controller.MaxAsyncEvents - 1, id.Aerl);
            Assert.Equal(0x03, id.Frmw); // slot 1 read-only, one slot
            Assert.Equal(IdentifyControllerLayout.LpaExtendedData, id.Lpa);
            Assert.Equal(Controller.ErrorLogEntries - 1, id.Elpe);
            Assert.Equal((0, 0, 0), (id.Npss, id.Avscc, id.Apsta));
            Assert.Equal((0, 0), (id.Wctemp, id.Cctemp));
            Assert.Equal((UInt128.Zero, UInt128.Zero), (id.Tnvmcap, id.Unvmcap));
            Assert.Equal(7, id.Kas);
            Assert.Equal((10, 0x5F, 128u, 128u), (id.Anatt, id.Anacap, id.Anagrpmax, id.Nanagrpid)); // ANATT as nvmet; the five states and a static ANAGRPID
            Assert.Equal(0x66, id.Sqes);
            Assert.Equal(0x44, id.Cqes);
            Assert.Equal(100, id.Maxcmd);
            Assert.Equal(5u, id.Nn);
            Assert.Equal(5u, id.Mnan); // with CMIC bit 3 the Linux host refuses MNAN 0 or above NN ("Invalid MNAN value")
            Assert.Equal(IdentifyControllerLayout.OncsCompare | IdentifyControllerLayout.OncsDatasetManagement | IdentifyControllerLayout.OncsWriteZeroes | IdentifyControllerLayout.OncsReservations, id.Oncs);
            Assert.Equal((0, 0), (id.Fuses, id.Fna));
            Assert.Equal(IdentifyControllerLayout.VwcPresent, id.Vwc);
            Assert.Equal((0, 0, 0, 0, 0), (id.Awun, id.Awupf, id.Nvscc, id.Nwpc, id.Acwu));
            Assert.Equal(0x00100001u, id.Sgls);
            Assert.Equal(TestTargets.Nqn, id.SubsystemNqn);
            Assert.Equal(subsystem.Ioccsz, id.Ioccsz);
            Assert.Equal(subsystem.IoInCapsuleSize, id.InCapsuleDataSize);
            Assert.Equal(1u, id.Iorcsz);
            Assert.Equal(0, id.Icdoff);
            Assert.Equal(0, id.Fcatt);
            Assert.Equal(1, id.Msdbd);
            Assert.Equal(0, id.Ofcs);
            Assert.Equal(d, id.Raw.ToArray());
        });
    }

    [Fact]
    public void Identify_controller_of_the_discovery_controller()
    {
        WithController(NvmeQualifiedName.Discovery, (controller, subsystem) =>
        {
            var d = new byte[IdentifyControllerLayout.Size];
            IdentifyWriter.Controller(d, controller, _target.Options);
            var id = NvmeIdentifyController.Parse(d);

            Assert.Equal(NvmeControllerType.Discovery, id.ControllerType);
            Assert.True(id.IsDiscoveryController);
            Assert.Equal(NvmeIdentifyController.DiscoveryNqn, id.SubsystemNqn);
            Assert.Equal((uint)AsyncEventConfiguration.DiscoveryLogChange, id.Oaes);
            Assert.Equal((0, TargetSubsystem.DiscoveryMdts, 0), (id.Cmic, id.Mdts, id.Sqes));
            Assert.Equal(0u, id.Nn);
            Assert.Equal(0u, id.Ioccsz);
            Assert.Equal(subsystem.MaxQueueSize, id.Maxcmd); // the Linux host refuses or warns about 0
            Assert.Equal(new Version(2, 0, 0), id.Version);
        });
    }

    [Theory]
    [InlineData(1u, 512)]
    [InlineData(2u, 4096)]
    [InlineData(5u, 4096)]
    public void Identify_namespace(uint nsid, int blockSize)
    {
        var ns = _target.FindSubsystem(TestTargets.Nqn)!.FindNamespace(nsid)!;
        var d = new byte[IdentifyNamespaceLayout.Size];
        IdentifyWriter.Namespace(d, ns, _target.ListeningPorts[0].Ana);
        var id = NvmeIdentifyNamespace.Parse(d);

        var memory = ns.Backing == NvmeNamespaceBacking.Memory;
        Assert.Equal(ns.BlockCount, id.Nsze);
        Assert.Equal(ns.BlockCount, id.Ncap);
        Assert.Equal(memory ? 0UL : ns.BlockCount, id.Nuse); // nothing written yet
        Assert.Equal(memory ? IdentifyNamespaceLayout.NsfeatThinProvisioning : 0, id.Nsfeat);
        Assert.Equal(0, id.Nlbaf);
        Assert.Equal(0, id.Flbas);
        Assert.Equal(0, id.CurrentLbaFormatIndex);
        Assert.False(id.MetadataAtEndOfLba);
        Assert.Equal((0, 0, 0), (id.Mc, id.Dpc, id.Dps));
        Assert.Equal(IdentifyNamespaceLayout.NmicShared, id.Nmic);
        Assert.Equal((IdentifyNamespaceLayout.RescapAllTypesIgnoreExistingKey, 0), (id.Rescap, id.Fpi));
        Assert.Equal(0x09, id.Dlfeat); // reads zeroes, Write Zeroes deallocates
        Assert.Equal(UInt128.Zero, id.Nvmcap);
        Assert.Equal(ns.Nguid, id.Nguid.ToArray());
        Assert.Equal(ns.Eui64, id.Eui64.ToArray());
        var format = Assert.Single(id.LbaFormats);
        Assert.Equal(0, format.MetadataSize);
        Assert.Equal(ns.BlockShift, format.Lbads);
        Assert.Equal(0, format.RelativePerformance);
        Assert.Equal(blockSize, id.BlockSize);
    }

    [Fact]
    public void Identify_namespace_of_no_namespace_is_zeroes()
    {
        var d = Enumerable.Repeat((byte)0xA5, IdentifyNamespaceLayout.Size).ToArray();
        IdentifyWriter.Namespace(d, null, _target.ListeningPorts[0].Ana);
        var id = NvmeIdentifyNamespace.Parse(d);
        Assert.Equal(0UL, id.Nsze);
        Assert.Equal(0, id.BlockSize);
        Assert.All(d, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Namespace_descriptors()
    {
        var ns = _target.FindSubsystem(TestTargets.Nqn)!.FindNamespace(2)!;
        var d = new byte[IdentifyCommand.DataSize];
        IdentifyWriter.NamespaceDescriptors(d, ns);
        var list = NvmeNamespaceDescriptor.ParseList(d);

        Assert.Equal(
            [NvmeNamespaceIdentifierType.Eui64, NvmeNamespaceIdentifierType.Nguid, NvmeNamespaceIdentifierType.Uuid, NvmeNamespaceIdentifierType.Csi],
            list.Select(x => x.Type));
        Assert.Equal(ns.Eui64, list[0].Value.ToArray());
        Assert.Equal(ns.Nguid, list[1].Value.ToArray());
        Assert.Equal(ns.Uuid, list[2].Uuid);
        Assert.Equal(NamespaceDescriptorLayout.CsiNvm, list[3].Csi);
    }

    [Theory]
    [InlineData(0u, new uint[] { 1, 2, 5 })]
    [InlineData(1u, new uint[] { 2, 5 })]
    [InlineData(5u, new uint[0])]
    public void Active_namespace_list(uint after, uint[] expected)
    {
        var d = new byte[NamespaceListLayout.Size];
        IdentifyWriter.ActiveNamespaces(d, _target.FindSubsystem(TestTargets.Nqn)!.Namespaces, after);
        Assert.Equal(expected, NvmeNamespaceList.Parse(d));
    }

    [Fact]
    public void Changed_namespace_list_and_its_notice()
    {
        WithController(TestTargets.Nqn, (controller, _) =>
        {
            controller.NamespacesChanged([5, 2]);
            var log = new byte[NamespaceListLayout.Size];
            controller.WriteChangedNamespaceLog(log, retainAsyncEvent: false);
            Assert.Equal([2u, 5u], NvmeNamespaceList.Parse(log));

            // The notice waits for an Asynchronous Event Request; nvmet's DW0 for it is 0x00040002.
            var (status, dw0) = controller.SubmitAsyncEventRequest(null!, 1)!.Value;
            Assert.True(status.IsSuccess);
            Assert.Equal(0x00040002u, dw0);
            var ev = AsyncEventCompletion.FromDword0(dw0);
            Assert.True(ev.IsNotice(AsyncEventNotice.NamespaceAttributeChanged));
            Assert.Equal(LogPageId.ChangedNamespaceList, ev.LogPageId);
        });
    }

    [Fact]
    public void Changed_namespace_list_overflow()
    {
        WithController(TestTargets.Nqn, (controller, _) =>
        {
            controller.NamespacesChanged(Enumerable.Range(1, NamespaceListLayout.MaxEntries + 1).Select(i => (uint)i));
            var log = new byte[NamespaceListLayout.Size];
            controller.WriteChangedNamespaceLog(log, retainAsyncEvent: true);
            Assert.Equal([NamespaceListLayout.Overflow], NvmeNamespaceList.Parse(log));
        });
    }

    [Fact]
    public void Error_log()
    {
        WithController(TestTargets.Nqn, (controller, _) =>
        {
            var lbaOutOfRange = new NvmeStatus(NvmeStatusCodeType.CommandSpecific, 0x80, doNotRetry: true);
            controller.RecordError(1, 0x0042, lbaOutOfRange);
            controller.RecordError(0, 0x0007, new NvmeStatus(NvmeStatusCodeType.Generic, 0x02, doNotRetry: true));
            var log = new byte[ErrorLogEntryLayout.Size * 3];
            controller.WriteErrorLog(log);
            var entries = NvmeErrorLogEntry.ParseList(log);

            Assert.Equal(3, entries.Count);
            Assert.Equal(2UL, entries[0].ErrorCount); // newest first
            Assert.Equal(0, entries[0].Sqid);
            Assert.Equal(0x0007, entries[0].Cid);
            Assert.Equal(1UL, entries[1].ErrorCount);
            Assert.Equal(1, entries[1].Sqid);
            Assert.Equal(0x0042, entries[1].Cid);
            Assert.Equal(lbaOutOfRange, entries[1].Status);
            Assert.Equal(0, entries[1].StatusField & 1); // phase tag
            Assert.Equal((byte)NvmeTransportType.Tcp, entries[1].Trtype);
            Assert.Equal((0UL, 0u, 0, 0UL, 0), (entries[1].Lba, entries[1].Nsid, entries[1].Vs, entries[1].CommandSpecific, entries[1].TransportTypeSpecific));
            Assert.True(entries[2].IsEmpty);
        });
    }

    [Fact]
    public void Smart_log()
    {
        WithController(TestTargets.Nqn, (controller, _) =>
        {
            controller.CountIo(write: true, 4096);
            controller.CountIo(write: true, 512 * 1000);
            controller.CountIo(write: false, 512);
            controller.RecordError(1, 1, new NvmeStatus(NvmeStatusCodeType.Generic, 0x02));
            var log = new byte[SmartLogLayout.Size];
            controller.WriteSmartLog(log);
            var smart = NvmeSmartLog.Parse(log);

            Assert.Equal(0, smart.CriticalWarning);
            Assert.Equal(300, smart.CompositeTemperature);
            Assert.Equal(27, smart.CompositeTemperatureCelsius);
            Assert.Equal(100, smart.AvailableSpare);
            Assert.Equal(10, smart.AvailableSpareThreshold);
            Assert.Equal(0, smart.PercentageUsed);
            Assert.Equal((UInt128)2, smart.DataUnitsWritten); // 1008 blocks: two units, rounded up
            Assert.Equal((UInt128)1, smart.DataUnitsRead);
            Assert.Equal((UInt128)2, smart.HostWriteCommands);
            Assert.Equal((UInt128)1, smart.HostReadCommands);
            Assert.Equal((UInt128)1, smart.ErrorLogEntries);
            Assert.Equal(UInt128.Zero, smart.PowerOnHours);
            Assert.All(smart.TemperatureSensors, t => Assert.Equal(0, t));
        });
    }

    [Fact]
    public void Commands_supported_and_effects()
    {
        var log = new byte[CommandEffectsLayout.Size];
        LogPageWriter.CommandsSupported(log);
        uint Admin(AdminOpcode o) => BitConverter.ToUInt32(log, CommandEffectsLayout.AdminEntry((byte)o));
        uint Io(NvmOpcode o) => BitConverter.ToUInt32(log, CommandEffectsLayout.IoEntry((byte)o));

        Assert.Equal(CommandEffectsLayout.Supported, Admin(AdminOpcode.Identify));
        Assert.Equal(CommandEffectsLayout.Supported, Admin(AdminOpcode.KeepAlive));
        Assert.Equal(0u, Admin(AdminOpcode.FormatNvm));
        Assert.Equal(CommandEffectsLayout.Supported, Io(NvmOpcode.Read));
        Assert.Equal(CommandEffectsLayout.Supported | CommandEffectsLayout.LogicalBlockContentChange, Io(NvmOpcode.Write));
        Assert.Equal(CommandEffectsLayout.Supported | CommandEffectsLayout.LogicalBlockContentChange, Io(NvmOpcode.WriteZeroes));
        Assert.Equal(0u, Io(NvmOpcode.Copy));
    }

    [Fact]
    public void Discovery_log()
    {
        WithController(NvmeQualifiedName.Discovery, (controller, _) =>
        {
            var log = new byte[DiscoveryLogWriter.SizeFor(_target, controller)];
            DiscoveryLogWriter.Write(log, _target, controller, _target.ListeningPorts[0]);
            var parsed = NvmeDiscoveryLog.Parse(log);

            Assert.Equal(_target.DiscoveryGenerationCounter, parsed.Header.Genctr);
            Assert.Equal(3UL, parsed.Header.Numrec);
            Assert.Equal(0, parsed.Header.Recfmt);
            Assert.True(parsed.IsComplete);
            Assert.Equal(
                [NvmeSubsystemType.CurrentDiscovery, NvmeSubsystemType.Nvm, NvmeSubsystemType.DiscoveryReferral],
                parsed.Entries.Select(e => e.SubsystemType));
            Assert.Equal([NvmeIdentifyController.DiscoveryNqn, TestTargets.Nqn, NvmeIdentifyController.DiscoveryNqn], parsed.Entries.Select(e => e.SubsystemNqn));
            Assert.All(parsed.Entries, e =>
            {
                Assert.Equal(NvmeTransportType.Tcp, e.TransportType);
                Assert.Equal(NvmeAddressFamily.IPv4, e.AddressFamily);
                Assert.Equal(NvmeSecureChannelRequirement.NotRequired, e.SecureChannel);
                Assert.True(e.SqFlowControlDisableSupported);
                Assert.Equal(9, e.Portid);
                Assert.Equal(0xFFFF, e.Cntlid); // dynamic controller model
                Assert.Equal(32, e.Asqsz);
                Assert.Equal(NvmeTcpSecurityType.None, e.TcpSecurityType);
            });
            Assert.Equal(
                DiscoveryLogEntryLayout.EflagsDuplicateReturnedInformation | DiscoveryLogEntryLayout.EflagsExplicitPersistentConnection,
                parsed.Entries[0].Eflags);
            Assert.Equal(0, parsed.Entries[1].Eflags);
            Assert.Equal(_target.EndPoint.Address.ToString(), parsed.Entries[1].TransportAddress);
            Assert.Equal(_target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), parsed.Entries[1].TransportServiceId);
            Assert.Equal("192.0.2.7", parsed.Entries[2].TransportAddress);
            Assert.Equal("8009", parsed.Entries[2].TransportServiceId);
        });
    }

    [Fact]
    public void Cap_cc_and_csts_of_a_controller()
    {
        WithController(TestTargets.Nqn, (controller, _) =>
        {
            var cap = controller.Cap;
            Assert.Equal(100, ControllerCapabilities.MaxQueueEntries(cap));
            Assert.NotEqual(0UL, cap & ControllerCapabilities.ContiguousQueuesRequired);
            Assert.Equal(TimeSpan.FromSeconds(7.5), ControllerCapabilities.Timeout(cap));
            Assert.Equal(CommandSetsSupported.Nvm | CommandSetsSupported.IoCommandSets, ControllerCapabilities.CommandSets(cap));

            controller.SetCc(ControllerConfiguration.Create(true, CommandSetSelection.AllIoCommandSets)); // what Linux writes
            Assert.True(ControllerStatus.IsReady(controller.Csts));
            Assert.True(controller.IsReady);
            controller.SetCc(ControllerConfiguration.WithShutdown(controller.Cc, ShutdownNotification.Normal));
            Assert.Equal(ShutdownStatus.Complete, ControllerStatus.Shutdown(controller.Csts));
            Assert.False(ControllerStatus.IsReady(controller.Csts));
        });
    }

    [Theory]
    [InlineData(5, 4)] // IOSQES 5
    [InlineData(6, 3)] // IOCQES 3
    public void Wrong_queue_entry_sizes_are_fatal(int iosqes, int iocqes)
    {
        WithController(TestTargets.Nqn, (controller, _) =>
        {
            controller.SetCc(ControllerConfiguration.Create(true, ioSubmissionQueueEntrySize: iosqes, ioCompletionQueueEntrySize: iocqes));
            Assert.True(ControllerStatus.IsFatal(controller.Csts));
            Assert.False(ControllerStatus.IsReady(controller.Csts));
        });
    }

    private void WithController(string nqn, Action<Controller, TargetSubsystem> test)
    {
        var subsystem = _target.FindSubsystem(nqn)!;
        var controller = new Controller(_target, subsystem, 0x21, HostNqn, Guid.NewGuid(), katoMs: 0, portId: 9);
        try
        {
            test(controller, subsystem);
        }
        finally
        {
            controller.TearDown("test over");
        }
    }
}
