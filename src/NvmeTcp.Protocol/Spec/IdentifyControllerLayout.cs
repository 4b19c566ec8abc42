using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Protocol.Spec;

/// <summary>
/// Byte offsets of the Identify Controller data structure (Identify CNS 01h; NVMe Base 2.0, Figure 275),
/// <see cref="Size"/> bytes, little-endian; the bits of its fields that this library writes or reads.
/// </summary>
public static class IdentifyControllerLayout
{
    /// <summary>Size of the structure.</summary>
    public const int Size = IdentifyCommand.DataSize;

    /// <summary>VID, PCI Vendor ID (2 bytes).</summary>
    public const int Vid = 0;

    /// <summary>SSVID, PCI Subsystem Vendor ID (2 bytes).</summary>
    public const int Ssvid = 2;

    /// <summary>SN, Serial Number (ASCII, space padded).</summary>
    public const int Sn = 4;

    /// <summary>Length of SN.</summary>
    public const int SnLength = 20;

    /// <summary>MN, Model Number (ASCII, space padded).</summary>
    public const int Mn = 24;

    /// <summary>Length of MN.</summary>
    public const int MnLength = 40;

    /// <summary>FR, Firmware Revision (ASCII, space padded).</summary>
    public const int Fr = 64;

    /// <summary>Length of FR.</summary>
    public const int FrLength = 8;

    /// <summary>RAB, Recommended Arbitration Burst (1 byte).</summary>
    public const int Rab = 72;

    /// <summary>IEEE, IEEE OUI Identifier.</summary>
    public const int Ieee = 73;

    /// <summary>Length of IEEE.</summary>
    public const int IeeeLength = 3;

    /// <summary>CMIC, Controller Multi-Path I/O and Namespace Sharing Capabilities (1 byte).</summary>
    public const int Cmic = 76;

    /// <summary>MDTS, Maximum Data Transfer Size (1 byte).</summary>
    public const int Mdts = 77;

    /// <summary>CNTLID, Controller ID (2 bytes).</summary>
    public const int Cntlid = 78;

    /// <summary>VER, Version (4 bytes, as <see cref="ControllerVersion"/>).</summary>
    public const int Ver = 80;

    /// <summary>RTD3R, RTD3 Resume Latency (4 bytes).</summary>
    public const int Rtd3r = 84;

    /// <summary>RTD3E, RTD3 Entry Latency (4 bytes).</summary>
    public const int Rtd3e = 88;

    /// <summary>OAES, Optional Asynchronous Events Supported (4 bytes, as <see cref="AsyncEventConfiguration"/>).</summary>
    public const int Oaes = 92;

    /// <summary>CTRATT, Controller Attributes (4 bytes).</summary>
    public const int Ctratt = 96;

    /// <summary>CNTRLTYPE, Controller Type (1 byte).</summary>
    public const int Cntrltype = 111;

    /// <summary>FGUID, FRU Globally Unique Identifier.</summary>
    public const int Fguid = 112;

    /// <summary>Length of FGUID.</summary>
    public const int FguidLength = 16;

    /// <summary>CRDT1, Command Retry Delay Time 1 (2 bytes).</summary>
    public const int Crdt1 = 128;

    /// <summary>CRDT2, Command Retry Delay Time 2 (2 bytes).</summary>
    public const int Crdt2 = 130;

    /// <summary>CRDT3, Command Retry Delay Time 3 (2 bytes).</summary>
    public const int Crdt3 = 132;

    /// <summary>OACS, Optional Admin Command Support (2 bytes).</summary>
    public const int Oacs = 256;

    /// <summary>ACL, Abort Command Limit (1 byte, 0's based).</summary>
    public const int Acl = 258;

    /// <summary>AERL, Asynchronous Event Request Limit (1 byte, 0's based).</summary>
    public const int Aerl = 259;

    /// <summary>FRMW, Firmware Updates (1 byte).</summary>
    public const int Frmw = 260;

    /// <summary>LPA, Log Page Attributes (1 byte).</summary>
    public const int Lpa = 261;

    /// <summary>ELPE, Error Log Page Entries (1 byte, 0's based).</summary>
    public const int Elpe = 262;

    /// <summary>NPSS, Number of Power States Support (1 byte, 0's based).</summary>
    public const int Npss = 263;

    /// <summary>AVSCC, Admin Vendor Specific Command Configuration (1 byte).</summary>
    public const int Avscc = 264;

    /// <summary>APSTA, Autonomous Power State Transition Attributes (1 byte).</summary>
    public const int Apsta = 265;

    /// <summary>WCTEMP, Warning Composite Temperature Threshold (2 bytes).</summary>
    public const int Wctemp = 266;

    /// <summary>CCTEMP, Critical Composite Temperature Threshold (2 bytes).</summary>
    public const int Cctemp = 268;

