using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Target.Internal;

/// <summary>Writes log pages that do not depend on one controller's state.</summary>
internal static class LogPageWriter
{
    /// <summary>
    /// Log 0x05, Commands Supported and Effects (NVMe Base 2.0 5.16.1.6): 256 admin then 256 I/O dwords, bit 0 CSUPP,
    /// bit 1 LBCC (logical block content change) for the writes.
    /// </summary>
    public static void CommandsSupported(Span<byte> log)
    {
        log.Clear();
        ReadOnlySpan<byte> admin =
        [
            (byte)AdminOpcode.GetLogPage, (byte)AdminOpcode.Identify, (byte)AdminOpcode.Abort, (byte)AdminOpcode.SetFeatures,
            (byte)AdminOpcode.GetFeatures, (byte)AdminOpcode.AsynchronousEventRequest, (byte)AdminOpcode.KeepAlive,
        ];
        foreach (var opcode in admin)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(log[(opcode * 4)..], 1);
        }

        ReadOnlySpan<byte> io =
        [
            (byte)NvmOpcode.Flush, (byte)NvmOpcode.Write, (byte)NvmOpcode.Read, (byte)NvmOpcode.Compare,
            (byte)NvmOpcode.WriteZeroes, (byte)NvmOpcode.DatasetManagement,
        ];
        foreach (var opcode in io)
        {
            var changes = opcode is (byte)NvmOpcode.Write or (byte)NvmOpcode.WriteZeroes or (byte)NvmOpcode.DatasetManagement;
            BinaryPrimitives.WriteUInt32LittleEndian(log[(1024 + (opcode * 4))..], changes ? 3u : 1u);
        }
    }
}

/// <summary>
/// The discovery log page (NVMe-oF 1.1 5.3, log 0x70): a 1024-byte header (0-7 GENCTR, 8-15 NUMREC, 16-17 RECFMT 0),
/// then one 1024-byte entry per subsystem the connected host may use, as nvmet's
/// <c>nvmet_execute_disc_get_log_page</c> lists them: 0 TRTYPE 3 (TCP), 1 ADRFAM, 2 SUBTYPE (2 NVM, 3 current
/// discovery), 3 TREQ, 4-5 PORTID, 6-7 CNTLID 0xFFFF (dynamic), 8-9 ASQSZ 32, 10-11 EFLAGS, 32-63 TRSVCID,
/// 256-511 SUBNQN, 512-767 TRADDR, 768-1023 TSAS (byte 0 SECTYPE 0, no TLS).
/// </summary>
internal static class DiscoveryLogWriter
{
    private const int EntrySize = 1024;

    // TREQ bits 0-1 10b: secure channel not required; bit 2: SQ flow control can be disabled.
    private const byte Treq = 0x02 | 0x04;

    // EFLAGS of the current discovery subsystem entry: bit 0 duplicate returned information, bit 1 explicit
    // persistent connection support for discovery (what nvmet reports for it).
    private const ushort CurrentDiscoveryFlags = 0x0003;

    /// <summary>The log's size for the host of <paramref name="controller"/>: header and entries.</summary>
    public static int SizeFor(NvmeTcpTarget target, Controller controller) =>
        EntrySize * (1 + Subsystems(target, controller).Count() + (target.Options.DiscoveryReportsItself ? 1 : 0) + target.Options.DiscoveryReferrals.Count);

    /// <summary>Writes as many entries as fit in <paramref name="log"/> after the header.</summary>
    public static void Write(Span<byte> log, NvmeTcpTarget target, Controller controller)
    {
        log.Clear();
        var endPoint = target.EndPoint;
        var capacity = (log.Length / EntrySize) - 1;
        var count = 0;
        if (target.Options.DiscoveryReportsItself && count < capacity)
        {
            WriteEntry(log.Slice(EntrySize * ++count, EntrySize), target, endPoint, NvmeIdentifyController.DiscoveryNqn, NvmeSubsystemType.CurrentDiscovery, CurrentDiscoveryFlags);
        }

        foreach (var subsystem in Subsystems(target, controller))
        {
            if (count == capacity)
            {
                break;
            }

            WriteEntry(log.Slice(EntrySize * ++count, EntrySize), target, endPoint, subsystem.Nqn, NvmeSubsystemType.Nvm, 0);
        }

        foreach (var referral in target.Options.DiscoveryReferrals)
        {
            if (count == capacity)
            {
                break;
            }

            WriteEntry(log.Slice(EntrySize * ++count, EntrySize), target, referral, NvmeIdentifyController.DiscoveryNqn, NvmeSubsystemType.DiscoveryReferral, 0);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(log, target.GenerationCounter);
        BinaryPrimitives.WriteUInt64LittleEndian(log[8..], (ulong)count);
    }

    private static IEnumerable<TargetSubsystem> Subsystems(NvmeTcpTarget target, Controller controller) =>
        target.NvmSubsystems.Where(s => s.IsHostAllowed(controller.HostNqn));

    private static void WriteEntry(Span<byte> e, NvmeTcpTarget target, IPEndPoint endPoint, string nqn, NvmeSubsystemType type, ushort flags)
    {
        e[0] = (byte)NvmeTransportType.Tcp;
        e[1] = (byte)(endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? NvmeAddressFamily.IPv6 : NvmeAddressFamily.IPv4);
        e[2] = (byte)type;
        e[3] = Treq;
        BinaryPrimitives.WriteUInt16LittleEndian(e[4..], target.Options.PortId);
        BinaryPrimitives.WriteUInt16LittleEndian(e[6..], 0xFFFF);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], 32);
        BinaryPrimitives.WriteUInt16LittleEndian(e[10..], flags);
        Encoding.ASCII.GetBytes(endPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Slice(32, 32));
        Encoding.UTF8.GetBytes(nqn, e.Slice(256, 256));
        Encoding.ASCII.GetBytes(endPoint.Address.ToString(), e.Slice(512, 256));
    }
}
