using System.Security.Cryptography;
using System.Text;
using NvmeTcp.Protocol.Auth;

namespace NvmeTcp.Protocol.Tls;

/// <summary>
/// The NVMe/TCP TLS key derivations (NVMe/TCP Transport "TLS PSK and PSK identity derivation", TP 8011/8018), byte for
/// byte as Linux (<c>drivers/nvme/common/auth.c</c>: <c>nvme_auth_generate_psk</c>, <c>nvme_auth_generate_digest</c>,
/// <c>nvme_auth_derive_tls_psk</c>) and libnvme's RFC 8446 derivation (<c>derive_retained_key</c>,
/// <c>derive_psk_digest</c>, <c>derive_tls_key</c>, since libnvme PR 1040/1051) compute them. HKDF and HMAC are .NET's.
/// </summary>
/// <remarks>
/// Every HKDF-Expand-Label here is RFC 8446 section 7.1's: info = uint16 length (big-endian), the label
/// <c>"tls13 " + label</c> and the context, each prefixed with its one-byte length. libnvme before PR 1040 (its
/// <c>--compat</c> derivation, also SPDK issue 3838) wrote a little-endian length and no prefixes; that form is not
/// implemented.
/// </remarks>
public static class NvmeTlsKeyDerivation
{
    private const string DigestSuffix = " NVMe-over-Fabrics";

    /// <summary>The hash's output length: 32 for SHA-256, 48 for SHA-384.</summary>
    public static int HashLength(NvmeTlsPskHash hash) => hash switch
    {
        NvmeTlsPskHash.Sha256 => 32,
        NvmeTlsPskHash.Sha384 => 48,
        _ => throw new ArgumentOutOfRangeException(nameof(hash), hash, "The hash must be SHA-256 (01) or SHA-384 (02)."),
    };

    /// <summary>
    /// The cipher suite hash of a configured key: its <c>hh</c>, or for <c>hh</c> 00 the hash of the key's length
    /// (libnvme <c>default_hmac</c>: 32 bytes SHA-256, 48 bytes SHA-384).
    /// </summary>
    public static NvmeTlsPskHash CipherHash(NvmeTlsPskHash keyHash, int keyLength) => keyHash switch
    {
        NvmeTlsPskHash.None => keyLength switch
        {
            32 => NvmeTlsPskHash.Sha256,
            48 => NvmeTlsPskHash.Sha384,
            _ => throw new ArgumentOutOfRangeException(nameof(keyLength), keyLength, "A TLS PSK is 32 or 48 bytes."),
        },
        NvmeTlsPskHash.Sha256 or NvmeTlsPskHash.Sha384 => keyHash,
        _ => throw new ArgumentOutOfRangeException(nameof(keyHash), keyHash, "hh must be 00, 01 or 02."),
    };

    /// <summary>
    /// The retained PSK: with <c>hh</c> 00 the configured PSK itself; otherwise
    /// HKDF-Expand-Label(HKDF-Extract(0, configured), "HostNQN", NQNh, length of the configured PSK).
    /// </summary>
    public static byte[] RetainedPsk(NvmeTlsPskHash keyHash, ReadOnlySpan<byte> configuredPsk, string hostNqn)
    {
        ArgumentNullException.ThrowIfNull(hostNqn);
        if (keyHash == NvmeTlsPskHash.None)
        {
            return configuredPsk.ToArray();
        }

        return ExtractAndExpandLabel(keyHash, configuredPsk, "HostNQN", Encoding.UTF8.GetBytes(hostNqn), configuredPsk.Length);
    }

    /// <summary>
    /// The PSK digest of identity version 1: Base64 (RFC 4648, padded) of
    /// HMAC-hash(PSK, NQNh || " " || NQNc || " " || "NVMe-over-Fabrics"): 44 characters for SHA-256, 64 for SHA-384.
    /// </summary>
    public static string PskDigest(NvmeTlsPskHash cipherHash, ReadOnlySpan<byte> psk, string hostNqn, string subsystemNqn)
    {
        ArgumentNullException.ThrowIfNull(hostNqn);
        ArgumentNullException.ThrowIfNull(subsystemNqn);
        var data = Encoding.UTF8.GetBytes(hostNqn + " " + subsystemNqn + DigestSuffix);
        var mac = cipherHash switch
        {
            NvmeTlsPskHash.Sha256 => HMACSHA256.HashData(psk, data),
            NvmeTlsPskHash.Sha384 => HMACSHA384.HashData(psk, data),
            _ => throw new ArgumentOutOfRangeException(nameof(cipherHash), cipherHash, "The hash must be SHA-256 (01) or SHA-384 (02)."),
        };
        var digest = Convert.ToBase64String(mac);
        CryptographicOperations.ZeroMemory(mac);
        return digest;
    }

