using NvmeTcp.Protocol.Fabrics;

namespace NvmeTcp.Protocol.Spec;

/// <summary>
/// The header of the Discovery log page (LID 70h; NVMe over Fabrics 1.1, Figure 38): the first
/// <see cref="Size"/> bytes, little-endian; entries of <see cref="DiscoveryLogEntryLayout.Size"/> bytes follow.
/// </summary>
public static class DiscoveryLogHeaderLayout
{
    /// <summary>Size of the header.</summary>
    public const int Size = 1024;

    /// <summary>GENCTR, Generation Counter (8 bytes).</summary>
    public const int Genctr = 0;

    /// <summary>NUMREC, Number of Records (8 bytes).</summary>
    public const int Numrec = 8;

    /// <summary>RECFMT, Record Format (2 bytes).</summary>
    public const int Recfmt = 16;

    /// <summary>Bytes holding defined fields; the rest of the header is reserved.</summary>
    public const int DefinedLength = 18;

    /// <summary>The byte offset of entry <paramref name="index"/> (0 for the first).</summary>
    public static long Entry(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return Size + (index * DiscoveryLogEntryLayout.Size);
    }
}

/// <summary>
/// One Discovery Log Page Entry (NVMe over Fabrics 1.1, Figure 39), <see cref="Size"/> bytes, little-endian;
/// the values of its coded fields (TP 8013 and TP 8011 for the current discovery subsystem, EFLAGS and SECTYPE).
/// </summary>
public static class DiscoveryLogEntryLayout
{
    /// <summary>Size of one entry.</summary>
    public const int Size = 1024;

    /// <summary>TRTYPE, Transport Type (1 byte).</summary>
    public const int Trtype = 0;

    /// <summary>ADRFAM, Address Family (1 byte).</summary>
    public const int Adrfam = 1;

    /// <summary>SUBTYPE, Subsystem Type (1 byte).</summary>
    public const int Subtype = 2;

    /// <summary>TREQ, Transport Requirements (1 byte).</summary>
    public const int Treq = 3;

    /// <summary>PORTID, Port ID (2 bytes).</summary>
    public const int Portid = 4;

    /// <summary>CNTLID, Controller ID (2 bytes).</summary>
    public const int Cntlid = 6;

    /// <summary>ASQSZ, Admin Max SQ Size (2 bytes).</summary>
    public const int Asqsz = 8;

    /// <summary>EFLAGS, Entry Flags (2 bytes).</summary>
    public const int Eflags = 10;

    /// <summary>TRSVCID, Transport Service Identifier (ASCII, NUL or space padded).</summary>
    public const int Trsvcid = 32;

    /// <summary>Length of TRSVCID.</summary>
    public const int TrsvcidLength = 32;

    /// <summary>SUBNQN, NVM Subsystem Qualified Name.</summary>
    public const int Subnqn = 256;

    /// <summary>Length of SUBNQN.</summary>
    public const int SubnqnLength = NvmeQualifiedName.FieldLength;

    /// <summary>TRADDR, Transport Address (ASCII, NUL or space padded).</summary>
    public const int Traddr = 512;

    /// <summary>Length of TRADDR.</summary>
    public const int TraddrLength = 256;

    /// <summary>TSAS, Transport Specific Address Subtype; for TCP byte 0 is SECTYPE.</summary>
    public const int Tsas = 768;

    /// <summary>Length of TSAS.</summary>
    public const int TsasLength = 256;

    /// <summary>TRTYPE 1: RDMA.</summary>
    public const byte TransportRdma = 1;

    /// <summary>TRTYPE 2: Fibre Channel.</summary>
    public const byte TransportFibreChannel = 2;

    /// <summary>TRTYPE 3: TCP.</summary>
    public const byte TransportTcp = 3;

    /// <summary>TRTYPE 254: intra-host (loop), reserved for host use.</summary>
    public const byte TransportLoop = 254;

    /// <summary>ADRFAM 0: PCI Express.</summary>
    public const byte AddressFamilyPci = 0;

    /// <summary>ADRFAM 1: IPv4.</summary>
    public const byte AddressFamilyIPv4 = 1;

    /// <summary>ADRFAM 2: IPv6.</summary>
    public const byte AddressFamilyIPv6 = 2;

    /// <summary>ADRFAM 3: InfiniBand.</summary>
    public const byte AddressFamilyInfiniBand = 3;

    /// <summary>ADRFAM 4: Fibre Channel.</summary>
    public const byte AddressFamilyFibreChannel = 4;

    /// <summary>ADRFAM 254: intra-host (loop).</summary>
    public const byte AddressFamilyLoop = 254;

    /// <summary>SUBTYPE 1: a referral to another discovery service.</summary>
    public const byte SubsystemReferral = 1;

    /// <summary>SUBTYPE 2: an NVM subsystem.</summary>
    public const byte SubsystemNvm = 2;

    /// <summary>SUBTYPE 3: the discovery subsystem that returned the log.</summary>
    public const byte SubsystemCurrentDiscovery = 3;

    /// <summary>TREQ bits 0-1: the secure channel requirement.</summary>
    public const byte TreqSecureChannelMask = 0x3;

    /// <summary>TREQ bits 0-1 00b: secure channel not specified.</summary>
    public const byte SecureChannelNotSpecified = 0;

    /// <summary>TREQ bits 0-1 01b: secure channel required.</summary>
    public const byte SecureChannelRequired = 1;

    /// <summary>TREQ bits 0-1 10b: secure channel not required.</summary>
    public const byte SecureChannelNotRequired = 2;

    /// <summary>TREQ bit 2: SQ flow control can be disabled (Connect CATTR bit 2).</summary>
    public const byte TreqSqFlowControlDisable = 1 << 2;

    /// <summary>CNTLID FFFFh: dynamic controller model.</summary>
    public const ushort DynamicController = ConnectData.DynamicControllerId;

    /// <summary>CNTLID FFFEh: static controller model, any controller.</summary>
    public const ushort AnyStaticController = 0xFFFE;

    /// <summary>EFLAGS bit 0: DUPRETINFO, duplicate returned information.</summary>
    public const ushort EflagsDuplicateReturnedInformation = 1 << 0;

    /// <summary>EFLAGS bit 1: EPCSD, explicit persistent connection support for discovery.</summary>
    public const ushort EflagsExplicitPersistentConnection = 1 << 1;

    /// <summary>EFLAGS bit 2: NCC, no CDC connectivity.</summary>
    public const ushort EflagsNoCdcConnectivity = 1 << 2;

    /// <summary>SECTYPE, TSAS byte 0 for TCP (NVMe/TCP 1.0, Figure 7).</summary>
    public const int Sectype = Tsas;

    /// <summary>SECTYPE 0: no security.</summary>
    public const byte SecurityNone = 0;

    /// <summary>SECTYPE 1: TLS 1.2.</summary>
    public const byte SecurityTls12 = 1;

    /// <summary>SECTYPE 2: TLS 1.3.</summary>
    public const byte SecurityTls13 = 2;
}
