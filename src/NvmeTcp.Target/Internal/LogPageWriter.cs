using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol.Spec;
using Entry = NvmeTcp.Protocol.Spec.DiscoveryLogEntryLayout;

namespace NvmeTcp.Target.Internal;

/// <summary>Writes log pages that do not depend on one controller's state.</summary>
internal static class LogPageWriter
{
    /// <summary>LID 00h, Supported Log Pages (NVMe Base 2.0, 5.16.1.1).</summary>
    public const byte SupportedLogPagesId = 0x00;

    /// <summary>Size of log 00h: 256 LID Supported and Effects dwords.</summary>
    public const int SupportedLogPagesSize = 1024;

    /// <summary>Size of log 03h, Firmware Slot Information.</summary>
    public const int FirmwareSlotSize = FirmwareSlotLayout.Size;

    /// <summary>
    /// Log 00h: LSUPP (bit 0) for every log page this controller returns; the discovery controller returns 00h and 70h.
    /// </summary>
    public static void SupportedLogPages(Span<byte> log, bool discovery)
    {
        log.Clear();
        ReadOnlySpan<byte> io = [SupportedLogPagesId, LogPageId.ErrorInformation, LogPageId.SmartHealth, LogPageId.FirmwareSlot, LogPageId.ChangedNamespaceList, LogPageId.CommandsSupportedAndEffects, LogPageId.AsymmetricNamespaceAccess];
        ReadOnlySpan<byte> disc = [SupportedLogPagesId, LogPageId.Discovery];
        foreach (var lid in discovery ? disc : io)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(log[(lid * 4)..], 1);
        }
    }

    /// <summary>
    /// Log 03h: one read-only slot (Identify FRMW), active, holding the subsystem's firmware revision. nvmet returns
    /// zeros; AFI 1 and FRS1 say the same as Identify does.
    /// </summary>
    public static void FirmwareSlot(Span<byte> log, string firmwareRevision)
    {
        log.Clear();
        log[FirmwareSlotLayout.AfiOffset] = 1;
        IdentifyWriter.WriteAscii(log.Slice(FirmwareSlotLayout.RevisionOffset(1), FirmwareSlotLayout.RevisionLength), firmwareRevision);
    }

    /// <summary>
    /// Log 0x05, Commands Supported and Effects (<see cref="CommandEffectsLayout"/>): CSUPP for every command served,
    /// and LBCC (logical block content change) for the writes.
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
            BinaryPrimitives.WriteUInt32LittleEndian(log[CommandEffectsLayout.AdminEntry(opcode)..], CommandEffectsLayout.Supported);
        }

        ReadOnlySpan<byte> io =
        [
            (byte)NvmOpcode.Flush, (byte)NvmOpcode.Write, (byte)NvmOpcode.Read, (byte)NvmOpcode.Compare,
            (byte)NvmOpcode.WriteZeroes, (byte)NvmOpcode.DatasetManagement,
        ];
        foreach (var opcode in io)
        {
            var changes = opcode is (byte)NvmOpcode.Write or (byte)NvmOpcode.WriteZeroes or (byte)NvmOpcode.DatasetManagement;
            var effects = CommandEffectsLayout.Supported | (changes ? CommandEffectsLayout.LogicalBlockContentChange : 0);
            BinaryPrimitives.WriteUInt32LittleEndian(log[CommandEffectsLayout.IoEntry(opcode)..], effects);
        }
    }
}

/// <summary>
/// The discovery log page (NVMe-oF 1.1 5.3, log 0x70; <see cref="DiscoveryLogHeaderLayout"/> and
/// <see cref="DiscoveryLogEntryLayout"/>): the header, then one entry per subsystem the connected host may use, as
/// nvmet's <c>nvmet_execute_disc_get_log_page</c> lists them: TCP, the listener's address family, CNTLID of the dynamic
/// model, ASQSZ 32, SECTYPE none (no TLS).
/// </summary>
internal static class DiscoveryLogWriter
{
    private const int EntrySize = Entry.Size;

    // ASQSZ: the admin queue size nvmet reports (NVME_AQ_DEPTH).
    private const ushort AdminQueueSize = 32;

    // SQ flow control can be disabled; the secure channel bits come from the port (TlsFields).
    private const byte Treq = Entry.TreqSqFlowControlDisable;

    // EFLAGS of the current discovery subsystem entry, what nvmet reports for it.
    private const ushort CurrentDiscoveryFlags = Entry.EflagsDuplicateReturnedInformation | Entry.EflagsExplicitPersistentConnection;

