using System.Buffers.Binary;
using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Client;

/// <summary>
/// The Identify Namespace data structure of the NVM command set (Identify CNS 00h; NVM Command Set 1.0,
/// Figure 114), 4096 bytes.
/// <code>
/// byte 0-7     NSZE      byte 40-41  NABSN     byte 72-73   NOWS
/// byte 8-15    NCAP      byte 42-43  NABO      byte 92-95   ANAGRPID
/// byte 16-23   NUSE      byte 44-45  NABSPF    byte 99      NSATTR
/// byte 24      NSFEAT    byte 46-47  NOIOB     byte 100-101 NVMSETID
/// byte 25      NLBAF     byte 48-63  NVMCAP    byte 102-103 ENDGID
/// byte 26      FLBAS     byte 64-65  NPWG      byte 104-119 NGUID
/// byte 27      MC        byte 66-67  NPWA      byte 120-127 EUI64
/// byte 28      DPC       byte 68-69  NPDG      byte 128-383 LBAF0..LBAF63 (4 bytes each)
/// byte 29      DPS       byte 70-71  NPDA      byte 384-4095 reserved, vendor specific
/// byte 30      NMIC
/// byte 31      RESCAP
/// byte 32      FPI
/// byte 33      DLFEAT
/// byte 34-35   NAWUN
/// byte 36-37   NAWUPF
/// byte 38-39   NACWU
/// </code>
/// An inactive namespace ID returns all zeroes.
/// </summary>
/// <remarks>Parsing never fails on content: every byte pattern gives a value.</remarks>
public sealed class NvmeIdentifyNamespace
{
    /// <summary>Most LBA formats a namespace can report.</summary>
    public const int MaxLbaFormats = 64;

    private const int LbaFormatOffset = 128;

    private readonly NvmeLbaFormat[] _allFormats;

    private NvmeIdentifyNamespace(ReadOnlySpan<byte> d)
    {
        Raw = AdminData.Copy(d[..AdminData.IdentifySize]);
        Nsze = BinaryPrimitives.ReadUInt64LittleEndian(d);
        Ncap = BinaryPrimitives.ReadUInt64LittleEndian(d[8..]);
        Nuse = BinaryPrimitives.ReadUInt64LittleEndian(d[16..]);
        Nsfeat = d[24];
        Nlbaf = d[25];
        Flbas = d[26];
        Mc = d[27];
        Dpc = d[28];
        Dps = d[29];
        Nmic = d[30];
        Rescap = d[31];
        Fpi = d[32];
        Dlfeat = d[33];
        Nawun = BinaryPrimitives.ReadUInt16LittleEndian(d[34..]);
        Nawupf = BinaryPrimitives.ReadUInt16LittleEndian(d[36..]);
        Nacwu = BinaryPrimitives.ReadUInt16LittleEndian(d[38..]);
        Nabsn = BinaryPrimitives.ReadUInt16LittleEndian(d[40..]);
        Nabo = BinaryPrimitives.ReadUInt16LittleEndian(d[42..]);
        Nabspf = BinaryPrimitives.ReadUInt16LittleEndian(d[44..]);
        Noiob = BinaryPrimitives.ReadUInt16LittleEndian(d[46..]);
        Nvmcap = AdminData.ReadUInt128(d[48..]);
        Npwg = BinaryPrimitives.ReadUInt16LittleEndian(d[64..]);
        Npwa = BinaryPrimitives.ReadUInt16LittleEndian(d[66..]);
        Npdg = BinaryPrimitives.ReadUInt16LittleEndian(d[68..]);
        Npda = BinaryPrimitives.ReadUInt16LittleEndian(d[70..]);
        Nows = BinaryPrimitives.ReadUInt16LittleEndian(d[72..]);
        Anagrpid = BinaryPrimitives.ReadUInt32LittleEndian(d[92..]);
        Nsattr = d[99];
        Nvmsetid = BinaryPrimitives.ReadUInt16LittleEndian(d[100..]);
        Endgid = BinaryPrimitives.ReadUInt16LittleEndian(d[102..]);
        Nguid = AdminData.Copy(d.Slice(104, 16));
        Eui64 = AdminData.Copy(d.Slice(120, 8));

        _allFormats = new NvmeLbaFormat[MaxLbaFormats];
        for (int i = 0; i < MaxLbaFormats; i++)
        {
            _allFormats[i] = NvmeLbaFormat.Parse(d.Slice(LbaFormatOffset + (4 * i), 4));
        }

        // NLBAF is 0's based; a value past 63 is out of spec, so list every entry there is.
        LbaFormats = Array.AsReadOnly(_allFormats[..Math.Min(Nlbaf + 1, MaxLbaFormats)]);
    }

    /// <summary>The whole 4096-byte structure as received (a copy), for fields not modelled here.</summary>
    public ReadOnlyMemory<byte> Raw { get; }

    /// <summary>NSZE: namespace size, in logical blocks.</summary>
    public ulong Nsze { get; }

    /// <summary>NCAP: namespace capacity, in logical blocks.</summary>
    public ulong Ncap { get; }

    /// <summary>NUSE: namespace utilization, in logical blocks.</summary>
    public ulong Nuse { get; }

    /// <summary>NSFEAT: namespace features (bit 0 thin provisioning, bit 1 NAWUN/NAWUPF/NACWU valid, bit 2 deallocated error, bit 3 NGUID/EUI64 never reused, bit 4 NPWG..NOWS valid).</summary>
    public byte Nsfeat { get; }