    /// <summary>
    /// The PSK identity: version 0 <c>NVMe0Rhh NQNh NQNc</c>, version 1 <c>NVMe1Rhh NQNh NQNc digest</c> (a retained
    /// PSK, <c>R</c>), or with <paramref name="generated"/> <c>NVMe1Ghh ...</c> (secure channel concatenation).
    /// </summary>
    public static string Identity(int version, NvmeTlsPskHash cipherHash, string hostNqn, string subsystemNqn, string? digest, bool generated = false)
    {
        ArgumentNullException.ThrowIfNull(hostNqn);
        ArgumentNullException.ThrowIfNull(subsystemNqn);
        _ = HashLength(cipherHash);
        var kind = generated ? 'G' : 'R';
        return version switch
        {
            0 when !generated => $"NVMe0{kind}{(byte)cipherHash:d2} {hostNqn} {subsystemNqn}",
            1 when digest is not null => $"NVMe1{kind}{(byte)cipherHash:d2} {hostNqn} {subsystemNqn} {digest}",
            _ => throw new ArgumentOutOfRangeException(nameof(version), version, "Identity version 0 (retained PSKs only) or 1 (with a digest)."),
        };
    }

    /// <summary>
    /// The TLS PSK: HKDF-Expand-Label(HKDF-Extract(0, input PSK), "nvme-tls-psk", context, hash length), where the
    /// context is the whole identity for version 0 and <c>"hh digest"</c> for version 1.
    /// </summary>
    public static byte[] TlsPsk(NvmeTlsPskHash cipherHash, ReadOnlySpan<byte> inputPsk, string context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ExtractAndExpandLabel(cipherHash, inputPsk, "nvme-tls-psk", Encoding.UTF8.GetBytes(context), HashLength(cipherHash));
    }

    /// <summary>The TLS PSK context of a version-1 identity: the two-digit hash, a space and the digest.</summary>
    public static string Version1Context(NvmeTlsPskHash cipherHash, string digest) => $"{(byte)cipherHash:d2} {digest}";

    /// <summary>
    /// The generated PSK of secure channel concatenation (NVMe Base 2.1 "Generated PSK for TLS"; Linux
    /// <c>nvme_auth_generate_psk</c>): HMAC-hash(session key, C1 || C2), the challenges of the DH-HMAC-CHAP exchange.
    /// </summary>
    public static byte[] GeneratedPsk(NvmeTlsPskHash hash, ReadOnlySpan<byte> sessionKey, ReadOnlySpan<byte> c1, ReadOnlySpan<byte> c2)
    {
        var data = new byte[c1.Length + c2.Length];
        c1.CopyTo(data);
        c2.CopyTo(data.AsSpan(c1.Length));
        var psk = hash switch
        {
            NvmeTlsPskHash.Sha256 => HMACSHA256.HashData(sessionKey, data),
            NvmeTlsPskHash.Sha384 => HMACSHA384.HashData(sessionKey, data),
            _ => throw new ArgumentOutOfRangeException(nameof(hash), hash, "The hash must be SHA-256 (01) or SHA-384 (02)."),
        };
        CryptographicOperations.ZeroMemory(data);
        return psk;
    }

    /// <summary>
    /// The TLS cipher suite hash of a DH-HMAC-CHAP hash for secure channel concatenation: SHA-256 and SHA-384 map to
    /// themselves (same identifiers); SHA-512 has no TLS 1.3 suite and no PSK digest length, so Linux fails it
    /// (<c>nvme_auth_generate_digest</c>: -EINVAL) and so does this (false).
    /// </summary>
    public static bool TryGetConcatenationHash(DhchapHashFunction hash, out NvmeTlsPskHash cipherHash)
    {
        cipherHash = hash switch
        {
            DhchapHashFunction.Sha256 => NvmeTlsPskHash.Sha256,
            DhchapHashFunction.Sha384 => NvmeTlsPskHash.Sha384,
            _ => NvmeTlsPskHash.None,
        };
        return cipherHash != NvmeTlsPskHash.None;
    }

