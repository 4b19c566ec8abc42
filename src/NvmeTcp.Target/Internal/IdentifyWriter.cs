using System.Buffers.Binary;
using System.Text;
using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using Ctrl = NvmeTcp.Protocol.Spec.IdentifyControllerLayout;
using Ns = NvmeTcp.Protocol.Spec.IdentifyNamespaceLayout;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// Writes the 4096-byte Identify data structures (NVMe Base 2.0 5.17.2) through the Spec layouts the client's
/// <see cref="NvmeIdentifyController"/>, <see cref="NvmeIdentifyNamespace"/> and <see cref="NvmeNamespaceDescriptor"/>
/// read them with. Field choices follow Linux nvmet's <c>nvmet_execute_identify_ctrl</c> where nothing else is said.
/// </summary>
internal static class IdentifyWriter
{
    /// <summary>Size of every Identify structure.</summary>
    public const int Size = IdentifyCommand.DataSize;

    /// <summary>Most NSIDs in an active namespace list.</summary>
    public const int MaxListEntries = NamespaceListLayout.MaxEntries;

    /// <summary>Identify Controller (CNS 0x01), the fields <see cref="IdentifyControllerLayout"/> names.</summary>
    public static void Controller(Span<byte> d, Controller controller, NvmeTargetOptions options)
    {
        var subsystem = controller.Subsystem;
        d = d[..Size];
        d.Clear();
        WriteAscii(d.Slice(Ctrl.Sn, Ctrl.SnLength), subsystem.SerialNumber);
        WriteAscii(d.Slice(Ctrl.Mn, Ctrl.MnLength), subsystem.ModelNumber);
        WriteAscii(d.Slice(Ctrl.Fr, Ctrl.FrLength), subsystem.FirmwareRevision);
        d[Ctrl.Rab] = 6; // as nvmet
        // CMIC, as nvmet: several ports (NvmeTargetOptions.Ports), several controllers (dynamic, one per host and
        // port), ANA reporting. The discovery controller reports none of it.
        d[Ctrl.Cmic] = subsystem.IsDiscovery ? (byte)0 : (byte)(Ctrl.CmicMultiplePorts | Ctrl.CmicMultipleControllers | Ctrl.CmicAnaReporting);
        d[Ctrl.Mdts] = subsystem.Mdts;
        BinaryPrimitives.WriteUInt16LittleEndian(d[Ctrl.Cntlid..], controller.Cntlid);
        BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Ver..], Internal.Controller.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Oaes..], controller.SupportedEvents);
        // CTRATT: 128-bit host identifier (the Connect HOSTID is a UUID), as nvmet; TBKAS when configured.
        BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Ctratt..], Ctrl.CtrattHostId128 | (subsystem.TrafficBasedKeepAlive ? Ctrl.CtrattTrafficBasedKeepAlive : 0));
        d[Ctrl.Cntrltype] = subsystem.IsDiscovery ? Ctrl.ControllerTypeDiscovery : Ctrl.ControllerTypeIo;
        d[Ctrl.Acl] = 3; // 4 Aborts, 0's based
        d[Ctrl.Aerl] = Internal.Controller.MaxAsyncEvents - 1; // 0's based
        d[Ctrl.Frmw] = Ctrl.FrmwSlot1ReadOnly | (1 << Ctrl.FrmwSlotCountShift); // one slot, read-only
        d[Ctrl.Lpa] = Ctrl.LpaExtendedData; // offsets in Get Log Page
        d[Ctrl.Elpe] = Internal.Controller.ErrorLogEntries - 1; // 0's based
        BinaryPrimitives.WriteUInt16LittleEndian(d[Ctrl.Kas..], subsystem.Kas);
        // MAXCMD on every controller, the discovery controller included: nvmet's discovery Identify fills it too
        // (drivers/nvme/target/discovery.c), and the Linux host checks it for every fabrics controller
        // (nvme_check_ctrl_fabric_info in drivers/nvme/host/core.c): kernels with that check first refused 0 with
        // "Maximum outstanding commands is 0" (-EINVAL); later ones log "Firmware bug: maximum outstanding commands is
        // 0" and carry on. Seen with the 6.12 host against this target (LinuxHostTests).
        BinaryPrimitives.WriteUInt16LittleEndian(d[Ctrl.Maxcmd..], (ushort)Math.Min(subsystem.MaxQueueSize, ushort.MaxValue));
        if (!subsystem.IsDiscovery)
        {
            d[Ctrl.Sqes] = Ctrl.QueueEntrySizes(ControllerConfiguration.SqeSizeLog2, ControllerConfiguration.SqeSizeLog2);
            d[Ctrl.Cqes] = Ctrl.QueueEntrySizes(ControllerConfiguration.CqeSizeLog2, ControllerConfiguration.CqeSizeLog2);
            var namespaces = subsystem.Namespaces;
            // MNAN: with ANA reporting the Linux host needs 1 <= MNAN <= NN (nvme_mpath_init_identify); nvmet
            // reports its maximum for both. NN is at least 1 so that a subsystem without namespaces passes too.
            var nn = namespaces.Count == 0 ? 1u : namespaces[^1].Nsid;
            BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Nn..], nn);
            BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Mnan..], nn);
            BinaryPrimitives.WriteUInt16LittleEndian(d[Ctrl.Oncs..], Ctrl.OncsCompare | Ctrl.OncsDatasetManagement | Ctrl.OncsWriteZeroes | Ctrl.OncsReservations);
            d[Ctrl.Vwc] = Ctrl.VwcPresent; // Flush is accepted (it has nothing to do)

            // ANA: the five states, as nvmet; also GroupIdStatic, which nvmet leaves clear, because a namespace's
            // ANAGRPID is fixed while it is served here (nvmet's can change through configfs).
            d[Ctrl.Anatt] = options.AnaTransitionTime;
            d[Ctrl.Anacap] = (byte)(AnaCapabilities.ReportsOptimized | AnaCapabilities.ReportsNonOptimized | AnaCapabilities.ReportsInaccessible
                | AnaCapabilities.ReportsPersistentLoss | AnaCapabilities.ReportsChange | AnaCapabilities.GroupIdStatic);
            BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Anagrpmax..], options.AnaGroupMax);
            BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Nanagrpid..], options.AnaGroupMax);
        }

        // SGLs, and the offset subtype (in-capsule data), as nvmet with inline data.
        BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Sgls..], Ctrl.SglsSupported | Ctrl.SglsOffset);
        Encoding.UTF8.GetBytes(subsystem.Nqn, d.Slice(Ctrl.Subnqn, Ctrl.SubnqnLength));
        if (!subsystem.IsDiscovery)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Ioccsz..], subsystem.Ioccsz);
            BinaryPrimitives.WriteUInt32LittleEndian(d[Ctrl.Iorcsz..], Cqe.Size / Ctrl.CapsuleSizeUnit); // a CQE, no data
        }

        d[Ctrl.Msdbd] = 1; // one SGL descriptor
    }

    /// <summary>
    /// Identify Namespace (CNS 0x00), the fields <see cref="IdentifyNamespaceLayout"/> names. An NSID that names no
    /// active namespace gets zeros, as nvmet answers.
    /// </summary>
    /// <param name="d">The 4096 bytes to fill.</param>
    /// <param name="ns">The namespace, or null.</param>
    /// <param name="port">The ANA states of the port the command came through.</param>
    public static void Namespace(Span<byte> d, TargetNamespace? ns, PortAnaStates port)
    {
        d = d[..Size];
        d.Clear();
        if (ns is null)
        {
            return;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(d[Ns.Nsze..], ns.BlockCount);
        BinaryPrimitives.WriteUInt64LittleEndian(d[Ns.Ncap..], ns.BlockCount);
        var used = ns.Backing == NvmeNamespaceBacking.Memory
            ? (ulong)Math.Min((long)ns.BlockCount, ns.Store.AllocatedPages * SparseMemoryStore.PageSize / ns.BlockSize)
            : ns.BlockCount;
        // NUSE 0 where the group is inaccessible or lost on this port, as nvmet_execute_identify_ns.
        var reachable = port[ns.AnaGroupId] is not (AnaState.Inaccessible or AnaState.PersistentLoss);
        BinaryPrimitives.WriteUInt64LittleEndian(d[Ns.Nuse..], reachable ? used : 0);
        // Thin provisioning (NUSE counts written blocks) for memory namespaces.
        d[Ns.Nsfeat] = ns.Backing == NvmeNamespaceBacking.Memory ? Ns.NsfeatThinProvisioning : (byte)0;
        d[Ns.Nlbaf] = 0; // one format, 0's based
        d[Ns.Flbas] = Ns.FormattedLbaSize(0); // no metadata
        d[Ns.Nmic] = Ns.NmicShared;
        d[Ns.Rescap] = Ns.RescapAllTypesIgnoreExistingKey;
        // What deallocated blocks read: zeros for memory (pages are freed); not reported for a file, whose store
        // ignores deallocation.
        d[Ns.Dlfeat] = ns.Store.Deallocates ? (byte)(Ns.DlfeatReadsZeroes | Ns.DlfeatWriteZeroesDeallocates) : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(d[Ns.Anagrpid..], ns.AnaGroupId);
        ns.Nguid.CopyTo(d[Ns.Nguid..]);
        ns.Eui64.CopyTo(d[Ns.Eui64..]);
        BinaryPrimitives.WriteUInt32LittleEndian(d[Ns.LbaFormat(0)..], LbaFormatLayout.Create((byte)ns.BlockShift));
    }

    /// <summary>Active Namespace ID list (CNS 0x02): NSIDs above <paramref name="after"/>, ascending, zero-ended.</summary>
    public static void ActiveNamespaces(Span<byte> d, IReadOnlyList<TargetNamespace> namespaces, uint after)
    {
        d = d[..Size];
        d.Clear();
        var count = 0;
        foreach (var ns in namespaces)
        {
            if (ns.Nsid > after && count < MaxListEntries)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(d[(NamespaceListLayout.EntrySize * count++)..], ns.Nsid);
            }
        }
    }

    /// <summary>
    /// Namespace Identification Descriptor list (CNS 0x03), as <see cref="NamespaceDescriptorLayout"/>: EUI64, NGUID,
    /// UUID (RFC 9562 byte order) and CSI (the NVM command set).
    /// </summary>
    public static void NamespaceDescriptors(Span<byte> d, TargetNamespace ns)
    {
        d = d[..Size];
        d.Clear();
        var offset = 0;
        offset += Descriptor(d[offset..], NamespaceDescriptorLayout.TypeEui64, ns.Eui64);
        offset += Descriptor(d[offset..], NamespaceDescriptorLayout.TypeNguid, ns.Nguid);
        Span<byte> uuid = stackalloc byte[NamespaceDescriptorLayout.UuidLength];
        ns.Uuid.TryWriteBytes(uuid, bigEndian: true, out _);
        offset += Descriptor(d[offset..], NamespaceDescriptorLayout.TypeUuid, uuid);
        Descriptor(d[offset..], NamespaceDescriptorLayout.TypeCsi, [NamespaceDescriptorLayout.CsiNvm]);
    }

    /// <summary>CNS 06h: the I/O Command Set specific Identify Controller data structure of the CSI in CDW11.</summary>
    public const byte CnsIoCommandSetController = 0x06;

    /// <summary>
    /// CNS 06h with CSI 0 (NVM Command Set 1.0, Identify I/O Command Set specific Controller): VSL, WZSL, WUSL, DMRL,
    /// DMRSL and DMSL all 0, which says no limit beyond MDTS for Verify, Write Zeroes, Write Uncorrectable and Dataset
    /// Management, as this target has none.
    /// </summary>
    public static void NvmCommandSetController(Span<byte> d) => d[..Size].Clear();

    /// <summary>Writes ASCII, space padded (NVMe strings are not NUL-terminated); characters past the field are dropped.</summary>
    public static void WriteAscii(Span<byte> field, string value)
    {
        field.Fill((byte)' ');
        var length = Math.Min(value.Length, field.Length);
        for (var i = 0; i < length; i++)
        {
            field[i] = value[i] is >= ' ' and <= '~' ? (byte)value[i] : (byte)'?';
        }
    }

    private static int Descriptor(Span<byte> d, byte type, ReadOnlySpan<byte> value)
    {
        d[NamespaceDescriptorLayout.Nidt] = type;
        d[NamespaceDescriptorLayout.Nidl] = (byte)value.Length;
        value.CopyTo(d[NamespaceDescriptorLayout.Nid..]);
        return NamespaceDescriptorLayout.Nid + value.Length;
    }
}
