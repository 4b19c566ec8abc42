using System.Buffers.Binary;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using Layout = NvmeTcp.Protocol.Spec.DiscoveryLogEntryLayout;

namespace NvmeTcp.Client;

/// <summary>
/// The header of the Discovery log page (LID 70h; NVMe over Fabrics 1.1, Figure 38), the first 1024 bytes: GENCTR,
/// NUMREC and RECFMT as <see cref="DiscoveryLogHeaderLayout"/> says.
/// </summary>
/// <remarks>Parsing never fails on content.</remarks>
public sealed class NvmeDiscoveryLogHeader
{
    /// <summary>Size of the header; the first entry follows it.</summary>
    public const int Size = DiscoveryLogHeaderLayout.Size;

    private NvmeDiscoveryLogHeader(ReadOnlySpan<byte> d)
    {
        Genctr = BinaryPrimitives.ReadUInt64LittleEndian(d[DiscoveryLogHeaderLayout.Genctr..]);
        Numrec = BinaryPrimitives.ReadUInt64LittleEndian(d[DiscoveryLogHeaderLayout.Numrec..]);
        Recfmt = BinaryPrimitives.ReadUInt16LittleEndian(d[DiscoveryLogHeaderLayout.Recfmt..]);
    }

    /// <summary>GENCTR: generation counter. Read it again after the entries; if it changed, read the log again.</summary>
    public ulong Genctr { get; }

    /// <summary>NUMREC: number of records (1024-byte entries) in the log.</summary>
    public ulong Numrec { get; }

    /// <summary>RECFMT: record format (0 is the only one defined).</summary>
    public ushort Recfmt { get; }

    /// <summary>Parses the header from the start of the log; only bytes 0-17 are needed (the rest is reserved).</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is shorter than 18 bytes.</exception>
    internal static NvmeDiscoveryLogHeader Parse(ReadOnlySpan<byte> data)
    {
        AdminData.EnsureLength(data, DiscoveryLogHeaderLayout.DefinedLength, "Discovery log page header");
        return new NvmeDiscoveryLogHeader(data);
    }
}

/// <summary>
/// One Discovery Log Page Entry (NVMe over Fabrics 1.1, Figure 39), 1024 bytes laid out as
/// <see cref="DiscoveryLogEntryLayout"/> says.
/// </summary>
/// <remarks>Parsing never fails on content.</remarks>
public sealed class NvmeDiscoveryLogEntry
{
    /// <summary>Size of one entry.</summary>
    public const int Size = Layout.Size;