    /// <summary>
    /// The TLS PSK of secure channel concatenation, in the steps of Linux's <c>nvme_auth_secure_concat</c> (host) and
    /// <c>nvmet_auth_insert_psk</c> (target): the generated PSK HMAC(session key, C1 || C2), its digest
    /// (<see cref="PskDigest"/>), the TLS PSK HKDF-Expand-Label(HKDF-Extract(0, generated PSK), "nvme-tls-psk",
    /// "hh digest") and the identity <c>NVMe1Ghh NQNh NQNc digest</c>. Every intermediate is zeroed.
    /// </summary>
    /// <param name="hash">The hash the DH-HMAC-CHAP exchange used (SHA-256 or SHA-384).</param>
    /// <param name="sessionKey">The DH shared value of the exchange (not its hash); empty with the NULL group, which is refused.</param>
    /// <param name="c1">C1, the controller's challenge.</param>
    /// <param name="c2">C2, the host's challenge.</param>
    /// <param name="hostNqn">NQNh.</param>
    /// <param name="subsystemNqn">NQNc.</param>
    /// <exception cref="ArgumentException">No session key (NULL DH group), challenges not of the hash's length, or SHA-512.</exception>
    public static NvmeTlsPsk GeneratedTlsPsk(DhchapHashFunction hash, ReadOnlySpan<byte> sessionKey, ReadOnlySpan<byte> c1, ReadOnlySpan<byte> c2, string hostNqn, string subsystemNqn)
    {
        ArgumentNullException.ThrowIfNull(hostNqn);
        ArgumentNullException.ThrowIfNull(subsystemNqn);
        if (!TryGetConcatenationHash(hash, out var cipher))
        {
            throw new ArgumentException("Secure channel concatenation needs SHA-256 or SHA-384 (TLS 1.3 has no SHA-512 suite).", nameof(hash));
        }

        if (sessionKey.IsEmpty)
        {
            throw new ArgumentException("Secure channel concatenation needs a DH session key (a DH group other than NULL).", nameof(sessionKey));
        }

        var length = HashLength(cipher);
        if (c1.Length != length || c2.Length != length)
        {
            throw new ArgumentException("C1 and C2 are as long as the hash.", nameof(c1));
        }

        var psk = GeneratedPsk(cipher, sessionKey, c1, c2);
        byte[]? tlsPsk = null;
        try
        {
            var digest = PskDigest(cipher, psk, hostNqn, subsystemNqn);
            tlsPsk = TlsPsk(cipher, psk, Version1Context(cipher, digest));
            return new NvmeTlsPsk(Identity(1, cipher, hostNqn, subsystemNqn, digest, generated: true), cipher, tlsPsk);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(psk);
            if (tlsPsk is not null)
            {
                CryptographicOperations.ZeroMemory(tlsPsk);
            }
        }
    }

    /// <summary>RFC 8446 section 7.1's HKDF-Expand-Label after HKDF-Extract with a zero salt (RFC 5869: HashLen zeros).</summary>
    public static byte[] ExtractAndExpandLabel(NvmeTlsPskHash hash, ReadOnlySpan<byte> ikm, string label, ReadOnlySpan<byte> context, int length)
    {
        ArgumentNullException.ThrowIfNull(label);
        var name = hash switch
        {
            NvmeTlsPskHash.Sha256 => HashAlgorithmName.SHA256,
            NvmeTlsPskHash.Sha384 => HashAlgorithmName.SHA384,
            _ => throw new ArgumentOutOfRangeException(nameof(hash), hash, "The hash must be SHA-256 (01) or SHA-384 (02)."),
        };
        var fullLabel = Encoding.ASCII.GetBytes("tls13 " + label);
        if (fullLabel.Length > 255 || context.Length > 255)
        {
            // HkdfLabel's label<7..255> and context<0..255>: Linux refuses longer ones (WARN_ON), so do we.
            throw new ArgumentException("The HKDF label and context are at most 255 bytes each (for example host NQN plus subsystem NQN in a version-0 identity).", nameof(context));
        }

        if (length is <= 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }

        var info = new byte[2 + 1 + fullLabel.Length + 1 + context.Length];
        info[0] = (byte)(length >> 8);
        info[1] = (byte)length;
        info[2] = (byte)fullLabel.Length;
        fullLabel.CopyTo(info, 3);
        info[3 + fullLabel.Length] = (byte)context.Length;
        context.CopyTo(info.AsSpan(4 + fullLabel.Length));

        Span<byte> prk = stackalloc byte[48];
        prk = prk[..HKDF.Extract(name, ikm, ReadOnlySpan<byte>.Empty, prk)];
        var okm = new byte[length];
        HKDF.Expand(name, prk, okm, info);
        CryptographicOperations.ZeroMemory(prk);
        return okm;
    }
}
