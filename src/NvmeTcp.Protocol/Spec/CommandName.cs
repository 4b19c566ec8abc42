using System.Globalization;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Protocol.Spec;

/// <summary>
/// The spec's name of a command, from the opcode enums (<see cref="AdminOpcode"/>, <see cref="NvmOpcode"/>,
/// <see cref="FabricsCommandType"/>), for error messages and logs. An opcode the enums do not know is named by its
/// command set and value, e.g. "Admin command 0xC1".
/// </summary>
public static class CommandName
{
    /// <summary>The name of an admin or NVM I/O command; a fabrics command (opcode 7Fh) needs its FCTYPE: <see cref="OfFabrics"/>.</summary>
    public static string Of(CommandKind kind, byte opcode) => kind switch
    {
        CommandKind.Admin => OfAdmin(opcode),
        CommandKind.Io => OfNvm(opcode),
        _ => "Fabrics command",
    };

    /// <summary>The name of an admin command.</summary>
    public static string OfAdmin(byte opcode) => (AdminOpcode)opcode switch
    {
        AdminOpcode.DeleteIoSubmissionQueue => "Delete I/O Submission Queue",
        AdminOpcode.CreateIoSubmissionQueue => "Create I/O Submission Queue",
        AdminOpcode.GetLogPage => "Get Log Page",
        AdminOpcode.DeleteIoCompletionQueue => "Delete I/O Completion Queue",
        AdminOpcode.CreateIoCompletionQueue => "Create I/O Completion Queue",
        AdminOpcode.Identify => "Identify",
        AdminOpcode.Abort => "Abort",
        AdminOpcode.SetFeatures => "Set Features",
        AdminOpcode.GetFeatures => "Get Features",
        AdminOpcode.AsynchronousEventRequest => "Asynchronous Event Request",
        AdminOpcode.NamespaceManagement => "Namespace Management",
        AdminOpcode.FirmwareCommit => "Firmware Commit",
        AdminOpcode.FirmwareImageDownload => "Firmware Image Download",
        AdminOpcode.DeviceSelfTest => "Device Self-test",
        AdminOpcode.NamespaceAttachment => "Namespace Attachment",
        AdminOpcode.KeepAlive => "Keep Alive",
        AdminOpcode.DirectiveSend => "Directive Send",
        AdminOpcode.DirectiveReceive => "Directive Receive",
        AdminOpcode.VirtualizationManagement => "Virtualization Management",
        AdminOpcode.NvmeMiSend => "NVMe-MI Send",
        AdminOpcode.NvmeMiReceive => "NVMe-MI Receive",
        AdminOpcode.CapacityManagement => "Capacity Management",
        AdminOpcode.Lockdown => "Lockdown",
        AdminOpcode.DoorbellBufferConfig => "Doorbell Buffer Config",
        AdminOpcode.FabricsCommands => "Fabrics command",
        AdminOpcode.FormatNvm => "Format NVM",
        AdminOpcode.SecuritySend => "Security Send",
        AdminOpcode.SecurityReceive => "Security Receive",
        AdminOpcode.Sanitize => "Sanitize",
        AdminOpcode.GetLbaStatus => "Get LBA Status",
        _ => Unknown("Admin command", opcode),
    };

    /// <summary>The name of an I/O command of the NVM command set.</summary>
    public static string OfNvm(byte opcode) => (NvmOpcode)opcode switch
    {
        NvmOpcode.Flush => "Flush",
        NvmOpcode.Write => "Write",
        NvmOpcode.Read => "Read",
        NvmOpcode.WriteUncorrectable => "Write Uncorrectable",
        NvmOpcode.Compare => "Compare",
        NvmOpcode.WriteZeroes => "Write Zeroes",
        NvmOpcode.DatasetManagement => "Dataset Management",
        NvmOpcode.Verify => "Verify",
        NvmOpcode.ReservationRegister => "Reservation Register",
        NvmOpcode.ReservationReport => "Reservation Report",
        NvmOpcode.ReservationAcquire => "Reservation Acquire",
        NvmOpcode.ReservationRelease => "Reservation Release",
        NvmOpcode.Copy => "Copy",
        _ => Unknown("I/O command", opcode),
    };

    /// <summary>The name of a fabrics command by its FCTYPE.</summary>
    public static string OfFabrics(byte fabricsCommandType) => (FabricsCommandType)fabricsCommandType switch
    {
        FabricsCommandType.PropertySet => "Property Set",
        FabricsCommandType.Connect => "Connect",
        FabricsCommandType.PropertyGet => "Property Get",
        FabricsCommandType.AuthenticationSend => "Authentication Send",
        FabricsCommandType.AuthenticationReceive => "Authentication Receive",
        FabricsCommandType.Disconnect => "Disconnect",
        _ => Unknown("Fabrics command", fabricsCommandType),
    };

    private static string Unknown(string set, byte value) => string.Create(CultureInfo.InvariantCulture, $"{set} 0x{value:X2}");
}
