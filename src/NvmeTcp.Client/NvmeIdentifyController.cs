using System.Buffers.Binary;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using Layout = NvmeTcp.Protocol.Spec.IdentifyControllerLayout;

namespace NvmeTcp.Client;

/// <summary>
/// The Identify Controller data structure (Identify CNS 01h; NVMe Base 2.0, Figure 275), 4096 bytes, laid out as
/// <see cref="IdentifyControllerLayout"/> says.
/// Fields not modelled here (power state descriptors, vendor specific area) are in <see cref="Raw"/>.
/// </summary>
/// <remarks>Parsing never fails on content: every byte pattern gives a value.</remarks>
public sealed class NvmeIdentifyController
{
    /// <summary>The NQN of the well-known discovery subsystem: <see cref="NvmeQualifiedName.Discovery"/>.</summary>
    public const string DiscoveryNqn = NvmeQualifiedName.Discovery;

    private NvmeIdentifyController(ReadOnlySpan<byte> d)
    {
        Raw = AdminData.Copy(d[..Layout.Size]);
        Vid = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Vid..]);
        Ssvid = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Ssvid..]);
        SerialNumber = AdminData.ReadAscii(d.Slice(Layout.Sn, Layout.SnLength));
        ModelNumber = AdminData.ReadAscii(d.Slice(Layout.Mn, Layout.MnLength));
        FirmwareRevision = AdminData.ReadAscii(d.Slice(Layout.Fr, Layout.FrLength));
        Rab = d[Layout.Rab];
        Ieee = ReadUInt24(d[Layout.Ieee..]);
        Cmic = d[Layout.Cmic];
        Mdts = d[Layout.Mdts];
        Cntlid = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Cntlid..]);
        Ver = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Ver..]);
        Rtd3r = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Rtd3r..]);
        Rtd3e = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Rtd3e..]);
        Oaes = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Oaes..]);
        Ctratt = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Ctratt..]);
        ControllerType = (NvmeControllerType)d[Layout.Cntrltype];
        Fguid = AdminData.Copy(d.Slice(Layout.Fguid, Layout.FguidLength));
        Crdt1 = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Crdt1..]);
        Crdt2 = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Crdt2..]);
        Crdt3 = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Crdt3..]);
        Oacs = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Oacs..]);
        Acl = d[Layout.Acl];
        Aerl = d[Layout.Aerl];
        Frmw = d[Layout.Frmw];
        Lpa = d[Layout.Lpa];
        Elpe = d[Layout.Elpe];
        Npss = d[Layout.Npss];
        Avscc = d[Layout.Avscc];
        Apsta = d[Layout.Apsta];
        Wctemp = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Wctemp..]);
        Cctemp = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Cctemp..]);
        Tnvmcap = AdminData.ReadUInt128(d[Layout.Tnvmcap..]);
        Unvmcap = AdminData.ReadUInt128(d[Layout.Unvmcap..]);
        Kas = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Kas..]);
        Anatt = d[Layout.Anatt];
        Anacap = d[Layout.Anacap];
        Anagrpmax = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Anagrpmax..]);
        Nanagrpid = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Nanagrpid..]);
        Sqes = d[Layout.Sqes];
        Cqes = d[Layout.Cqes];
        Maxcmd = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Maxcmd..]);
        Nn = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Nn..]);
        Oncs = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Oncs..]);
        Fuses = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Fuses..]);
        Fna = d[Layout.Fna];
        Vwc = d[Layout.Vwc];
        Awun = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Awun..]);
        Awupf = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Awupf..]);
        Nvscc = d[Layout.Nvscc];
        Nwpc = d[Layout.Nwpc];
        Acwu = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Acwu..]);
        Sgls = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Sgls..]);
        Mnan = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Mnan..]);
        SubsystemNqn = AdminData.ReadNqn(d.Slice(Layout.Subnqn, Layout.SubnqnLength));
        Ioccsz = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Ioccsz..]);
        Iorcsz = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Iorcsz..]);
        Icdoff = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Icdoff..]);
        Fcatt = d[Layout.Fcatt];
        Msdbd = d[Layout.Msdbd];
        Ofcs = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Ofcs..]);
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
    public Version Version => ControllerVersion.ToVersion(Ver);

    /// <summary>RTD3R: RTD3 resume latency in microseconds (0 = not reported).</summary>
    public uint Rtd3r { get; }

    /// <summary>RTD3E: RTD3 entry latency in microseconds (0 = not reported).</summary>
    public uint Rtd3e { get; }

    /// <summary>OAES: optional asynchronous events supported, with the bits of <see cref="AsyncEventConfiguration"/> (bit 8 namespace attribute notices, bit 31 discovery log change, ...).</summary>
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
    public long InCapsuleDataSize => Layout.InCapsuleDataSize(Ioccsz);

    /// <summary>
    /// Whether this is a discovery controller: CNTRLTYPE 2, or CNTRLTYPE 0 (not reported, before NVMe 1.4)
    /// with the well-known discovery NQN as SUBNQN.
    /// </summary>
    public bool IsDiscoveryController =>
        ControllerType == NvmeControllerType.Discovery ||
        (ControllerType == NvmeControllerType.NotReported && SubsystemNqn == DiscoveryNqn);

    /// <summary>Whether the controller reports Asymmetric Namespace Access (CMIC bit 3): it serves the ANA log (0Ch).</summary>
    public bool ReportsAna => (Cmic & IdentifyControllerLayout.CmicAnaReporting) != 0;

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
        AdminData.EnsureLength(data, Layout.Size, "Identify Controller data");
        return new NvmeIdentifyController(data);
    }

    // IEEE: the OUI's 3 bytes as a little-endian number, as nvme-cli prints it.
    private static uint ReadUInt24(ReadOnlySpan<byte> d) => (uint)(d[0] | (d[1] << 8) | (d[2] << 16));
}

/// <summary>CNTRLTYPE: the controller type (NVMe Base 2.0, Figure 275, byte 111).</summary>
public enum NvmeControllerType : byte
{
    /// <summary>Not reported (controllers before NVMe 1.4).</summary>
    NotReported = 0,

    /// <summary>I/O controller.</summary>
    Io = IdentifyControllerLayout.ControllerTypeIo,

    /// <summary>Discovery controller.</summary>
    Discovery = IdentifyControllerLayout.ControllerTypeDiscovery,

    /// <summary>Administrative controller.</summary>
    Administrative = IdentifyControllerLayout.ControllerTypeAdministrative,
}