    private NvmeDiscoveryLogEntry(ReadOnlySpan<byte> d)
    {
        TransportType = (NvmeTransportType)d[Layout.Trtype];
        AddressFamily = (NvmeAddressFamily)d[Layout.Adrfam];
        SubsystemType = (NvmeSubsystemType)d[Layout.Subtype];
        Treq = d[Layout.Treq];
        Portid = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Portid..]);
        Cntlid = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Cntlid..]);
        Asqsz = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Asqsz..]);
        Eflags = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Eflags..]);
        TransportServiceId = AdminData.ReadAscii(d.Slice(Layout.Trsvcid, Layout.TrsvcidLength));
        SubsystemNqn = AdminData.ReadNqn(d.Slice(Layout.Subnqn, Layout.SubnqnLength));
        TransportAddress = AdminData.ReadAscii(d.Slice(Layout.Traddr, Layout.TraddrLength));
        Tsas = AdminData.Copy(d.Slice(Layout.Tsas, Layout.TsasLength));
    }

    /// <summary>TRTYPE: transport type.</summary>
    public NvmeTransportType TransportType { get; }

    /// <summary>ADRFAM: address family of <see cref="TransportAddress"/>.</summary>
    public NvmeAddressFamily AddressFamily { get; }

    /// <summary>SUBTYPE: subsystem type.</summary>
    public NvmeSubsystemType SubsystemType { get; }

    /// <summary>TREQ: transport requirements, raw (bits 0-1 secure channel, bit 2 SQ flow control disable supported).</summary>
    public byte Treq { get; }

    /// <summary>TREQ bits 0-1: whether a secure channel is required.</summary>
    public NvmeSecureChannelRequirement SecureChannel => (NvmeSecureChannelRequirement)(Treq & Layout.TreqSecureChannelMask);

    /// <summary>TREQ bit 2: the controller can disable SQ flow control (Connect CATTR bit 2).</summary>
    public bool SqFlowControlDisableSupported => (Treq & Layout.TreqSqFlowControlDisable) != 0;

    /// <summary>PORTID: the NVM subsystem port.</summary>
    public ushort Portid { get; }

    /// <summary>CNTLID: controller ID (FFFFh: dynamic controller model; FFFEh: static model, any controller).</summary>
    public ushort Cntlid { get; }

    /// <summary>ASQSZ: admin max submission queue size, in entries.</summary>
    public ushort Asqsz { get; }

    /// <summary>EFLAGS: entry flags (bit 0 duplicate returned information, bit 1 explicit persistent connection support for discovery, bit 2 no CDC connectivity).</summary>
    public ushort Eflags { get; }

    /// <summary>TRSVCID: transport service identifier (for TCP the port number, e.g. "4420"), ASCII.</summary>
    public string TransportServiceId { get; }

    /// <summary>SUBNQN: NVM subsystem qualified name (UTF-8, up to the first NUL).</summary>
    public string SubsystemNqn { get; }

    /// <summary>TRADDR: transport address (for TCP an IPv4 or IPv6 address), ASCII.</summary>
    public string TransportAddress { get; }

    /// <summary>TSAS: transport specific address subtype, the 256 bytes as received.</summary>
    public ReadOnlyMemory<byte> Tsas { get; }

    /// <summary>TSAS byte 0 for TCP: SECTYPE, the security type (0 none, 1 TLS 1.2, 2 TLS 1.3); null for other transports.</summary>
    public NvmeTcpSecurityType? TcpSecurityType =>
        TransportType == NvmeTransportType.Tcp ? (NvmeTcpSecurityType)Tsas.Span[Layout.Sectype - Layout.Tsas] : null;

    /// <summary>Parses one 1024-byte entry.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is shorter than 1024 bytes.</exception>
    internal static NvmeDiscoveryLogEntry Parse(ReadOnlySpan<byte> data)
    {
        AdminData.EnsureLength(data, Size, "Discovery log page entry");
        return new NvmeDiscoveryLogEntry(data);
    }
}

/// <summary>A Discovery log page (LID 70h): its header and the entries that were read.</summary>
/// <remarks>Parsing never fails on content.</remarks>
public sealed class NvmeDiscoveryLog
{
    internal NvmeDiscoveryLog(NvmeDiscoveryLogHeader header, IReadOnlyList<NvmeDiscoveryLogEntry> entries)
    {
        Header = header;
        Entries = entries;
    }

    /// <summary>The header: GENCTR, NUMREC, RECFMT.</summary>
    public NvmeDiscoveryLogHeader Header { get; }

    /// <summary>The entries: NUMREC of them, or fewer when the data given held fewer whole entries.</summary>
    public IReadOnlyList<NvmeDiscoveryLogEntry> Entries { get; }

    /// <summary>Whether every one of the NUMREC entries is in <see cref="Entries"/>.</summary>
    public bool IsComplete => (ulong)Entries.Count == Header.Numrec;

    /// <summary>Bytes of log needed for the header and <paramref name="numrec"/> entries, saturated at <see cref="long.MaxValue"/>.</summary>
    /// <param name="numrec">NUMREC from the header.</param>
    public static long RequiredLength(ulong numrec) =>
        numrec >= (ulong)((long.MaxValue - NvmeDiscoveryLogHeader.Size) / NvmeDiscoveryLogEntry.Size)
            ? long.MaxValue
            : DiscoveryLogHeaderLayout.Entry((long)numrec);

    /// <summary>Parses the header and min(NUMREC, whole entries present) entries.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is shorter than the 1024-byte header.</exception>
    internal static NvmeDiscoveryLog Parse(ReadOnlySpan<byte> data)
    {
        AdminData.EnsureLength(data, NvmeDiscoveryLogHeader.Size, "Discovery log page");
        var header = NvmeDiscoveryLogHeader.Parse(data);
        ulong present = (ulong)((data.Length - NvmeDiscoveryLogHeader.Size) / NvmeDiscoveryLogEntry.Size);
        int count = (int)Math.Min(header.Numrec, present);
        var entries = new NvmeDiscoveryLogEntry[count];
        for (int i = 0; i < count; i++)
        {
            entries[i] = NvmeDiscoveryLogEntry.Parse(data.Slice((int)DiscoveryLogHeaderLayout.Entry(i), NvmeDiscoveryLogEntry.Size));
        }

        return new NvmeDiscoveryLog(header, Array.AsReadOnly(entries));
    }
}
