using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace NvmeTcp.Protocol.Auth;

/// <summary>
/// The DH-HMAC-CHAP computations (NVMe Base 2.0 "DH-HMAC-CHAP protocol"), byte for byte as Linux
/// (<c>drivers/nvme/host/auth.c</c>, <c>drivers/nvme/target/auth.c</c>) computes them.
/// </summary>
public static class DhchapCrypto
{
    /// <summary>HMAC with the given hash.</summary>
    public static byte[] Hmac(DhchapHashFunction hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => hash switch
    {
        DhchapHashFunction.Sha256 => HMACSHA256.HashData(key, data),
        DhchapHashFunction.Sha384 => HMACSHA384.HashData(key, data),
        DhchapHashFunction.Sha512 => HMACSHA512.HashData(key, data),
        _ => throw new ArgumentOutOfRangeException(nameof(hash), hash, "Unknown DH-HMAC-CHAP hash function."),
    };

    /// <summary>The plain hash (H()).</summary>
    public static byte[] Hash(DhchapHashFunction hash, ReadOnlySpan<byte> data) => hash switch
    {
        DhchapHashFunction.Sha256 => SHA256.HashData(data),
        DhchapHashFunction.Sha384 => SHA384.HashData(data),
        DhchapHashFunction.Sha512 => SHA512.HashData(data),
        _ => throw new ArgumentOutOfRangeException(nameof(hash), hash, "Unknown DH-HMAC-CHAP hash function."),
    };

    /// <summary>
    /// The augmented challenge of a DH exchange: HMAC(H(session key), challenge), where the session key is the DH
    /// shared value as big-endian bytes of the prime's size.
    /// </summary>
    public static byte[] AugmentChallenge(DhchapHashFunction hash, ReadOnlySpan<byte> sessionKey, ReadOnlySpan<byte> challenge)
    {
        var hashedKey = Hash(hash, sessionKey);
        try
        {
            return Hmac(hash, hashedKey, challenge);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hashedKey);
        }
    }

    /// <summary>
    /// The host's response R1 = HMAC(Kh', Ca1 || S1 || T_ID || SC || "HostHost" || NQNh || 00h || NQNc), S1
    /// little-endian 32 bits, T_ID 16 bits, SC one byte: the SC_C the host sent in AUTH_Negotiate (Linux since 6.17 and
    /// nvmet alike, <c>chap-&gt;sc_c</c> and <c>sq-&gt;sc_c</c>), 0 without secure channel concatenation.
    /// </summary>
    /// <param name="hash">The hash the controller chose.</param>
    /// <param name="transformedKey">The host secret's <see cref="DhchapSecret.Transform"/> with the host NQN.</param>
    /// <param name="challenge">C1, or its augmented form when a DH group is in use.</param>
    /// <param name="sequenceNumber">S1.</param>
    /// <param name="transactionId">T_ID.</param>
    /// <param name="hostNqn">NQNh.</param>
    /// <param name="subsystemNqn">NQNc.</param>
    /// <param name="secureChannel">SC_C of the exchange's AUTH_Negotiate.</param>
    public static byte[] HostResponse(DhchapHashFunction hash, ReadOnlySpan<byte> transformedKey, ReadOnlySpan<byte> challenge, uint sequenceNumber, ushort transactionId, string hostNqn, string subsystemNqn, AuthSecureChannel secureChannel = AuthSecureChannel.None) =>
        Response(hash, transformedKey, challenge, sequenceNumber, transactionId, secureChannel, "HostHost", hostNqn, subsystemNqn);

    /// <summary>
    /// The controller's response R2 = HMAC(Kc', Ca2 || S2 || T_ID || SC || "Controller" || NQNc || 00h || NQNh). Linux
    /// (host and nvmet) writes SC 0 here whatever SC_C was; with concatenation it never asks for R2 anyway (S2 is 0).
    /// </summary>
    /// <param name="hash">The hash the controller chose.</param>
    /// <param name="transformedKey">The controller secret's <see cref="DhchapSecret.Transform"/> with the subsystem NQN.</param>
    /// <param name="challenge">C2, or its augmented form when a DH group is in use.</param>
    /// <param name="sequenceNumber">S2.</param>
    /// <param name="transactionId">T_ID.</param>
    /// <param name="hostNqn">NQNh.</param>
    /// <param name="subsystemNqn">NQNc.</param>
    /// <param name="secureChannel">The SC byte; Linux uses <see cref="AuthSecureChannel.None"/>.</param>
    public static byte[] ControllerResponse(DhchapHashFunction hash, ReadOnlySpan<byte> transformedKey, ReadOnlySpan<byte> challenge, uint sequenceNumber, ushort transactionId, string hostNqn, string subsystemNqn, AuthSecureChannel secureChannel = AuthSecureChannel.None) =>
        Response(hash, transformedKey, challenge, sequenceNumber, transactionId, secureChannel, "Controller", subsystemNqn, hostNqn);

    private static byte[] Response(DhchapHashFunction hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> challenge, uint sequenceNumber, ushort transactionId, AuthSecureChannel secureChannel, string label, string firstNqn, string secondNqn)
    {
        var first = Encoding.UTF8.GetBytes(firstNqn);
        var second = Encoding.UTF8.GetBytes(secondNqn);
        var data = new byte[challenge.Length + 4 + 2 + 1 + label.Length + first.Length + 1 + second.Length];
        var span = data.AsSpan();
        challenge.CopyTo(span);
        span = span[challenge.Length..];
        BinaryPrimitives.WriteUInt32LittleEndian(span, sequenceNumber);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], transactionId);
        span[6] = (byte)secureChannel;
        span = span[7..];
        Encoding.ASCII.GetBytes(label, span);
        span = span[label.Length..];
        first.CopyTo(span);
        span[first.Length] = 0;
        second.CopyTo(span[(first.Length + 1)..]);
        return Hmac(hash, key, data);
    }
}
