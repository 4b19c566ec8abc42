using System.Buffers.Binary;
using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Client;

/// <summary>
/// The Identify Controller data structure (Identify CNS 01h; NVMe Base 2.0, Figure 275), 4096 bytes.
/// <code>
/// byte 0-1       VID            byte 256-257   OACS           byte 512   SQES
/// byte 2-3       SSVID          byte 258       ACL            byte 513   CQES
/// byte 4-23      SN             byte 259       AERL           byte 514-515 MAXCMD
/// byte 24-63     MN             byte 260       FRMW           byte 516-519 NN
/// byte 64-71     FR             byte 261       LPA            byte 520-521 ONCS
/// byte 72        RAB            byte 262       ELPE           byte 522-523 FUSES
/// byte 73-75     IEEE           byte 263       NPSS           byte 524   FNA
/// byte 76        CMIC           byte 264       AVSCC          byte 525   VWC
/// byte 77        MDTS           byte 265       APSTA          byte 526-527 AWUN
/// byte 78-79     CNTLID         byte 266-267   WCTEMP         byte 528-529 AWUPF
/// byte 80-83     VER            byte 268-269   CCTEMP         byte 530   NVSCC
/// byte 84-87     RTD3R          byte 280-295   TNVMCAP        byte 531   NWPC
/// byte 88-91     RTD3E          byte 296-311   UNVMCAP        byte 532-533 ACWU
/// byte 92-95     OAES           byte 320-321   KAS            byte 536-539 SGLS
/// byte 96-99     CTRATT         byte 342       ANATT          byte 540-543 MNAN
/// byte 111       CNTRLTYPE      byte 343       ANACAP         byte 768-1023 SUBNQN
/// byte 112-127   FGUID          byte 344-347   ANAGRPMAX      byte 1792-1795 IOCCSZ
/// byte 128-133   CRDT1..CRDT3   byte 348-351   NANAGRPID      byte 1796-1799 IORCSZ
///                                                             byte 1800-1801 ICDOFF
///                                                             byte 1802 FCATT, 1803 MSDBD, 1804-1805 OFCS
/// </code>
/// Fields not modelled here (power state descriptors, vendor specific area) are in <see cref="Raw"/>.
/// </summary>
/// <remarks>Parsing never fails on content: every byte pattern gives a value.</remarks>
public sealed class NvmeIdentifyController
{
    /// <summary>The NQN of the well-known discovery subsystem (NVMe Base 2.0, 4.5).</summary>
    public const string DiscoveryNqn = "nqn.2014-08.org.nvmexpress.discovery";

