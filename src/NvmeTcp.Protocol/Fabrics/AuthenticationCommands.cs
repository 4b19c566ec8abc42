using NvmeTcp.Protocol;

namespace NvmeTcp.Protocol.Fabrics;

/// <summary>
/// Authentication Send (FCTYPE 0x05) and Authentication Receive (FCTYPE 0x06) (NVMe Base 2.0 "Authentication Send
/// Command" and "Authentication Receive Command", from TP 8006; Linux <c>struct nvmf_auth_send_command</c> / <c>nvmf_auth_receive_command</c>).
/// <code>
/// byte 0      opcode 0x7F
/// byte 4      FCTYPE
/// byte 24-39  SGL1   the message (Send: host to controller; Receive: controller to host)
/// byte 41     SPSP0  security protocol specific, 0x01 for DH-HMAC-CHAP
/// byte 42     SPSP1  security protocol specific, 0x01 for DH-HMAC-CHAP
/// byte 43     SECP   security protocol, 0xE9 for NVMe in-band authentication
/// byte 44-47  TL     transfer length (Send) / AL allocation length (Receive)
/// </code>
/// Linux sends SPSP0 = SPSP1 = 0x01 and nvmet rejects anything else with Invalid Field in Command.
/// </summary>
public static class AuthenticationCommands
{
    /// <summary>SECP for NVMe in-band authentication (DH-HMAC-CHAP).</summary>
    public const byte DhHmacChapProtocol = 0xE9;

    /// <summary>SPSP0 and SPSP1 for DH-HMAC-CHAP messages.</summary>
    public const byte DhHmacChapSpecific = 0x01;

    /// <summary>Byte offset of SPSP0.</summary>
    public const int Spsp0Offset = 41;

    /// <summary>Byte offset of SPSP1.</summary>
    public const int Spsp1Offset = 42;

    /// <summary>Byte offset of SECP.</summary>
    public const int SecpOffset = 43;

    /// <summary>Byte offset of TL or AL.</summary>
    public const int LengthOffset = 44;

    /// <summary>Authentication Send of a <paramref name="transferLength"/>-byte message.</summary>
    /// <param name="transferLength">TL, the message length; the SGL length too.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="transferLength"/> is 0.</exception>
    public static Sqe Send(uint transferLength)
    {
        ArgumentOutOfRangeException.ThrowIfZero(transferLength);
        var sqe = Create(FabricsCommandType.AuthenticationSend, transferLength);
        DataPointer.SetTransport(ref sqe, transferLength);
        return sqe;
    }

    /// <summary>Authentication Receive of up to <paramref name="allocationLength"/> bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="allocationLength"/> is 0.</exception>
    public static Sqe Receive(uint allocationLength)
    {
        ArgumentOutOfRangeException.ThrowIfZero(allocationLength);
        var sqe = Create(FabricsCommandType.AuthenticationReceive, allocationLength);
        DataPointer.SetTransport(ref sqe, allocationLength);
        return sqe;
    }

    private static Sqe Create(FabricsCommandType type, uint length)
    {
        var sqe = FabricsCommand.Create(type);
        sqe[Spsp0Offset] = DhHmacChapSpecific;
        sqe[Spsp1Offset] = DhHmacChapSpecific;
        sqe[SecpOffset] = DhHmacChapProtocol;
        sqe.WriteUInt32(LengthOffset, length);
        return sqe;
    }
}
