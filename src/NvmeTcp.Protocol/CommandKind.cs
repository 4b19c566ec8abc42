namespace NvmeTcp.Protocol;

/// <summary>
/// Which command set a command came from. Command Specific status codes 0x80-0xBF mean different things for
/// an NVM I/O command (Conflicting Attributes, ...) and for a fabrics command (Connect Incompatible Format, ...),
/// so naming such a status needs this context.
/// </summary>
public enum CommandKind
{
    /// <summary>An admin command (opcode other than 0x7F on queue 0).</summary>
    Admin,

    /// <summary>An I/O command of the NVM command set.</summary>
    Io,

    /// <summary>A fabrics command (opcode 0x7F): Connect, Property Get/Set, Authentication, Disconnect.</summary>
    Fabrics,
}
