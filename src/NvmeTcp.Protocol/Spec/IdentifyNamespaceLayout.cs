using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Protocol.Spec;

/// <summary>
/// Byte offsets of the Identify Namespace data structure of the NVM command set (Identify CNS 00h; NVM Command Set
/// 1.0, Figure 114), <see cref="Size"/> bytes, little-endian; the bits of its fields this library uses. An
/// inactive NSID reads as all zeroes.
/// </summary>
public static class IdentifyNamespaceLayout
{
    /// <summary>Size of the structure.</summary>
    public const int Size = IdentifyCommand.DataSize;

    /// <summary>NSZE, Namespace Size in logical blocks (8 bytes).</summary>
    public const int Nsze = 0;

    /// <summary>NCAP, Namespace Capacity in logical blocks (8 bytes).</summary>
    public const int Ncap = 8;

    /// <summary>NUSE, Namespace Utilization in logical blocks (8 bytes).</summary>
    public const int Nuse = 16;

    /// <summary>NSFEAT, Namespace Features (1 byte).</summary>
    public const int Nsfeat = 24;

    /// <summary>NLBAF, Number of LBA Formats (1 byte, 0's based).</summary>
    public const int Nlbaf = 25;

    /// <summary>FLBAS, Formatted LBA Size (1 byte).</summary>
    public const int Flbas = 26;

    /// <summary>MC, Metadata Capabilities (1 byte).</summary>
    public const int Mc = 27;

    /// <summary>DPC, End-to-end Data Protection Capabilities (1 byte).</summary>
    public const int Dpc = 28;

    /// <summary>DPS, End-to-end Data Protection Type Settings (1 byte).</summary>
    public const int Dps = 29;

    /// <summary>NMIC, Namespace Multi-path I/O and Namespace Sharing Capabilities (1 byte).</summary>
    public const int Nmic = 30;

    /// <summary>RESCAP, Reservation Capabilities (1 byte).</summary>
    public const int Rescap = 31;

    /// <summary>RESCAP: the six reservation types (bits 1-6) and Ignore Existing Key (bit 7); no Persist Through Power Loss (bit 0).</summary>
    public const byte RescapAllTypesIgnoreExistingKey = 0xFE;

    /// <summary>FPI, Format Progress Indicator (1 byte).</summary>
    public const int Fpi = 32;

    /// <summary>DLFEAT, Deallocate Logical Block Features (1 byte).</summary>
    public const int Dlfeat = 33;

    /// <summary>NAWUN, Namespace Atomic Write Unit Normal (2 bytes).</summary>
    public const int Nawun = 34;

    /// <summary>NAWUPF, Namespace Atomic Write Unit Power Fail (2 bytes).</summary>
    public const int Nawupf = 36;

    /// <summary>NACWU, Namespace Atomic Compare and Write Unit (2 bytes).</summary>
    public const int Nacwu = 38;

    /// <summary>NABSN, Namespace Atomic Boundary Size Normal (2 bytes).</summary>
    public const int Nabsn = 40;

    /// <summary>NABO, Namespace Atomic Boundary Offset (2 bytes).</summary>
    public const int Nabo = 42;

    /// <summary>NABSPF, Namespace Atomic Boundary Size Power Fail (2 bytes).</summary>
    public const int Nabspf = 44;

    /// <summary>NOIOB, Namespace Optimal I/O Boundary (2 bytes).</summary>
    public const int Noiob = 46;

    /// <summary>NVMCAP, NVM Capacity in bytes (16 bytes).</summary>
    public const int Nvmcap = 48;

    /// <summary>NPWG, Namespace Preferred Write Granularity (2 bytes).</summary>
    public const int Npwg = 64;

    /// <summary>NPWA, Namespace Preferred Write Alignment (2 bytes).</summary>
    public const int Npwa = 66;

    /// <summary>NPDG, Namespace Preferred Deallocate Granularity (2 bytes).</summary>
    public const int Npdg = 68;

    /// <summary>NPDA, Namespace Preferred Deallocate Alignment (2 bytes).</summary>
    public const int Npda = 70;

