using System.Buffers.Binary;
using System.Text;
using NvmeTcp.Client;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// Writes the 4096-byte Identify data structures (NVMe Base 2.0 5.17.2), the inverse of
/// <see cref="NvmeIdentifyController"/>, <see cref="NvmeIdentifyNamespace"/> and <see cref="NvmeNamespaceDescriptor"/>.
/// Field choices follow Linux nvmet's <c>nvmet_execute_identify_ctrl</c> where nothing else is said.
/// </summary>
internal static class IdentifyWriter
{
    /// <summary>Size of every Identify structure.</summary>
    public const int Size = 4096;

    /// <summary>Most NSIDs in an active namespace list.</summary>
    public const int MaxListEntries = 1024;

    /// <summary>
    /// Identify Controller (CNS 0x01).
    /// <code>
    /// 4-23 SN, 24-63 MN, 64-71 FR (ASCII, space padded), 72 RAB, 76 CMIC, 77 MDTS, 78-79 CNTLID, 80-83 VER,
    /// 92-95 OAES, 96-99 CTRATT, 111 CNTRLTYPE, 258 ACL, 259 AERL, 260 FRMW, 261 LPA, 262 ELPE, 320-321 KAS,
    /// 512 SQES, 513 CQES, 514-515 MAXCMD, 516-519 NN, 520-521 ONCS, 525 VWC, 536-539 SGLS, 768-1023 SUBNQN,
    /// 1792-1795 IOCCSZ, 1796-1799 IORCSZ, 1800-1801 ICDOFF, 1802 FCATT, 1803 MSDBD
    /// </code>
    /// </summary>
    public static void Controller(Span<byte> d, Controller controller)
    {
        var subsystem = controller.Subsystem;
        d = d[..Size];
        d.Clear();
        WriteAscii(d.Slice(4, 20), subsystem.SerialNumber);
        WriteAscii(d.Slice(24, 40), subsystem.ModelNumber);
        WriteAscii(d.Slice(64, 8), subsystem.FirmwareRevision);
        d[72] = 6; // RAB, as nvmet
        // CMIC bit 1: more than one controller may exist in the subsystem (dynamic controllers, one per host).
        d[76] = subsystem.IsDiscovery ? (byte)0 : (byte)0x02;
        d[77] = subsystem.IsDiscovery ? (byte)0 : subsystem.Mdts;
        BinaryPrimitives.WriteUInt16LittleEndian(d[78..], controller.Cntlid);
        BinaryPrimitives.WriteUInt32LittleEndian(d[80..], Internal.Controller.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(d[92..], controller.SupportedEvents);
        // CTRATT bit 0: 128-bit host identifier (the Connect HOSTID is a UUID), as nvmet; bit 6: TBKAS when configured.
        BinaryPrimitives.WriteUInt32LittleEndian(d[96..], 1u | (subsystem.TrafficBasedKeepAlive ? 1u << 6 : 0));
        d[111] = subsystem.IsDiscovery ? (byte)NvmeControllerType.Discovery : (byte)NvmeControllerType.Io;
        d[258] = 3; // ACL: 4 Aborts
        d[259] = Internal.Controller.MaxAsyncEvents - 1; // AERL, 0's based
        d[260] = 0x03; // FRMW: one slot, slot 1 read-only
        d[261] = 0x04; // LPA bit 2: extended data for Get Log Page (offsets)
        d[262] = Internal.Controller.ErrorLogEntries - 1; // ELPE, 0's based
        BinaryPrimitives.WriteUInt16LittleEndian(d[320..], subsystem.Kas);
        // MAXCMD on every controller, the discovery controller included: nvmet's discovery Identify fills it too
        // (drivers/nvme/target/discovery.c), and the Linux host checks it for every fabrics controller
        // (nvme_check_ctrl_fabric_info in drivers/nvme/host/core.c): kernels with that check first refused 0 with
        // "Maximum outstanding commands is 0" (-EINVAL); later ones log "Firmware bug: maximum outstanding commands is
        // 0" and carry on. Seen with the 6.12 host against this target (LinuxHostTests).
        BinaryPrimitives.WriteUInt16LittleEndian(d[514..], (ushort)Math.Min(subsystem.MaxQueueSize, 0xFFFF));
        if (!subsystem.IsDiscovery)
        {
            d[512] = 0x66; // SQES: 64-byte entries
            d[513] = 0x44; // CQES: 16-byte entries
            var namespaces = subsystem.Namespaces;
            BinaryPrimitives.WriteUInt32LittleEndian(d[516..], namespaces.Count == 0 ? 0 : namespaces[^1].Nsid);
            // ONCS: bit 0 Compare, bit 2 Dataset Management, bit 3 Write Zeroes.
            BinaryPrimitives.WriteUInt16LittleEndian(d[520..], 0x000D);
            d[525] = 0x01; // VWC present: Flush is accepted (it has nothing to do)
        }

        // SGLS bit 0: SGLs supported; bit 20: the offset SGL subtype (in-capsule data), as nvmet with inline data.
        BinaryPrimitives.WriteUInt32LittleEndian(d[536..], 1u | (1u << 20));
        Encoding.UTF8.GetBytes(subsystem.Nqn, d.Slice(768, 256));
        if (!subsystem.IsDiscovery)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(d[1792..], subsystem.Ioccsz);
            BinaryPrimitives.WriteUInt32LittleEndian(d[1796..], 1); // IORCSZ: a 16-byte CQE, no data
        }

        d[1803] = 1; // MSDBD: one SGL descriptor
    }