    private NvmeIdentifyController(ReadOnlySpan<byte> d)
    {
        Raw = AdminData.Copy(d[..AdminData.IdentifySize]);
        Vid = BinaryPrimitives.ReadUInt16LittleEndian(d);
        Ssvid = BinaryPrimitives.ReadUInt16LittleEndian(d[2..]);
        SerialNumber = AdminData.ReadAscii(d.Slice(4, 20));
        ModelNumber = AdminData.ReadAscii(d.Slice(24, 40));
        FirmwareRevision = AdminData.ReadAscii(d.Slice(64, 8));
        Rab = d[72];
        Ieee = (uint)(d[73] | (d[74] << 8) | (d[75] << 16));
        Cmic = d[76];
        Mdts = d[77];
        Cntlid = BinaryPrimitives.ReadUInt16LittleEndian(d[78..]);
        Ver = BinaryPrimitives.ReadUInt32LittleEndian(d[80..]);
        Rtd3r = BinaryPrimitives.ReadUInt32LittleEndian(d[84..]);
        Rtd3e = BinaryPrimitives.ReadUInt32LittleEndian(d[88..]);
        Oaes = BinaryPrimitives.ReadUInt32LittleEndian(d[92..]);
        Ctratt = BinaryPrimitives.ReadUInt32LittleEndian(d[96..]);
        ControllerType = (NvmeControllerType)d[111];
        Fguid = AdminData.Copy(d.Slice(112, 16));
        Crdt1 = BinaryPrimitives.ReadUInt16LittleEndian(d[128..]);
        Crdt2 = BinaryPrimitives.ReadUInt16LittleEndian(d[130..]);
        Crdt3 = BinaryPrimitives.ReadUInt16LittleEndian(d[132..]);
        Oacs = BinaryPrimitives.ReadUInt16LittleEndian(d[256..]);
        Acl = d[258];
        Aerl = d[259];
        Frmw = d[260];
        Lpa = d[261];
        Elpe = d[262];
        Npss = d[263];
        Avscc = d[264];
        Apsta = d[265];
        Wctemp = BinaryPrimitives.ReadUInt16LittleEndian(d[266..]);
        Cctemp = BinaryPrimitives.ReadUInt16LittleEndian(d[268..]);
        Tnvmcap = AdminData.ReadUInt128(d[280..]);
        Unvmcap = AdminData.ReadUInt128(d[296..]);
        Kas = BinaryPrimitives.ReadUInt16LittleEndian(d[320..]);
        Anatt = d[342];
        Anacap = d[343];
        Anagrpmax = BinaryPrimitives.ReadUInt32LittleEndian(d[344..]);
        Nanagrpid = BinaryPrimitives.ReadUInt32LittleEndian(d[348..]);
        Sqes = d[512];
        Cqes = d[513];
        Maxcmd = BinaryPrimitives.ReadUInt16LittleEndian(d[514..]);
        Nn = BinaryPrimitives.ReadUInt32LittleEndian(d[516..]);
        Oncs = BinaryPrimitives.ReadUInt16LittleEndian(d[520..]);
        Fuses = BinaryPrimitives.ReadUInt16LittleEndian(d[522..]);
        Fna = d[524];
        Vwc = d[525];
        Awun = BinaryPrimitives.ReadUInt16LittleEndian(d[526..]);
        Awupf = BinaryPrimitives.ReadUInt16LittleEndian(d[528..]);
        Nvscc = d[530];
        Nwpc = d[531];
        Acwu = BinaryPrimitives.ReadUInt16LittleEndian(d[532..]);
        Sgls = BinaryPrimitives.ReadUInt32LittleEndian(d[536..]);
        Mnan = BinaryPrimitives.ReadUInt32LittleEndian(d[540..]);
        SubsystemNqn = AdminData.ReadNqn(d.Slice(768, 256));
        Ioccsz = BinaryPrimitives.ReadUInt32LittleEndian(d[1792..]);
        Iorcsz = BinaryPrimitives.ReadUInt32LittleEndian(d[1796..]);
        Icdoff = BinaryPrimitives.ReadUInt16LittleEndian(d[1800..]);
        Fcatt = d[1802];
        Msdbd = d[1803];
        Ofcs = BinaryPrimitives.ReadUInt16LittleEndian(d[1804..]);
    }

    /// <summary>The whole 4096-byte structure as received (a copy), for fields not modelled here.</summary>
    public ReadOnlyMemory<byte> Raw { get; }

    /// <summary>VID: PCI Vendor ID (0 for Linux nvmet).</summary>
    public ushort Vid { get; }

    /// <summary>SSVID: PCI Subsystem Vendor ID.</summary>
    public ushort Ssvid { get; }

    /// <summary>SN: serial number (ASCII, trailing spaces removed).</summary>
    public string SerialNumber { get; }

    /// <summary>MN: model number (ASCII, trailing spaces removed).</summary>
    public string ModelNumber { get; }

    /// <summary>FR: firmware revision (ASCII, trailing spaces removed).</summary>
    public string FirmwareRevision { get; }

    /// <summary>RAB: recommended arbitration burst, as a power of two commands.</summary>
    public byte Rab { get; }

    /// <summary>IEEE: IEEE OUI identifier of the vendor (the 3 bytes as a little-endian number, as nvme-cli prints it).</summary>
    public uint Ieee { get; }

    /// <summary>CMIC: controller multi-path I/O and namespace sharing capabilities (bit 0 multiple ports, bit 1 multiple controllers, bit 3 ANA reporting).</summary>
    public byte Cmic { get; }

    /// <summary>MDTS: maximum data transfer size, as a power of two of the minimum memory page size (CAP.MPSMIN); 0 = no limit.</summary>
    public byte Mdts { get; }

    /// <summary>CNTLID: controller ID.</summary>
    public ushort Cntlid { get; }

    /// <summary>VER: the raw version (major bits 16-31, minor bits 8-15, tertiary bits 0-7); 0 when not reported.</summary>
    public uint Ver { get; }

    /// <summary>VER as major.minor.tertiary (for example 1.3.0).</summary>
    public Version Version => new((int)(Ver >> 16), (int)((Ver >> 8) & 0xFF), (int)(Ver & 0xFF));

    /// <summary>RTD3R: RTD3 resume latency in microseconds (0 = not reported).</summary>
    public uint Rtd3r { get; }

    /// <summary>RTD3E: RTD3 entry latency in microseconds (0 = not reported).</summary>
    public uint Rtd3e { get; }

    /// <summary>OAES: optional asynchronous events supported (bit 8 namespace attribute notices, bit 9 firmware activation, bit 11 ANA change, bit 31 discovery log change).</summary>
    public uint Oaes { get; }