    /// <summary>NLBAF: number of LBA formats (0's based: NLBAF + 1 formats).</summary>
    public byte Nlbaf { get; }

    /// <summary>FLBAS: formatted LBA size (bits 0-3 format index low bits, bit 4 metadata at the end of the data LBA, bits 5-6 format index high bits).</summary>
    public byte Flbas { get; }

    /// <summary>MC: metadata capabilities (bit 0 extended data LBA, bit 1 separate buffer).</summary>
    public byte Mc { get; }

    /// <summary>DPC: end-to-end data protection capabilities.</summary>
    public byte Dpc { get; }

    /// <summary>DPS: end-to-end data protection type settings (bits 0-2 protection type, bit 3 protection information first).</summary>
    public byte Dps { get; }

    /// <summary>NMIC: namespace multi-path I/O and namespace sharing capabilities (bit 0 may be shared).</summary>
    public byte Nmic { get; }

    /// <summary>RESCAP: reservation capabilities.</summary>
    public byte Rescap { get; }

    /// <summary>FPI: format progress indicator.</summary>
    public byte Fpi { get; }

    /// <summary>DLFEAT: deallocate logical block features (bits 0-2 what a deallocated block reads as).</summary>
    public byte Dlfeat { get; }

    /// <summary>NAWUN: namespace atomic write unit normal, in logical blocks (0's based).</summary>
    public ushort Nawun { get; }

    /// <summary>NAWUPF: namespace atomic write unit power fail, in logical blocks (0's based).</summary>
    public ushort Nawupf { get; }

    /// <summary>NACWU: namespace atomic compare and write unit, in logical blocks (0's based).</summary>
    public ushort Nacwu { get; }

    /// <summary>NABSN: namespace atomic boundary size normal, in logical blocks (0's based).</summary>
    public ushort Nabsn { get; }

    /// <summary>NABO: namespace atomic boundary offset, in logical blocks.</summary>
    public ushort Nabo { get; }

    /// <summary>NABSPF: namespace atomic boundary size power fail, in logical blocks (0's based).</summary>
    public ushort Nabspf { get; }

    /// <summary>NOIOB: namespace optimal I/O boundary, in logical blocks (0 = not reported).</summary>
    public ushort Noiob { get; }

    /// <summary>NVMCAP: NVM capacity, the namespace's size in bytes (0 = not reported).</summary>
    public UInt128 Nvmcap { get; }

    /// <summary>NPWG: namespace preferred write granularity, in logical blocks (0's based).</summary>
    public ushort Npwg { get; }

    /// <summary>NPWA: namespace preferred write alignment, in logical blocks (0's based).</summary>
    public ushort Npwa { get; }

    /// <summary>NPDG: namespace preferred deallocate granularity, in logical blocks (0's based).</summary>
    public ushort Npdg { get; }

    /// <summary>NPDA: namespace preferred deallocate alignment, in logical blocks (0's based).</summary>
    public ushort Npda { get; }

    /// <summary>NOWS: namespace optimal write size, in logical blocks (0's based).</summary>
    public ushort Nows { get; }

    /// <summary>ANAGRPID: ANA group identifier (0 = not in an ANA group).</summary>
    public uint Anagrpid { get; }

    /// <summary>NSATTR: namespace attributes (bit 0 write protected).</summary>
    public byte Nsattr { get; }

    /// <summary>NVMSETID: NVM set identifier.</summary>
    public ushort Nvmsetid { get; }

    /// <summary>ENDGID: endurance group identifier.</summary>
    public ushort Endgid { get; }

    /// <summary>NGUID: namespace globally unique identifier (16 bytes, big-endian as received; all zero = not reported).</summary>
    public ReadOnlyMemory<byte> Nguid { get; }

    /// <summary>EUI64: IEEE extended unique identifier (8 bytes, big-endian as received; all zero = not reported).</summary>
    public ReadOnlyMemory<byte> Eui64 { get; }

    /// <summary>LBAF0..LBAFn: the NLBAF + 1 supported LBA formats.</summary>
    public IReadOnlyList<NvmeLbaFormat> LbaFormats { get; }

    /// <summary>The index of the LBA format the namespace is formatted with: FLBAS bits 0-3, plus bits 5-6 as bits 4-5.</summary>
    public int CurrentLbaFormatIndex => (Flbas & 0xF) | ((Flbas & 0x60) >> 1);

    /// <summary>The LBA format the namespace is formatted with (the entry at <see cref="CurrentLbaFormatIndex"/>, even past NLBAF).</summary>
    public NvmeLbaFormat CurrentLbaFormat => _allFormats[CurrentLbaFormatIndex];

    /// <summary>FLBAS bit 4: metadata travels at the end of each data LBA (extended LBA) rather than in a separate buffer.</summary>
    public bool MetadataAtEndOfLba => (Flbas & 0x10) != 0;

    /// <summary>The logical block size in bytes of the current format (512, 4096, ...); 0 when the format is not valid.</summary>
    public long BlockSize => CurrentLbaFormat.DataSize;

    /// <summary>Parses the 4096-byte Identify Namespace data.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is shorter than 4096 bytes.</exception>
    internal static NvmeIdentifyNamespace Parse(ReadOnlySpan<byte> data)
    {
        AdminData.EnsureLength(data, AdminData.IdentifySize, "Identify Namespace data");
        return new NvmeIdentifyNamespace(data);
    }
}
