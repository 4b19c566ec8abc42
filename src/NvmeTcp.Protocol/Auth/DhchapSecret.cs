using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace NvmeTcp.Protocol.Auth;

/// <summary>
/// A DH-HMAC-CHAP secret in the NVMe interchange form nvme-cli and Linux use (NVMe Base 2.0 "DH-HMAC-CHAP secret
/// representation"): <c>DHHC-1:hh:base64(key || CRC-32 of the key, little-endian):</c>, where <c>hh</c> is 00
/// (the key is used as it is) or 01/02/03 (the key is first transformed with HMAC-SHA-256/384/512, see
/// <see cref="Transform"/>), and the key is 32, 48 or 64 bytes.
/// </summary>
/// <remarks>
/// The value never leaves this object by accident: <see cref="ToString"/> shows only the hash and the length, parse
/// errors never quote the text, and the key is reachable only through <see cref="ToInterchangeString"/> and the
/// computations that need it.
/// </remarks>
public sealed class DhchapSecret
{
    private const string Prefix = "DHHC-1:";
    private const string TransformSuffix = "NVMe-over-Fabrics";
    private readonly byte[] _key;

    private DhchapSecret(byte[] key, byte transformHash)
    {
        _key = key;
        TransformHash = transformHash;
    }

    /// <summary><c>hh</c>: 0 for no transformation, else the <see cref="DhchapHashFunction"/> of the transformation.</summary>
    public byte TransformHash { get; }

    /// <summary>The key's length in bytes (32, 48 or 64).</summary>
    public int Length => _key.Length;

    /// <summary>Creates a secret from raw key bytes.</summary>
    /// <exception cref="ArgumentException">The key is not 32, 48 or 64 bytes, or <paramref name="transformHash"/> is above 3, or does not match the key's length.</exception>
    public static DhchapSecret Create(ReadOnlySpan<byte> key, byte transformHash)
    {
        var error = Check(key.Length, transformHash);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(key));
        }

        return new DhchapSecret(key.ToArray(), transformHash);
    }

    /// <summary>A new random secret of <paramref name="length"/> bytes.</summary>
    public static DhchapSecret Generate(int length, byte transformHash)
    {
        var key = RandomNumberGenerator.GetBytes(length is 32 or 48 or 64 ? length : throw new ArgumentOutOfRangeException(nameof(length), "32, 48 or 64"));
        return Create(key, transformHash);
    }

    /// <summary>Parses the interchange form; the message of the <see cref="FormatException"/> never quotes the text.</summary>
    /// <exception cref="FormatException">Not a valid DHHC-1 secret.</exception>
    public static DhchapSecret Parse(string text) =>
        TryParse(text, out var secret, out var error) ? secret : throw new FormatException(error);

    /// <summary>Parses the interchange form; <paramref name="error"/> says what is wrong without quoting the text.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out DhchapSecret? secret, [NotNullWhen(false)] out string? error)
    {
        secret = null;
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal) || text.Length < Prefix.Length + 4 || text[Prefix.Length + 2] != ':')
        {
            error = "A DH-HMAC-CHAP secret has the form DHHC-1:hh:<base64>: .";
            return false;
        }

        if (!byte.TryParse(text.AsSpan(Prefix.Length, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hash) || hash > 3)
        {
            error = "The secret's transformation hash (hh) must be 00, 01, 02 or 03.";
            return false;
        }

        var body = text.AsSpan(Prefix.Length + 3);
        if (body.EndsWith(":"))
        {
            body = body[..^1];
        }

        // 68 bytes of key and CRC take 92 base64 characters: anything longer is refused before decoding.
        var outcome = KeyInterchange.TryDecode(body, 96, static length => length is 32 or 48 or 64, out var key, out var keyLength);
        error = outcome switch
        {
            KeyInterchange.Outcome.NotBase64 => "The secret's key is not valid base64 of a 32, 48 or 64-byte key and its CRC-32.",
            KeyInterchange.Outcome.BadLength => $"The secret's key is {Math.Max(0, keyLength)} bytes; it must be 32, 48 or 64.",
            KeyInterchange.Outcome.BadCrc => "The secret's CRC-32 does not match its key.",
            _ => Check(keyLength, hash),
        };
        if (error is not null)
        {
            if (key is not null)
            {
                CryptographicOperations.ZeroMemory(key);
            }

            return false;
        }

        secret = new DhchapSecret(key!, hash);
        return true;
    }

    /// <summary>The interchange form, <c>DHHC-1:hh:base64:</c>, as <c>nvme gen-dhchap-key</c> prints it. It reveals the key.</summary>
    public string ToInterchangeString() => KeyInterchange.Format(Prefix, TransformHash, _key);

    /// <summary>The CRC-32 of the key (what <c>nvme check-dhchap-key</c> prints).</summary>
    public uint Crc => Crc32.HashToUInt32(_key);

    /// <summary>
    /// The key a party uses for its HMAC responses (NVMe Base 2.0 "DH-HMAC-CHAP secret representation"; Linux
    /// <c>nvme_auth_transform_key</c>): with hh 00 the key itself; otherwise HMAC-hh(key, NQN || "NVMe-over-Fabrics"),
    /// with the host's NQN for the host's secret and the subsystem's NQN for the controller's.
    /// </summary>
    public byte[] Transform(string nqn)
    {
        ArgumentNullException.ThrowIfNull(nqn);
        if (TransformHash == 0)
        {
            return (byte[])_key.Clone();
        }

        var data = Encoding.UTF8.GetBytes(nqn + TransformSuffix);
        return DhchapCrypto.Hmac((DhchapHashFunction)TransformHash, _key, data);
    }

    /// <summary>Shows the transformation hash and the length, never the key.</summary>
    public override string ToString() => $"DHHC-1:{TransformHash:x2}:<{_key.Length}-byte secret>";

    // nvme-cli pairs hh 01/02/03 with 32/48/64-byte keys and refuses other pairs; Linux would read past a short key.
    private static string? Check(int length, byte hash)
    {
        if (length is not (32 or 48 or 64))
        {
            return "A DH-HMAC-CHAP key is 32, 48 or 64 bytes.";
        }

        if (hash > 3)
        {
            return "The transformation hash (hh) must be 0 to 3.";
        }

        if (hash != 0 && DhchapIdentifiers.HashLength((DhchapHashFunction)hash) != length)
        {
            return $"A key transformed with {DhchapIdentifiers.Name((DhchapHashFunction)hash)} must be {DhchapIdentifiers.HashLength((DhchapHashFunction)hash)} bytes.";
        }

        return null;
    }
}
