using NvmeTcp.Protocol;

namespace NvmeTcp.Protocol.Fabrics;

/// <summary>
/// FCTYPE, byte 4 of a fabrics command (opcode 0x7F) (NVMe-oF 1.1, 6 "Fabrics Command Set"; Linux
/// <c>enum nvmf_capsule_command</c>). Bit 0 gives the data direction, as an opcode's bits do: 1 host to
/// controller (Connect, Authentication Send). Names as the spec spells them: <see cref="Spec.CommandName"/>.
/// </summary>
public enum FabricsCommandType : byte
{
    /// <summary>Property Set.</summary>
    PropertySet = 0x00,

    /// <summary>Connect.</summary>
    Connect = 0x01,

    /// <summary>Property Get.</summary>
    PropertyGet = 0x04,

    /// <summary>Authentication Send.</summary>
    AuthenticationSend = 0x05,

    /// <summary>Authentication Receive.</summary>
    AuthenticationReceive = 0x06,

    /// <summary>Disconnect (I/O queues only).</summary>
    Disconnect = 0x08,
}

/// <summary>Shared layout of fabrics commands.</summary>
public static class FabricsCommand
{
    /// <summary>The opcode of every fabrics command.</summary>
    public const byte Opcode = (byte)Admin.AdminOpcode.FabricsCommands;

    /// <summary>
    /// A fabrics SQE of the given FCTYPE: opcode 0x7F, byte 1 0x40 and SGL1 for no data. Byte 1 is reserved in
    /// fabrics commands, but Linux sets PSDT 01b there as in every other command (seen in the capture) and
    /// targets accept it.
    /// </summary>
    public static Sqe Create(FabricsCommandType type)
    {
        var sqe = Sqe.Create(Opcode);
        sqe.FabricsCommandType = (byte)type;
        DataPointer.SetTransport(ref sqe, 0);
        return sqe;
    }
}
