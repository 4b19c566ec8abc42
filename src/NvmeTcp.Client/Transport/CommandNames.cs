using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Transport;

/// <summary>Human names of commands, for error messages and logs.</summary>
internal static class CommandNames
{
    /// <summary>The spec's name of a command.</summary>
    public static string Of(CommandKind kind, byte opcode) => kind switch
    {
        CommandKind.Fabrics => "Fabrics command",
        CommandKind.Admin => opcode switch
        {
            0x02 => "Get Log Page",
            0x06 => "Identify",
            0x08 => "Abort",
            0x09 => "Set Features",
            0x0A => "Get Features",
            0x0C => "Asynchronous Event Request",
            0x18 => "Keep Alive",
            _ => $"Admin command 0x{opcode:X2}",
        },
        _ => opcode switch
        {
            0x00 => "Flush",
            0x01 => "Write",
            0x02 => "Read",
            0x05 => "Compare",
            0x08 => "Write Zeroes",
            0x09 => "Dataset Management",
            _ => $"I/O command 0x{opcode:X2}",
        },
    };

    /// <summary>The name of a fabrics command by FCTYPE.</summary>
    public static string OfFabrics(byte fctype) => fctype switch
    {
        0x00 => "Property Set",
        0x01 => "Connect",
        0x04 => "Property Get",
        0x05 => "Authentication Send",
        0x06 => "Authentication Receive",
        0x08 => "Disconnect",
        _ => $"Fabrics command 0x{fctype:X2}",
    };
}
