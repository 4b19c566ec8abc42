using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Agreement;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace NvmeTcp.Protocol.Auth;

/// <summary>
/// One side's ephemeral Diffie-Hellman key in an RFC 7919 group, for the DH part of DH-HMAC-CHAP. Values travel as
/// big-endian bytes of the prime's size, as Linux's <c>ffdheN(dh)</c> produces them. The arithmetic is BouncyCastle's.
/// </summary>
public sealed class DhchapDhKey
{
    // Twice the strongest group's security strength (RFC 7919 section 5.2 asks for at least twice) and then some.
    private const int PrivateBits = 512;

    private readonly BigInteger _prime;
    private readonly BigInteger _private;

    private DhchapDhKey(DhchapDhGroup group, BigInteger prime, BigInteger generator)
    {
        Group = group;
        _prime = prime;
        var bytes = RandomNumberGenerator.GetBytes(PrivateBits / 8);
        bytes[0] |= 0x80;
        _private = new BigInteger(1, bytes);
        CryptographicOperations.ZeroMemory(bytes);
        PublicValue = ToFixed(generator.ModPow(_private, prime), DhchapIdentifiers.DhValueLength(group));
    }

    /// <summary>The group.</summary>
    public DhchapDhGroup Group { get; }

    /// <summary>g^x mod p, big-endian, the prime's size.</summary>
    public byte[] PublicValue { get; }

    /// <summary>A new key pair in <paramref name="group"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">NULL or an unknown group.</exception>
    public static DhchapDhKey Generate(DhchapDhGroup group)
    {
        var parameters = group switch
        {
            DhchapDhGroup.Ffdhe2048 => DHStandardGroups.rfc7919_ffdhe2048,
            DhchapDhGroup.Ffdhe3072 => DHStandardGroups.rfc7919_ffdhe3072,
            DhchapDhGroup.Ffdhe4096 => DHStandardGroups.rfc7919_ffdhe4096,
            DhchapDhGroup.Ffdhe6144 => DHStandardGroups.rfc7919_ffdhe6144,
            DhchapDhGroup.Ffdhe8192 => DHStandardGroups.rfc7919_ffdhe8192,
            _ => throw new ArgumentOutOfRangeException(nameof(group), group, "Not a Diffie-Hellman group."),
        };
        return new DhchapDhKey(group, parameters.P, parameters.G);
    }

    /// <summary>
    /// The shared value (the session key) from the peer's public value: y^x mod p as big-endian bytes of the prime's
    /// size. False when the value is not the group's size or not in 2..p-2 (RFC 7919 section 5.1).
    /// </summary>
    public bool TryComputeSharedSecret(ReadOnlySpan<byte> peerPublicValue, out byte[] sharedSecret)
    {
        sharedSecret = [];
        var size = DhchapIdentifiers.DhValueLength(Group);
        if (peerPublicValue.Length != size)
        {
            return false;
        }

        var y = new BigInteger(1, peerPublicValue.ToArray());
        if (y.CompareTo(BigInteger.One) <= 0 || y.CompareTo(_prime.Subtract(BigInteger.One)) >= 0)
        {
            return false;
        }

        sharedSecret = ToFixed(y.ModPow(_private, _prime), size);
        return true;
    }

    private static byte[] ToFixed(BigInteger value, int size)
    {
        var bytes = value.ToByteArrayUnsigned();
        if (bytes.Length == size)
        {
            return bytes;
        }

        var result = new byte[size];
        bytes.CopyTo(result, size - bytes.Length);
        return result;
    }
}
