using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace NvmeTcp.Protocol.Tls;

/// <summary>
/// A configured TLS PSK in the NVMe/TCP PSK interchange form nvme-cli and Linux use:
/// <c>NVMeTLSkey-1:hh:base64(key || CRC-32 of the key, little-endian):</c>, where <c>hh</c> is 00 (the key is the
/// retained PSK), 01 (retained PSK derived with SHA-256) or 02 (SHA-384), and the key is 32 or 48 bytes (01 needs 32,
/// 02 needs 48; libnvme <c>nvme_import_tls_key_versioned</c>).
/// </summary>
/// <remarks>
/// The value never leaves this object by accident: <see cref="ToString"/> shows only the hash and the length, parse
/// errors never quote the text, and the key is reachable only through <see cref="ToInterchangeString"/> and the
/// derivations.
/// </remarks>
public sealed class NvmeTlsKey
{
    private const string Prefix = "NVMeTLSkey-1:";
    private readonly byte[] _key;

    private NvmeTlsKey(byte[] key, NvmeTlsPskHash hash)
    {
        _key = key;
        Hash = hash;
    }

    /// <summary><c>hh</c>: how the retained PSK is derived from this key.</summary>
    public NvmeTlsPskHash Hash { get; }

    /// <summary>The key's length in bytes (32 or 48).</summary>
    public int Length => _key.Length;

    /// <summary>The hash of the cipher suite the key is used with (<see cref="NvmeTlsKeyDerivation.CipherHash"/>).</summary>
    public NvmeTlsPskHash CipherHash => NvmeTlsKeyDerivation.CipherHash(Hash, _key.Length);

    /// <summary>The key bytes, for this assembly's own conversions.</summary>
    internal ReadOnlySpan<byte> KeyBytes => _key;

    /// <summary>The CRC-32 of the key, as the interchange form carries it.</summary>
    public uint Crc => Crc32.HashToUInt32(_key);

    /// <summary>Creates a key from raw bytes.</summary>
    /// <exception cref="ArgumentException">The key is not 32 or 48 bytes, or does not fit <paramref name="hash"/>.</exception>
    public static NvmeTlsKey Create(ReadOnlySpan<byte> key, NvmeTlsPskHash hash)
    {
        var error = Check(key.Length, hash);
        return error is null ? new NvmeTlsKey(key.ToArray(), hash) : throw new ArgumentException(error, nameof(key));
    }

    /// <summary>A new random key for <paramref name="hash"/> (01: 32 bytes, 02: 48), as <c>nvme gen-tls-key</c> makes.</summary>
    public static NvmeTlsKey Generate(NvmeTlsPskHash hash) =>
        Create(RandomNumberGenerator.GetBytes(NvmeTlsKeyDerivation.HashLength(hash)), hash);

    /// <summary>Parses the interchange form; the message of the <see cref="FormatException"/> never quotes the text.</summary>
    /// <exception cref="FormatException">Not a valid NVMeTLSkey-1 key.</exception>
    public static NvmeTlsKey Parse(string text) =>
        TryParse(text, out var key, out var error) ? key : throw new FormatException(error);

    /// <summary>Parses the interchange form; <paramref name="error"/> says what is wrong without quoting the text.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out NvmeTlsKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal) || text.Length < Prefix.Length + 4 || text[Prefix.Length + 2] != ':')
        {
            error = "A TLS PSK has the form NVMeTLSkey-1:hh:<base64>: .";
            return false;
        }

