using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;

namespace NvmeTcp.Protocol.Admin;

/// <summary>
/// Helpers shared by the parsers of Identify data and log pages. All multi-byte fields of those
/// structures are little-endian (NVMe Base 2.0, 1.5 "Conventions").
/// </summary>
public static class AdminData
{
    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="data"/> is shorter than <paramref name="required"/>.</summary>
    public static void EnsureLength(
        ReadOnlySpan<byte> data,
        int required,
        string structure,
        [CallerArgumentExpression(nameof(data))] string? paramName = null)
    {
        if (data.Length < required)
        {
            ThrowTooShort(data.Length, required, structure, paramName);
        }
    }

    /// <summary>
    /// Reads a fixed-size text field. Identify strings (SN, MN, FR) are ASCII padded with spaces;
    /// fabrics strings (TRADDR, TRSVCID) are ASCII ended by a NUL or padded with spaces. Both end
    /// at the first NUL and lose their trailing spaces. Bytes above 0x7F become '?', never an error.
    /// </summary>
    public static string ReadAscii(ReadOnlySpan<byte> field) => Encoding.ASCII.GetString(UntilNul(field)).TrimEnd(' ');

    /// <summary>
    /// Reads an NQN field. NQNs are UTF-8 and NUL-terminated (NVMe Base 2.0, 4.5); an invalid
    /// sequence becomes U+FFFD, never an error.
    /// </summary>
    public static string ReadNqn(ReadOnlySpan<byte> field) => Encoding.UTF8.GetString(UntilNul(field)).TrimEnd(' ');

    /// <summary>Reads a 128-bit little-endian counter (SMART log, NVMCAP, TNVMCAP).</summary>
    public static UInt128 ReadUInt128(ReadOnlySpan<byte> data) => BinaryPrimitives.ReadUInt128LittleEndian(data);

    /// <summary>Copies a field, so the parsed value does not hold on to the caller's buffer.</summary>
    public static ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> field) => field.ToArray();

    private static ReadOnlySpan<byte> UntilNul(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return nul < 0 ? field : field[..nul];
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooShort(int length, int required, string structure, string? paramName) =>
        throw new ArgumentException($"{structure} needs {required} bytes; got {length}.", paramName);
}