    /// <summary>NOWS, Namespace Optimal Write Size (2 bytes).</summary>
    public const int Nows = 72;

    /// <summary>ANAGRPID, ANA Group Identifier (4 bytes).</summary>
    public const int Anagrpid = 92;

    /// <summary>NSATTR, Namespace Attributes (1 byte).</summary>
    public const int Nsattr = 99;

    /// <summary>NVMSETID, NVM Set Identifier (2 bytes).</summary>
    public const int Nvmsetid = 100;

    /// <summary>ENDGID, Endurance Group Identifier (2 bytes).</summary>
    public const int Endgid = 102;

    /// <summary>NGUID, Namespace Globally Unique Identifier (big-endian).</summary>
    public const int Nguid = 104;

    /// <summary>Length of NGUID.</summary>
    public const int NguidLength = NamespaceDescriptorLayout.NguidLength;

    /// <summary>EUI64, IEEE Extended Unique Identifier (big-endian).</summary>
    public const int Eui64 = 120;

    /// <summary>Length of EUI64.</summary>
    public const int Eui64Length = NamespaceDescriptorLayout.Eui64Length;

    /// <summary>LBAF0, the first LBA Format (<see cref="LbaFormatLayout.Size"/> bytes each).</summary>
    public const int LbaFormats = 128;

    /// <summary>NSFEAT bit 0: thin provisioning (NUSE counts allocated blocks).</summary>
    public const byte NsfeatThinProvisioning = 1 << 0;

    /// <summary>NMIC bit 0: the namespace may be attached to more than one controller.</summary>
    public const byte NmicShared = 1 << 0;

    /// <summary>DLFEAT bits 0-2 001b: a deallocated block reads as zeroes.</summary>
    public const byte DlfeatReadsZeroes = 0x01;

    /// <summary>DLFEAT bit 3: Write Zeroes may deallocate.</summary>
    public const byte DlfeatWriteZeroesDeallocates = 1 << 3;

    /// <summary>FLBAS bit 4: metadata at the end of each data LBA (extended LBA).</summary>
    public const byte FlbasMetadataAtEnd = 1 << 4;

    private const int FlbasLowMask = 0xF;
    private const int FlbasHighMask = 0x60;
    private const int FlbasHighShift = 1;

    /// <summary>The byte offset of LBA format <paramref name="index"/>.</summary>
    public static int LbaFormat(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)LbaFormatLayout.MaxCount, nameof(index));
        return LbaFormats + (LbaFormatLayout.Size * index);
    }

    /// <summary>The LBA format index in FLBAS: bits 0-3, with bits 5-6 as bits 4-5.</summary>
    public static int FormatIndex(byte flbas) => (flbas & FlbasLowMask) | ((flbas & FlbasHighMask) >> FlbasHighShift);

    /// <summary>FLBAS for LBA format <paramref name="index"/> (0 to 63).</summary>
    public static byte FormattedLbaSize(int index, bool metadataAtEnd = false)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)LbaFormatLayout.MaxCount, nameof(index));
        return (byte)((index & FlbasLowMask) | ((index << FlbasHighShift) & FlbasHighMask) | (metadataAtEnd ? FlbasMetadataAtEnd : 0));
    }
}

/// <summary>
/// One LBA Format of Identify Namespace (NVM Command Set 1.0, Figure 116), 4 bytes little-endian.
/// <code>
/// bits 0-15   MS     metadata size in bytes per LBA
/// bits 16-23  LBADS  LBA data size, as a power of two (0: format not available)
/// bits 24-25  RP     relative performance (0 best .. 3 degraded)
/// </code>
/// </summary>
public static class LbaFormatLayout
{
    /// <summary>Size of one entry.</summary>
    public const int Size = 4;

    /// <summary>Most LBA formats Identify Namespace holds (LBAF0..LBAF63).</summary>
    public const int MaxCount = 64;

    private const int LbadsShift = 16;
    private const int RpShift = 24;
    private const uint RpMask = 0x3;

    /// <summary>MS.</summary>
    public static ushort MetadataSize(uint lbaf) => (ushort)lbaf;