    /// <summary>
    /// Identify Namespace (CNS 0x00). An NSID that names no active namespace gets zeros, as nvmet answers.
    /// <code>
    /// 0-7 NSZE, 8-15 NCAP, 16-23 NUSE, 24 NSFEAT, 25 NLBAF, 26 FLBAS, 30 NMIC, 33 DLFEAT, 104-119 NGUID,
    /// 120-127 EUI64, 128-131 LBAF0 (bits 16-23 LBADS)
    /// </code>
    /// </summary>
    public static void Namespace(Span<byte> d, TargetNamespace? ns)
    {
        d = d[..Size];
        d.Clear();
        if (ns is null)
        {
            return;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(d, ns.BlockCount);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], ns.BlockCount);
        var used = ns.Backing == NvmeNamespaceBacking.Memory
            ? (ulong)Math.Min((long)ns.BlockCount, ns.Store.AllocatedPages * SparseMemoryStore.PageSize / ns.BlockSize)
            : ns.BlockCount;
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], used);
        // NSFEAT bit 0: thin provisioning (NUSE counts written blocks) for memory namespaces.
        d[24] = ns.Backing == NvmeNamespaceBacking.Memory ? (byte)0x01 : (byte)0;
        d[25] = 0; // NLBAF: one format
        d[26] = 0; // FLBAS: format 0, no metadata
        d[30] = 0x01; // NMIC: may be attached to several controllers
        // DLFEAT: deallocated blocks read as zeros (001b), Write Zeroes can deallocate (bit 3).
        d[33] = 0x09;
        ns.Nguid.CopyTo(d[104..]);
        ns.Eui64.CopyTo(d[120..]);
        BinaryPrimitives.WriteUInt32LittleEndian(d[128..], (uint)ns.BlockShift << 16);
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
                BinaryPrimitives.WriteUInt32LittleEndian(d[(4 * count++)..], ns.Nsid);
            }
        }
    }

    /// <summary>
    /// Namespace Identification Descriptor list (CNS 0x03): each NIDT, NIDL, 2 reserved bytes, NIDL bytes of value.
    /// EUI64 (1, 8 bytes), NGUID (2, 16), UUID (3, 16, RFC 4122 byte order), CSI (4, 1: NVM command set).
    /// </summary>
    public static void NamespaceDescriptors(Span<byte> d, TargetNamespace ns)
    {
        d = d[..Size];
        d.Clear();
        var offset = 0;
        offset += Descriptor(d[offset..], 1, ns.Eui64);
        offset += Descriptor(d[offset..], 2, ns.Nguid);
        Span<byte> uuid = stackalloc byte[16];
        ns.Uuid.TryWriteBytes(uuid, bigEndian: true, out _);
        offset += Descriptor(d[offset..], 3, uuid);
        Descriptor(d[offset..], 4, [0]);
    }

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
        d[0] = type;
        d[1] = (byte)value.Length;
        value.CopyTo(d[4..]);
        return 4 + value.Length;
    }
}