        if (!byte.TryParse(text.AsSpan(Prefix.Length, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hash) || hash > 2)
        {
            error = "The TLS PSK's hash (hh) must be 00, 01 or 02.";
            return false;
        }

        // libnvme requires the trailing colon (it checks the total length, 65 or 89 characters).
        var body = text.AsSpan(Prefix.Length + 3);
        if (!body.EndsWith(":"))
        {
            error = "A TLS PSK ends with a colon.";
            return false;
        }

        var outcome = KeyInterchange.TryDecode(body[..^1], 72, static length => length is 32 or 48, out var raw, out var keyLength);
        error = outcome switch
        {
            KeyInterchange.Outcome.NotBase64 => "The TLS PSK is not valid base64 of a 32 or 48-byte key and its CRC-32.",
            KeyInterchange.Outcome.BadLength => $"The TLS PSK is {Math.Max(0, keyLength)} bytes; it must be 32 or 48.",
            KeyInterchange.Outcome.BadCrc => "The TLS PSK's CRC-32 does not match its key.",
            _ => Check(keyLength, (NvmeTlsPskHash)hash),
        };
        if (error is not null)
        {
            if (raw is not null)
            {
                CryptographicOperations.ZeroMemory(raw);
            }

            return false;
        }

        key = new NvmeTlsKey(raw!, (NvmeTlsPskHash)hash);
        return true;
    }

    /// <summary>The interchange form, <c>NVMeTLSkey-1:hh:base64:</c>, as <c>nvme gen-tls-key</c> prints it. It reveals the key.</summary>
    public string ToInterchangeString() => KeyInterchange.Format(Prefix, (byte)Hash, _key);

    /// <summary>The retained PSK for <paramref name="hostNqn"/> (<see cref="NvmeTlsKeyDerivation.RetainedPsk"/>). It reveals key material.</summary>
    public byte[] DeriveRetainedPsk(string hostNqn) => NvmeTlsKeyDerivation.RetainedPsk(Hash, _key, hostNqn);

    /// <summary>
    /// The TLS PSK and its identity for a host and subsystem, as libnvme's <c>nvme_generate_tls_key_identity</c> and
    /// <c>nvme check-tls-key --insert</c> derive them (what lands in the kernel's <c>.nvme</c> keyring).
    /// </summary>
    /// <param name="hostNqn">The host's NQN.</param>
    /// <param name="subsystemNqn">The subsystem's NQN.</param>
    /// <param name="identityVersion">0 (<c>NVMe0Rhh host subsys</c>) or 1 (with the PSK digest).</param>
    public NvmeTlsPsk DeriveTlsPsk(string hostNqn, string subsystemNqn, int identityVersion)
    {
        ArgumentNullException.ThrowIfNull(hostNqn);
        ArgumentNullException.ThrowIfNull(subsystemNqn);
        if (identityVersion is not (0 or 1))
        {
            throw new ArgumentOutOfRangeException(nameof(identityVersion), identityVersion, "Identity version 0 or 1.");
        }

        var cipher = CipherHash;
        var retained = DeriveRetainedPsk(hostNqn);
        try
        {
            string identity;
            string context;
            if (identityVersion == 0)
            {
                identity = NvmeTlsKeyDerivation.Identity(0, cipher, hostNqn, subsystemNqn, null);
                context = identity;
            }
            else
            {
                var digest = NvmeTlsKeyDerivation.PskDigest(cipher, retained, hostNqn, subsystemNqn);
                identity = NvmeTlsKeyDerivation.Identity(1, cipher, hostNqn, subsystemNqn, digest);
                context = NvmeTlsKeyDerivation.Version1Context(cipher, digest);
            }

            return new NvmeTlsPsk(identity, cipher, NvmeTlsKeyDerivation.TlsPsk(cipher, retained, context));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(retained);
        }
    }

    /// <summary>Shows the hash and the length, never the key.</summary>
    public override string ToString() => $"NVMeTLSkey-1:{(byte)Hash:x2}:<{_key.Length}-byte key>";

    private static string? Check(int length, NvmeTlsPskHash hash) => (hash, length) switch
    {
        (NvmeTlsPskHash.None, 32 or 48) or (NvmeTlsPskHash.Sha256, 32) or (NvmeTlsPskHash.Sha384, 48) => null,
        (NvmeTlsPskHash.None or NvmeTlsPskHash.Sha256 or NvmeTlsPskHash.Sha384, _) =>
            "A TLS PSK is 32 (hh 00 or 01) or 48 (hh 00 or 02) bytes.",
        _ => "The TLS PSK's hash (hh) must be 00, 01 or 02.",
    };
}
