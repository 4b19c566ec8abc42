using NvmeTcp.Protocol;

namespace NvmeTcp.Protocol;

/// <summary>
/// The spec's names for status codes: NVMe Base 2.0 figures "Generic Command Status Values", "Command Specific
/// Status Values", "Media and Data Integrity Errors" and "Path Related Status"; the NVM Command Set 1.0 and
/// Zoned Namespace Command Set 1.1 "Command Specific Status Values" for codes 0x80-0xBF of I/O commands; the
/// NVMe-oF 1.1 "Fabrics Command Status Values" for those of fabrics commands. Numbers checked against
/// Linux <c>include/linux/nvme.h</c> (<c>NVME_SC_*</c>) and SPDK <c>include/spdk/nvme_spec.h</c>.
/// SC 0xC0-0xFF of SCT 0-3 and all of SCT 7 are vendor specific; SCT 4-6 are reserved.
/// </summary>
public readonly partial struct NvmeStatus
{
    private const string Unknown = "Unknown Status";
    private const string Vendor = "Vendor Specific";

    /// <summary>The spec's name for this status code, e.g. <c>Invalid Field in Command</c>.</summary>
    /// <remarks>
    /// Command specific codes 0x80-0xBF depend on the command that failed; this property gives the meaning for
    /// admin and NVM I/O commands. A failed Connect, Property Get/Set or Authentication command reuses those
    /// numbers for other statuses (SC 0x82 is Connect Invalid Parameters there, not Attempted Write to Read
    /// Only Range); the library names those itself. Unassigned codes give <c>Unknown Status</c>.
    /// </remarks>
    public string Name => NameFor(CommandKind.Admin);

    /// <summary>SCT in bits 8-10 and SC in bits 0-7, comparable with <see cref="StatusCodes"/>.</summary>
    public ushort TypeAndCode => (ushort)(_value & 0x7FF);

    /// <summary>Creates a status from <c>SCT &lt;&lt; 8 | SC</c>, as in <see cref="StatusCodes"/>.</summary>
    public static NvmeStatus FromTypeAndCode(ushort typeAndCode, bool doNotRetry = false) =>
        new((ushort)((typeAndCode & 0x7FF) | (doNotRetry ? 1 << 14 : 0)));

    /// <summary>Whether SCT and SC equal <paramref name="typeAndCode"/>; DNR, M and CRD are ignored.</summary>
    public bool Is(ushort typeAndCode) => TypeAndCode == typeAndCode;

    /// <summary>The spec's name for this status as the completion of a command of the given kind.</summary>
    public string NameFor(CommandKind kind)
    {
        var code = Code;
        return CodeType switch
        {
            NvmeStatusCodeType.VendorSpecific => Vendor,
            _ when (int)CodeType > 3 => Unknown,
            _ when code >= 0xC0 => Vendor,
            NvmeStatusCodeType.Generic => GenericName(code),
            NvmeStatusCodeType.CommandSpecific when code < 0x80 => CommandSpecificName(code),
            NvmeStatusCodeType.CommandSpecific when kind == CommandKind.Fabrics => FabricsName(code),
            NvmeStatusCodeType.CommandSpecific => IoCommandSetName(code),
            NvmeStatusCodeType.MediaAndDataIntegrity => MediaName(code),
            _ => PathName(code),
        };
    }

    private static string GenericName(byte code) => code switch
    {
        0x00 => "Successful Completion",
        0x01 => "Invalid Command Opcode",
        0x02 => "Invalid Field in Command",
        0x03 => "Command ID Conflict",
        0x04 => "Data Transfer Error",
        0x05 => "Commands Aborted due to Power Loss Notification",
        0x06 => "Internal Error",
        0x07 => "Command Abort Requested",
        0x08 => "Command Aborted due to SQ Deletion",
        0x09 => "Command Aborted due to Failed Fused Command",
        0x0A => "Command Aborted due to Missing Fused Command",
        0x0B => "Invalid Namespace or Format",
        0x0C => "Command Sequence Error",
        0x0D => "Invalid SGL Segment Descriptor",
        0x0E => "Invalid Number of SGL Descriptors",
        0x0F => "Data SGL Length Invalid",
        0x10 => "Metadata SGL Length Invalid",
        0x11 => "SGL Descriptor Type Invalid",
        0x12 => "Invalid Use of Controller Memory Buffer",
        0x13 => "PRP Offset Invalid",
        0x14 => "Atomic Write Unit Exceeded",
        0x15 => "Operation Denied",
        0x16 => "SGL Offset Invalid",
        0x18 => "Host Identifier Inconsistent Format",
        0x19 => "Keep Alive Timer Expired",
        0x1A => "Keep Alive Timeout Invalid",
        0x1B => "Command Aborted due to Preempt and Abort",
        0x1C => "Sanitize Failed",
        0x1D => "Sanitize In Progress",
        0x1E => "SGL Data Block Granularity Invalid",
        0x1F => "Command Not Supported for Queue in CMB",
        0x20 => "Namespace is Write Protected",
        0x21 => "Command Interrupted",
        0x22 => "Transient Transport Error",
        0x23 => "Command Prohibited by Command and Feature Lockdown",
        0x24 => "Admin Command Media Not Ready",
        0x80 => "LBA Out of Range",
        0x81 => "Capacity Exceeded",
        0x82 => "Namespace Not Ready",
        0x83 => "Reservation Conflict",
        0x84 => "Format In Progress",
        _ => Unknown,
    };

    // Codes 0x00-0x7F of SCT 1 are the base spec's and mean the same for every command that may return them.
    private static string CommandSpecificName(byte code) => code switch
    {
        0x00 => "Completion Queue Invalid",
        0x01 => "Invalid Queue Identifier",
        0x02 => "Invalid Queue Size",
        0x03 => "Abort Command Limit Exceeded",
        0x05 => "Asynchronous Event Request Limit Exceeded",
        0x06 => "Invalid Firmware Slot",
        0x07 => "Invalid Firmware Image",
        0x08 => "Invalid Interrupt Vector",
        0x09 => "Invalid Log Page",
        0x0A => "Invalid Format",
        0x0B => "Firmware Activation Requires Conventional Reset",
        0x0C => "Invalid Queue Deletion",
        0x0D => "Feature Identifier Not Saveable",
        0x0E => "Feature Not Changeable",
        0x0F => "Feature Not Namespace Specific",
        0x10 => "Firmware Activation Requires NVM Subsystem Reset",
        0x11 => "Firmware Activation Requires Controller Level Reset",
        0x12 => "Firmware Activation Requires Maximum Time Violation",
        0x13 => "Firmware Activation Prohibited",
        0x14 => "Overlapping Range",
        0x15 => "Namespace Insufficient Capacity",
        0x16 => "Namespace Identifier Unavailable",
        0x18 => "Namespace Already Attached",
        0x19 => "Namespace Is Private",
        0x1A => "Namespace Not Attached",
        0x1B => "Thin Provisioning Not Supported",
        0x1C => "Controller List Invalid",
        0x1D => "Device Self-test In Progress",
        0x1E => "Boot Partition Write Prohibited",
        0x1F => "Invalid Controller Identifier",
        0x20 => "Invalid Secondary Controller State",
        0x21 => "Invalid Number of Controller Resources",
        0x22 => "Invalid Resource Identifier",
        0x23 => "Sanitize Prohibited While Persistent Memory Region is Enabled",
        0x24 => "ANA Group Identifier Invalid",
        0x25 => "ANA Attach Failed",
        0x26 => "Insufficient Capacity",
        0x27 => "Namespace Attachment Limit Exceeded",
        0x28 => "Prohibition of Command Execution Not Supported",
        0x29 => "I/O Command Set Not Supported",
        0x2A => "I/O Command Set Not Enabled",
        0x2B => "I/O Command Set Combination Rejected",
        0x2C => "Invalid I/O Command Set",
        0x2D => "Identifier Unavailable",
        _ => Unknown,
    };

    private static string IoCommandSetName(byte code) => code switch
    {
        0x80 => "Conflicting Attributes",
        0x81 => "Invalid Protection Information",
        0x82 => "Attempted Write to Read Only Range",
        0x83 => "Command Size Limit Exceeded",
        0xB8 => "Zone Boundary Error",
        0xB9 => "Zone Is Full",
        0xBA => "Zone Is Read Only",
        0xBB => "Zone Is Offline",
        0xBC => "Zone Invalid Write",
        0xBD => "Too Many Active Zones",
        0xBE => "Too Many Open Zones",
        0xBF => "Invalid Zone State Transition",
        _ => Unknown,
    };

    private static string FabricsName(byte code) => code switch
    {
        0x80 => "Connect Incompatible Format",
        0x81 => "Connect Controller Busy",
        0x82 => "Connect Invalid Parameters",
        0x83 => "Connect Restart Discovery",
        0x84 => "Connect Invalid Host",
        0x85 => "Invalid Queue Type",
        0x90 => "Discover Restart",
        0x91 => "Authentication Required",
        _ => Unknown,
    };

    private static string MediaName(byte code) => code switch
    {
        0x80 => "Write Fault",
        0x81 => "Unrecovered Read Error",
        0x82 => "End-to-end Guard Check Error",
        0x83 => "End-to-end Application Tag Check Error",
        0x84 => "End-to-end Reference Tag Check Error",
        0x85 => "Compare Failure",
        0x86 => "Access Denied",
        0x87 => "Deallocated or Unwritten Logical Block",
        0x88 => "End-to-end Storage Tag Check Error",
        _ => Unknown,
    };

    private static string PathName(byte code) => code switch
    {
        0x00 => "Internal Path Error",
        0x01 => "Asymmetric Access Persistent Loss",
        0x02 => "Asymmetric Access Inaccessible",
        0x03 => "Asymmetric Access Transition",
        0x60 => "Controller Pathing Error",
        0x70 => "Host Pathing Error",
        0x71 => "Command Aborted By Host",
        _ => Unknown,
    };
}