    /// <summary>LBADS.</summary>
    public static byte DataSizeShift(uint lbaf) => (byte)(lbaf >> LbadsShift);

    /// <summary>RP.</summary>
    public static int RelativePerformance(uint lbaf) => (int)((lbaf >> RpShift) & RpMask);

    /// <summary>An LBA format entry.</summary>
    /// <param name="dataSizeShift">LBADS: log2 of the block size (9 for 512 bytes).</param>
    /// <param name="metadataSize">MS.</param>
    /// <param name="relativePerformance">RP, 0 to 3.</param>
    public static uint Create(byte dataSizeShift, ushort metadataSize = 0, int relativePerformance = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)relativePerformance, RpMask, nameof(relativePerformance));
        return metadataSize | ((uint)dataSizeShift << LbadsShift) | ((uint)relativePerformance << RpShift);
    }
}

/// <summary>
/// The Namespace Identification Descriptor list (Identify CNS 03h; NVMe Base 2.0, Figure 274):
/// descriptors one after another, ended by NIDT 0, in <see cref="IdentifyCommand.DataSize"/> bytes.
/// <code>
/// byte 0     NIDT  namespace identifier type
/// byte 1     NIDL  namespace identifier length
/// byte 2-3   reserved
/// byte 4..   NID   NIDL bytes (big-endian)
/// </code>
/// </summary>
public static class NamespaceDescriptorLayout
{
    /// <summary>NIDT.</summary>
    public const int Nidt = 0;

    /// <summary>NIDL.</summary>
    public const int Nidl = 1;

    /// <summary>NID, after the header.</summary>
    public const int Nid = HeaderSize;

    /// <summary>Bytes before NID.</summary>
    public const int HeaderSize = 4;

    /// <summary>NIDT 0: ends the list.</summary>
    public const byte TypeEnd = 0;

    /// <summary>NIDT 1: IEEE Extended Unique Identifier.</summary>
    public const byte TypeEui64 = 1;

    /// <summary>NIDT 2: Namespace Globally Unique Identifier.</summary>
    public const byte TypeNguid = 2;

    /// <summary>NIDT 3: Namespace UUID (RFC 9562 byte order).</summary>
    public const byte TypeUuid = 3;

    /// <summary>NIDT 4: Command Set Identifier.</summary>
    public const byte TypeCsi = 4;

    /// <summary>NIDL of an EUI64.</summary>
    public const int Eui64Length = 8;

    /// <summary>NIDL of an NGUID.</summary>
    public const int NguidLength = 16;

    /// <summary>NIDL of a UUID.</summary>
    public const int UuidLength = 16;

    /// <summary>NIDL of a CSI.</summary>
    public const int CsiLength = 1;

    /// <summary>CSI 00h: the NVM command set.</summary>
    public const byte CsiNvm = 0x00;

    /// <summary>CSI 02h: the Zoned Namespace command set.</summary>
    public const byte CsiZoned = 0x02;

    /// <summary>The NIDL a type requires; 0 for a type not defined here.</summary>
    public static int LengthOf(byte type) => type switch
    {
        TypeEui64 => Eui64Length,
        TypeNguid => NguidLength,
        TypeUuid => UuidLength,
        TypeCsi => CsiLength,
        _ => 0,
    };
}

/// <summary>
/// A namespace list (NVMe Base 2.0, 4.4.2): the Active Namespace ID list of Identify CNS 02h, and the Changed Namespace
/// List log page (LID 04h, "Changed Namespace List"). Up to <see cref="MaxEntries"/> 4-byte NSIDs in increasing order, ended by 0.
/// </summary>
public static class NamespaceListLayout
{
    /// <summary>Size of the list.</summary>
    public const int Size = IdentifyCommand.DataSize;

    /// <summary>Size of one NSID.</summary>
    public const int EntrySize = 4;

    /// <summary>Most NSIDs one list holds.</summary>
    public const int MaxEntries = Size / EntrySize;

    /// <summary>First entry of a Changed Namespace List when more than <see cref="MaxEntries"/> namespaces changed.</summary>
    public const uint Overflow = 0xFFFFFFFF;
}
