using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace NvmeTcp.Protocol;

/// <summary>
/// The body both NVMe key interchange forms share (DH-HMAC-CHAP <c>DHHC-1:hh:...:</c> and TLS <c>NVMeTLSkey-1:hh:...:</c>):
/// base64 of the key followed by its CRC-32, little-endian. Each form keeps its own prefix rules and messages.
/// </summary>
internal static class KeyInterchange
{
    public enum Outcome
    {
        Ok,
        NotBase64,
        BadLength,
        BadCrc,
    }

    /// <summary>
    /// Decodes <paramref name="body"/> (at most <paramref name="maxChars"/> characters) into a key whose length
    /// <paramref name="lengthAllowed"/> accepts and whose CRC-32 matches. The scratch bytes are cleared either way.
    /// </summary>
    public static Outcome TryDecode(ReadOnlySpan<char> body, int maxChars, Func<int, bool> lengthAllowed, out byte[]? key, out int keyLength)
    {
        key = null;
        keyLength = 0;
        Span<byte> decoded = stackalloc byte[maxChars / 4 * 3];
        try
        {
            if (body.Length > maxChars || !Convert.TryFromBase64Chars(body, decoded, out var written))
            {
                return Outcome.NotBase64;
            }

            keyLength = written - 4;
            if (!lengthAllowed(keyLength))
            {
                return Outcome.BadLength;
            }

            var raw = decoded[..keyLength];
            if (BinaryPrimitives.ReadUInt32LittleEndian(decoded[keyLength..]) != Crc32.HashToUInt32(raw))
            {
                return Outcome.BadCrc;
            }

            key = raw.ToArray();
            return Outcome.Ok;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(decoded);
        }
    }

    /// <summary><paramref name="prefix"/>, the hash as two lowercase hex digits, a colon, base64(key + CRC-32), a colon.</summary>
    public static string Format(string prefix, byte hash, ReadOnlySpan<byte> key)
    {
        Span<byte> buffer = stackalloc byte[key.Length + 4];
        key.CopyTo(buffer);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[key.Length..], Crc32.HashToUInt32(key));
        var text = $"{prefix}{hash:x2}:{Convert.ToBase64String(buffer)}:";
        CryptographicOperations.ZeroMemory(buffer);
        return text;
    }
}
