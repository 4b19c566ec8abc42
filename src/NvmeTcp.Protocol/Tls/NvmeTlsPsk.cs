using System.Security.Cryptography;

namespace NvmeTcp.Protocol.Tls;

/// <summary>
/// A TLS PSK ready for the handshake: its PSK identity (sent in the clear in the ClientHello) and the key derived
/// for it. <see cref="ToString"/> shows the identity only.
/// </summary>
public sealed class NvmeTlsPsk
{
    private readonly byte[] _key;

    /// <summary>Creates a TLS PSK from an identity and the derived key (32 bytes for SHA-256, 48 for SHA-384).</summary>
    public NvmeTlsPsk(string identity, NvmeTlsPskHash hash, ReadOnlySpan<byte> key)
    {
        ArgumentException.ThrowIfNullOrEmpty(identity);
        if (key.Length != NvmeTlsKeyDerivation.HashLength(hash))
        {
            throw new ArgumentException("The TLS PSK's length must be the hash's (32 for SHA-256, 48 for SHA-384).", nameof(key));
        }

        Identity = identity;
        Hash = hash;
        _key = key.ToArray();
    }

    /// <summary>The PSK identity, e.g. <c>NVMe0R01 hostnqn subsysnqn</c>.</summary>
    public string Identity { get; }

    /// <summary>The hash of the cipher suite (SHA-256: TLS_AES_128_GCM_SHA256; SHA-384: TLS_AES_256_GCM_SHA384).</summary>
    public NvmeTlsPskHash Hash { get; }

    /// <summary>A copy of the key; the caller should zero it after use.</summary>
    public byte[] CopyKey() => (byte[])_key.Clone();

    /// <summary>Whether <paramref name="other"/> holds the same identity and key (the key compared in constant time).</summary>
    public bool SameAs(NvmeTlsPsk other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Identity == other.Identity && Hash == other.Hash && CryptographicOperations.FixedTimeEquals(_key, other._key);
    }

    /// <summary>Shows the identity and the hash, never the key.</summary>
    public override string ToString() => $"{Identity} <{_key.Length}-byte TLS PSK>";
}