    /// <summary>TNVMCAP, Total NVM Capacity (16 bytes).</summary>
    public const int Tnvmcap = 280;

    /// <summary>UNVMCAP, Unallocated NVM Capacity (16 bytes).</summary>
    public const int Unvmcap = 296;

    /// <summary>KAS, Keep Alive Support (2 bytes, 100 ms units).</summary>
    public const int Kas = 320;

    /// <summary>ANATT, ANA Transition Time (1 byte).</summary>
    public const int Anatt = 342;

    /// <summary>ANACAP, Asymmetric Namespace Access Capabilities (1 byte).</summary>
    public const int Anacap = 343;

    /// <summary>ANAGRPMAX, ANA Group Identifier Maximum (4 bytes).</summary>
    public const int Anagrpmax = 344;

    /// <summary>NANAGRPID, Number of ANA Group Identifiers (4 bytes).</summary>
    public const int Nanagrpid = 348;

    /// <summary>SQES, Submission Queue Entry Size (1 byte, as <see cref="QueueEntrySizes"/>).</summary>
    public const int Sqes = 512;

    /// <summary>CQES, Completion Queue Entry Size (1 byte, as <see cref="QueueEntrySizes"/>).</summary>
    public const int Cqes = 513;

    /// <summary>MAXCMD, Maximum Outstanding Commands (2 bytes).</summary>
    public const int Maxcmd = 514;

    /// <summary>NN, Number of Namespaces (4 bytes).</summary>
    public const int Nn = 516;

    /// <summary>ONCS, Optional NVM Command Support (2 bytes).</summary>
    public const int Oncs = 520;

    /// <summary>FUSES, Fused Operation Support (2 bytes).</summary>
    public const int Fuses = 522;

    /// <summary>FNA, Format NVM Attributes (1 byte).</summary>
    public const int Fna = 524;

    /// <summary>VWC, Volatile Write Cache (1 byte).</summary>
    public const int Vwc = 525;

    /// <summary>AWUN, Atomic Write Unit Normal (2 bytes, 0's based).</summary>
    public const int Awun = 526;

    /// <summary>AWUPF, Atomic Write Unit Power Fail (2 bytes, 0's based).</summary>
    public const int Awupf = 528;

    /// <summary>ICSVSCC (NVSCC), I/O Command Set Vendor Specific Command Configuration (1 byte).</summary>
    public const int Nvscc = 530;

    /// <summary>NWPC, Namespace Write Protection Capabilities (1 byte).</summary>
    public const int Nwpc = 531;

    /// <summary>ACWU, Atomic Compare and Write Unit (2 bytes, 0's based).</summary>
    public const int Acwu = 532;

    /// <summary>SGLS, SGL Support (4 bytes).</summary>
    public const int Sgls = 536;

    /// <summary>MNAN, Maximum Number of Allowed Namespaces (4 bytes).</summary>
    public const int Mnan = 540;

    /// <summary>SUBNQN, NVM Subsystem NVMe Qualified Name (UTF-8, NUL padded).</summary>
    public const int Subnqn = 768;

    /// <summary>Length of SUBNQN.</summary>
    public const int SubnqnLength = NvmeQualifiedName.FieldLength;

    /// <summary>IOCCSZ, I/O Queue Command Capsule Supported Size (4 bytes, <see cref="CapsuleSizeUnit"/> units; fabrics).</summary>
    public const int Ioccsz = 1792;

    /// <summary>IORCSZ, I/O Queue Response Capsule Supported Size (4 bytes, <see cref="CapsuleSizeUnit"/> units; fabrics).</summary>
    public const int Iorcsz = 1796;

    /// <summary>ICDOFF, In Capsule Data Offset (2 bytes, <see cref="CapsuleSizeUnit"/> units; fabrics).</summary>
    public const int Icdoff = 1800;

    /// <summary>FCATT, Fabrics Controller Attributes (1 byte).</summary>
    public const int Fcatt = 1802;

    /// <summary>MSDBD, Maximum SGL Data Block Descriptors (1 byte).</summary>
    public const int Msdbd = 1803;

    /// <summary>OFCS, Optional Fabric Commands Support (2 bytes).</summary>
    public const int Ofcs = 1804;

    /// <summary>PSD0, the first of 32 power state descriptors.</summary>
    public const int PowerStateDescriptors = 2048;

    /// <summary>Length of one power state descriptor.</summary>
    public const int PowerStateDescriptorLength = 32;

    /// <summary>The vendor specific area, to the end.</summary>
    public const int VendorSpecific = 3072;

    /// <summary>CNTRLTYPE 1: I/O controller (0 means not reported, before NVMe 1.4).</summary>
    public const byte ControllerTypeIo = 1;