    /// <summary>CTRATT: controller attributes (bit 0 128-bit host identifier, bit 6 traffic based keep alive, ...).</summary>
    public uint Ctratt { get; }

    /// <summary>CNTRLTYPE: controller type.</summary>
    public NvmeControllerType ControllerType { get; }

    /// <summary>FGUID: FRU globally unique identifier (16 bytes, as received).</summary>
    public ReadOnlyMemory<byte> Fguid { get; }

    /// <summary>CRDT1: command retry delay time 1, in units of 100 milliseconds.</summary>
    public ushort Crdt1 { get; }

    /// <summary>CRDT2: command retry delay time 2, in units of 100 milliseconds.</summary>
    public ushort Crdt2 { get; }

    /// <summary>CRDT3: command retry delay time 3, in units of 100 milliseconds.</summary>
    public ushort Crdt3 { get; }

    /// <summary>OACS: optional admin command support (bit 0 security, bit 1 format, bit 2 firmware, bit 3 namespace management, ...).</summary>
    public ushort Oacs { get; }

    /// <summary>ACL: abort command limit (0's based).</summary>
    public byte Acl { get; }

    /// <summary>AERL: asynchronous event request limit (0's based: AERL + 1 requests may be outstanding).</summary>
    public byte Aerl { get; }

    /// <summary>FRMW: firmware updates (bit 0 slot 1 read-only, bits 1-3 number of slots, bit 4 activation without reset).</summary>
    public byte Frmw { get; }

    /// <summary>LPA: log page attributes (bit 0 SMART per namespace, bit 1 commands supported and effects, bit 2 extended data for Get Log Page, ...).</summary>
    public byte Lpa { get; }

    /// <summary>ELPE: error log page entries (0's based: the Error Information log holds ELPE + 1 entries).</summary>
    public byte Elpe { get; }

    /// <summary>NPSS: number of power states supported (0's based).</summary>
    public byte Npss { get; }

    /// <summary>AVSCC: admin vendor specific command configuration.</summary>
    public byte Avscc { get; }

    /// <summary>APSTA: autonomous power state transition attributes.</summary>
    public byte Apsta { get; }

    /// <summary>WCTEMP: warning composite temperature threshold, in Kelvin (0 = not reported).</summary>
    public ushort Wctemp { get; }

    /// <summary>CCTEMP: critical composite temperature threshold, in Kelvin (0 = not reported).</summary>
    public ushort Cctemp { get; }

    /// <summary>TNVMCAP: total NVM capacity, in bytes.</summary>
    public UInt128 Tnvmcap { get; }

    /// <summary>UNVMCAP: unallocated NVM capacity, in bytes.</summary>
    public UInt128 Unvmcap { get; }

    /// <summary>KAS: keep alive support, the keep alive timer granularity in units of 100 milliseconds (0 = Keep Alive not supported).</summary>
    public ushort Kas { get; }

    /// <summary>ANATT: ANA transition time, in seconds.</summary>
    public byte Anatt { get; }

    /// <summary>ANACAP: asymmetric namespace access capabilities.</summary>
    public byte Anacap { get; }

    /// <summary>ANAGRPMAX: ANA group identifier maximum.</summary>
    public uint Anagrpmax { get; }

    /// <summary>NANAGRPID: number of ANA group identifiers.</summary>
    public uint Nanagrpid { get; }

    /// <summary>SQES: submission queue entry size (bits 0-3 required, bits 4-7 maximum, as powers of two).</summary>
    public byte Sqes { get; }

    /// <summary>CQES: completion queue entry size (bits 0-3 required, bits 4-7 maximum, as powers of two).</summary>
    public byte Cqes { get; }

    /// <summary>MAXCMD: maximum outstanding commands per queue (0 = not reported).</summary>
    public ushort Maxcmd { get; }

    /// <summary>NN: number of namespaces (the largest namespace ID).</summary>
    public uint Nn { get; }

    /// <summary>ONCS: optional NVM command support (bit 0 Compare, bit 1 Write Uncorrectable, bit 2 Dataset Management, bit 3 Write Zeroes, ...).</summary>
    public ushort Oncs { get; }

    /// <summary>FUSES: fused operation support (bit 0 Compare and Write).</summary>
    public ushort Fuses { get; }

    /// <summary>FNA: format NVM attributes.</summary>
    public byte Fna { get; }

    /// <summary>VWC: volatile write cache (bit 0 present; bits 1-2 flush with NSID FFFFFFFFh behaviour).</summary>
    public byte Vwc { get; }

    /// <summary>AWUN: atomic write unit normal, in logical blocks (0's based).</summary>
    public ushort Awun { get; }