    /// <summary>The log's size for the host of <paramref name="controller"/>: header and entries.</summary>
    public static int SizeFor(NvmeTcpTarget target, Controller controller) =>
        EntrySize * (1 + (Subsystems(target, controller).Count() * target.ListeningPorts.Count) + (target.Options.DiscoveryReportsItself ? 1 : 0) + target.Options.DiscoveryReferrals.Count);

    /// <summary>
    /// Writes as many entries as fit in <paramref name="log"/> after the header: the discovery subsystem on
    /// <paramref name="requestPort"/> (when it reports itself), an entry per subsystem and port with that port's
    /// PORTID and address (nvmet lists only the subsystems linked to the port the host asked through, and reaches the
    /// other ports by referrals), then the referrals.
    /// </summary>
    public static void Write(Span<byte> log, NvmeTcpTarget target, Controller controller, TargetPort requestPort)
    {
        log.Clear();
        var capacity = (log.Length / EntrySize) - 1;
        var count = 0;
        if (target.Options.DiscoveryReportsItself && count < capacity)
        {
            WriteEntry(log.Slice(EntrySize * ++count, EntrySize), requestPort.PortId, requestPort.EndPoint, NvmeQualifiedName.Discovery, Entry.SubsystemCurrentDiscovery, CurrentDiscoveryFlags, requestPort.Tls);
        }

        var ports = target.ListeningPorts;
        foreach (var subsystem in Subsystems(target, controller))
        {
            foreach (var port in ports)
            {
                if (count == capacity)
                {
                    break;
                }

                WriteEntry(log.Slice(EntrySize * ++count, EntrySize), port.PortId, port.EndPoint, subsystem.Nqn, Entry.SubsystemNvm, 0, port.Tls);
            }
        }

        foreach (var referral in target.Options.DiscoveryReferrals)
        {
            if (count == capacity)
            {
                break;
            }

            WriteEntry(log.Slice(EntrySize * ++count, EntrySize), requestPort.PortId, referral, NvmeQualifiedName.Discovery, Entry.SubsystemReferral, 0, NvmeTargetTls.None);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(log[DiscoveryLogHeaderLayout.Genctr..], target.GenerationCounter);
        BinaryPrimitives.WriteUInt64LittleEndian(log[DiscoveryLogHeaderLayout.Numrec..], (ulong)count);
    }

    private static IEnumerable<TargetSubsystem> Subsystems(NvmeTcpTarget target, Controller controller) =>
        target.NvmSubsystems.Where(s => s.IsHostAllowed(controller.HostNqn));

    // TREQ bits 0-1 and TSAS SECTYPE of a port, as nvmet reports addr_treq and addr_tsas: a plain port "not
    // required" and no security, a TLS port "required" or "not required" and TLS 1.3.
    private static (byte Treq, byte Sectype) TlsFields(NvmeTargetTls tls) => tls switch
    {
        NvmeTargetTls.Required => (Entry.SecureChannelRequired, Entry.SecurityTls13),
        NvmeTargetTls.Optional => (Entry.SecureChannelNotRequired, Entry.SecurityTls13),
        _ => (Entry.SecureChannelNotRequired, Entry.SecurityNone),
    };

    private static void WriteEntry(Span<byte> e, ushort portId, IPEndPoint endPoint, string nqn, byte type, ushort flags, NvmeTargetTls tls)
    {
        var (secureChannel, sectype) = TlsFields(tls);
        e[Entry.Trtype] = Entry.TransportTcp;
        e[Entry.Adrfam] = endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? Entry.AddressFamilyIPv6 : Entry.AddressFamilyIPv4;
        e[Entry.Subtype] = type;
        e[Entry.Treq] = (byte)(Treq | secureChannel);
        BinaryPrimitives.WriteUInt16LittleEndian(e[Entry.Portid..], portId);
        BinaryPrimitives.WriteUInt16LittleEndian(e[Entry.Cntlid..], Entry.DynamicController);
        BinaryPrimitives.WriteUInt16LittleEndian(e[Entry.Asqsz..], AdminQueueSize);
        BinaryPrimitives.WriteUInt16LittleEndian(e[Entry.Eflags..], flags);
        Encoding.ASCII.GetBytes(endPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Slice(Entry.Trsvcid, Entry.TrsvcidLength));
        Encoding.UTF8.GetBytes(nqn, e.Slice(Entry.Subnqn, Entry.SubnqnLength));
        Encoding.ASCII.GetBytes(endPoint.Address.ToString(), e.Slice(Entry.Traddr, Entry.TraddrLength));
        e[Entry.Sectype] = sectype;
    }
}