    /// <summary>CNTRLTYPE 2: discovery controller.</summary>
    public const byte ControllerTypeDiscovery = 2;

    /// <summary>CNTRLTYPE 3: administrative controller.</summary>
    public const byte ControllerTypeAdministrative = 3;

    /// <summary>CMIC bit 0: the subsystem may have more than one port.</summary>
    public const byte CmicMultiplePorts = 1 << 0;

    /// <summary>CMIC bit 1: the subsystem may have more than one controller.</summary>
    public const byte CmicMultipleControllers = 1 << 1;

    /// <summary>CMIC bit 3: Asymmetric Namespace Access reporting.</summary>
    public const byte CmicAnaReporting = 1 << 3;

    /// <summary>CTRATT bit 0: 128-bit host identifier.</summary>
    public const uint CtrattHostId128 = 1u << 0;

    /// <summary>CTRATT bit 6: traffic based keep alive (TBKAS).</summary>
    public const uint CtrattTrafficBasedKeepAlive = 1u << 6;

    /// <summary>FRMW bit 0: firmware slot 1 is read only.</summary>
    public const byte FrmwSlot1ReadOnly = 1 << 0;

    /// <summary>FRMW bits 1-3: the number of firmware slots, shifted by this.</summary>
    public const int FrmwSlotCountShift = 1;

    /// <summary>LPA bit 0: SMART / Health log per namespace.</summary>
    public const byte LpaSmartPerNamespace = 1 << 0;

    /// <summary>LPA bit 1: Commands Supported and Effects log.</summary>
    public const byte LpaCommandEffects = 1 << 1;

    /// <summary>LPA bit 2: extended data for Get Log Page (NUMDU, offsets).</summary>
    public const byte LpaExtendedData = 1 << 2;

    /// <summary>ONCS bit 0: Compare.</summary>
    public const ushort OncsCompare = 1 << 0;

    /// <summary>ONCS bit 1: Write Uncorrectable.</summary>
    public const ushort OncsWriteUncorrectable = 1 << 1;

    /// <summary>ONCS bit 2: Dataset Management.</summary>
    public const ushort OncsDatasetManagement = 1 << 2;

    /// <summary>ONCS bit 3: Write Zeroes.</summary>
    public const ushort OncsWriteZeroes = 1 << 3;

    /// <summary>ONCS bit 5: Reservations.</summary>
    public const ushort OncsReservations = 1 << 5;

    /// <summary>VWC bit 0: a volatile write cache is present.</summary>
    public const byte VwcPresent = 1 << 0;

    /// <summary>SGLS bits 0-1 01b: SGLs supported, no alignment required.</summary>
    public const uint SglsSupported = 1u << 0;

    /// <summary>SGLS bit 20: the Offset SGL subtype (in-capsule data) is supported.</summary>
    public const uint SglsOffset = 1u << 20;

    /// <summary>The unit of IOCCSZ, IORCSZ and ICDOFF: 16 bytes.</summary>
    public const int CapsuleSizeUnit = 16;

    private const int MaximumShift = 4;

    /// <summary>SQES or CQES: bits 0-3 the required and bits 4-7 the maximum entry size, each log2 of bytes.</summary>
    public static byte QueueEntrySizes(int required, int maximum)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)required, 0xFu, nameof(required));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)maximum, 0xFu, nameof(maximum));
        return (byte)((maximum << MaximumShift) | required);
    }

    /// <summary>In-capsule data an I/O command may carry: IOCCSZ units minus the 64-byte SQE, never negative.</summary>
    public static long InCapsuleDataSize(uint ioccsz) => Math.Max(0L, (ioccsz * (long)CapsuleSizeUnit) - Sqe.Size);

    /// <summary>The IOCCSZ for an SQE and <paramref name="inCapsuleDataSize"/> bytes of data, rounded up to whole units.</summary>
    public static uint CommandCapsuleSize(int inCapsuleDataSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inCapsuleDataSize);
        return (uint)(((long)inCapsuleDataSize + Sqe.Size + CapsuleSizeUnit - 1) / CapsuleSizeUnit);
    }
}

/// <summary>NVMe Qualified Names (NVMe Base 2.0, 4.5).</summary>
public static class NvmeQualifiedName
{
    /// <summary>The well-known NQN of the discovery subsystem.</summary>
    public const string Discovery = "nqn.2014-08.org.nvmexpress.discovery";

    /// <summary>Bytes of an NQN field in Identify, Connect and discovery data (UTF-8, NUL padded).</summary>
    public const int FieldLength = 256;

    /// <summary>Longest NQN in UTF-8 bytes (Linux <c>NVMF_NQN_SIZE</c>): its field keeps a NUL after it.</summary>
    public const int MaxLength = 223;
}
