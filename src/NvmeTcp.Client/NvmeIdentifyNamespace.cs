using System.Buffers.Binary;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using Layout = NvmeTcp.Protocol.Spec.IdentifyNamespaceLayout;

namespace NvmeTcp.Client;

/// <summary>
/// The Identify Namespace data structure of the NVM command set (Identify CNS 00h; NVM Command Set 1.0,
/// Figure 114), 4096 bytes, laid out as <see cref="IdentifyNamespaceLayout"/> says.
/// An inactive namespace ID returns all zeroes.
/// </summary>
/// <remarks>Parsing never fails on content: every byte pattern gives a value.</remarks>
public sealed class NvmeIdentifyNamespace
{
    /// <summary>Most LBA formats a namespace can report.</summary>
    public const int MaxLbaFormats = LbaFormatLayout.MaxCount;

    private readonly NvmeLbaFormat[] _allFormats;

    private NvmeIdentifyNamespace(ReadOnlySpan<byte> d)
    {
        Raw = AdminData.Copy(d[..Layout.Size]);
        Nsze = BinaryPrimitives.ReadUInt64LittleEndian(d[Layout.Nsze..]);
        Ncap = BinaryPrimitives.ReadUInt64LittleEndian(d[Layout.Ncap..]);
        Nuse = BinaryPrimitives.ReadUInt64LittleEndian(d[Layout.Nuse..]);
        Nsfeat = d[Layout.Nsfeat];
        Nlbaf = d[Layout.Nlbaf];
        Flbas = d[Layout.Flbas];
        Mc = d[Layout.Mc];
        Dpc = d[Layout.Dpc];
        Dps = d[Layout.Dps];
        Nmic = d[Layout.Nmic];
        Rescap = d[Layout.Rescap];
        Fpi = d[Layout.Fpi];
        Dlfeat = d[Layout.Dlfeat];
        Nawun = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Nawun..]);
        Nawupf = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Nawupf..]);
        Nacwu = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Nacwu..]);
        Nabsn = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Nabsn..]);
        Nabo = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Nabo..]);
        Nabspf = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Nabspf..]);
        Noiob = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Noiob..]);
        Nvmcap = AdminData.ReadUInt128(d[Layout.Nvmcap..]);
        Npwg = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Npwg..]);
        Npwa = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Npwa..]);
        Npdg = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Npdg..]);
        Npda = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Npda..]);
        Nows = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Nows..]);
        Anagrpid = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Anagrpid..]);
        Nsattr = d[Layout.Nsattr];
        Nvmsetid = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Nvmsetid..]);
        Endgid = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Endgid..]);
        Nguid = AdminData.Copy(d.Slice(Layout.Nguid, Layout.NguidLength));
        Eui64 = AdminData.Copy(d.Slice(Layout.Eui64, Layout.Eui64Length));

        _allFormats = new NvmeLbaFormat[MaxLbaFormats];
        for (int i = 0; i < MaxLbaFormats; i++)
        {
            _allFormats[i] = NvmeLbaFormat.Parse(d.Slice(Layout.LbaFormat(i), LbaFormatLayout.Size));
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
    public int CurrentLbaFormatIndex => Layout.FormatIndex(Flbas);

    /// <summary>The LBA format the namespace is formatted with (the entry at <see cref="CurrentLbaFormatIndex"/>, even past NLBAF).</summary>
    public NvmeLbaFormat CurrentLbaFormat => _allFormats[CurrentLbaFormatIndex];

    /// <summary>FLBAS bit 4: metadata travels at the end of each data LBA (extended LBA) rather than in a separate buffer.</summary>
    public bool MetadataAtEndOfLba => (Flbas & Layout.FlbasMetadataAtEnd) != 0;

    /// <summary>The logical block size in bytes of the current format (512, 4096, ...); 0 when the format is not valid.</summary>
    public long BlockSize => CurrentLbaFormat.DataSize;

    /// <summary>Parses the 4096-byte Identify Namespace data.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is shorter than 4096 bytes.</exception>
    internal static NvmeIdentifyNamespace Parse(ReadOnlySpan<byte> data)
    {
        AdminData.EnsureLength(data, Layout.Size, "Identify Namespace data");
        return new NvmeIdentifyNamespace(data);
    }
}
