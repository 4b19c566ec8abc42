using System.Diagnostics.CodeAnalysis;
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

    /// <summary>
    /// Reads one line of libnvme's key file (<c>append_keyfile</c>, what <c>nvme check-tls-key --insert --keyfile</c>
    /// writes): <c>IDENTITY NVMeTLSkey-V:hh:base64(TLS PSK || CRC-32):</c>, V the identity version. Blank lines and
    /// <c>#</c> comments give null. <paramref name="error"/> never quotes the key.
    /// </summary>
    public static bool TryParseKeyFileLine(string line, out NvmeTlsPsk? psk, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(line);
        psk = null;
        error = null;
        var text = line.Trim();
        if (text.Length == 0 || text.StartsWith('#'))
        {
            return true;
        }

        // The identity holds spaces (NVMe1R01 host subsys digest); the key is the last word.
        var space = text.LastIndexOf(' ');
        var exported = space > 0 ? text[(space + 1)..] : string.Empty;
        if (space <= 0 || !(exported.StartsWith("NVMeTLSkey-0:", StringComparison.Ordinal) || exported.StartsWith("NVMeTLSkey-1:", StringComparison.Ordinal)))
        {
            error = "A key file line has the form <identity> NVMeTLSkey-V:hh:<base64>: .";
            return false;
        }

        var identity = text[..space].TrimEnd();
        if (!NvmeTlsKey.TryParse("NVMeTLSkey-1" + exported["NVMeTLSkey-1".Length..], out var key, out error))
        {
            return false;
        }

        if (key.Hash == NvmeTlsPskHash.None || key.Length != NvmeTlsKeyDerivation.HashLength(key.Hash))
        {
            error = "A key file's TLS PSK names its hash (01 or 02) and has its length.";
            return false;
        }

        psk = new NvmeTlsPsk(identity, key.Hash, key.KeyBytes);
        return true;
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