    /// <summary>AWUPF: atomic write unit power fail, in logical blocks (0's based).</summary>
    public ushort Awupf { get; }

    /// <summary>NVSCC (ICSVSCC): NVM (I/O command set) vendor specific command configuration.</summary>
    public byte Nvscc { get; }

    /// <summary>NWPC: namespace write protection capabilities.</summary>
    public byte Nwpc { get; }

    /// <summary>ACWU: atomic compare and write unit, in logical blocks (0's based).</summary>
    public ushort Acwu { get; }

    /// <summary>SGLS: SGL support (bits 0-1 SGLs supported, bit 2 keyed SGL data block, bit 20 address as offset, ...).</summary>
    public uint Sgls { get; }

    /// <summary>MNAN: maximum number of allowed namespaces (0 = not reported; then NN applies).</summary>
    public uint Mnan { get; }

    /// <summary>SUBNQN: NVM subsystem NVMe Qualified Name (UTF-8, up to the first NUL).</summary>
    public string SubsystemNqn { get; }

    /// <summary>IOCCSZ: I/O queue command capsule supported size, in 16-byte units (fabrics).</summary>
    public uint Ioccsz { get; }

    /// <summary>IORCSZ: I/O queue response capsule supported size, in 16-byte units (fabrics).</summary>
    public uint Iorcsz { get; }

    /// <summary>ICDOFF: in-capsule data offset, in 16-byte units after the end of the SQE (fabrics; NVMe/TCP requires 0).</summary>
    public ushort Icdoff { get; }

    /// <summary>FCATT: fabrics controller attributes (bit 0 static controller model).</summary>
    public byte Fcatt { get; }

    /// <summary>MSDBD: maximum SGL data block descriptors per command (0 = no limit).</summary>
    public byte Msdbd { get; }

    /// <summary>OFCS: optional fabric commands support (bit 0 Disconnect).</summary>
    public ushort Ofcs { get; }

    /// <summary>
    /// In-capsule data an I/O command may carry: IOCCSZ * 16 bytes of capsule minus the 64-byte SQE,
    /// never negative.
    /// </summary>
    public long InCapsuleDataSize => Math.Max(0L, (Ioccsz * 16L) - 64);

    /// <summary>
    /// Whether this is a discovery controller: CNTRLTYPE 2, or CNTRLTYPE 0 (not reported, before NVMe 1.4)
    /// with the well-known discovery NQN as SUBNQN.
    /// </summary>
    public bool IsDiscoveryController =>
        ControllerType == NvmeControllerType.Discovery ||
        (ControllerType == NvmeControllerType.NotReported && SubsystemNqn == DiscoveryNqn);

    /// <summary>The largest transfer of one command in bytes: 2^MDTS minimum pages; null when MDTS is 0 (no limit).</summary>
    /// <param name="minimumPageSize">The minimum memory page size in bytes, 2^(12 + CAP.MPSMIN): 4096 for MPSMIN 0.</param>
    /// <returns>The limit in bytes, <see cref="long.MaxValue"/> if it does not fit, or null for no limit.</returns>
    /// <remarks>Throws <see cref="ArgumentOutOfRangeException"/> when <paramref name="minimumPageSize"/> is not a positive power of two.</remarks>
    public long? MaxDataTransferBytes(int minimumPageSize)
    {
        if (minimumPageSize <= 0 || !int.IsPow2(minimumPageSize))
        {
            throw new ArgumentOutOfRangeException(nameof(minimumPageSize), minimumPageSize, "The page size must be a positive power of two.");
        }

        if (Mdts == 0)
        {
            return null;
        }

        int shift = Mdts + System.Numerics.BitOperations.Log2((uint)minimumPageSize);
        return shift >= 63 ? long.MaxValue : 1L << shift;
    }

    /// <summary>Parses the 4096-byte Identify Controller data.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is shorter than 4096 bytes.</exception>
    internal static NvmeIdentifyController Parse(ReadOnlySpan<byte> data)
    {
        AdminData.EnsureLength(data, AdminData.IdentifySize, "Identify Controller data");
        return new NvmeIdentifyController(data);
    }
}

/// <summary>CNTRLTYPE: the controller type (NVMe Base 2.0, Figure 275, byte 111).</summary>
public enum NvmeControllerType : byte
{
    /// <summary>Not reported (controllers before NVMe 1.4).</summary>
    NotReported = 0,

    /// <summary>I/O controller.</summary>
    Io = 1,

    /// <summary>Discovery controller.</summary>
    Discovery = 2,

    /// <summary>Administrative controller.</summary>
    Administrative = 3,
}
