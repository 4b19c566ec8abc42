using System.Buffers.Binary;
using System.IO.Hashing;

namespace NvmeTcp.Protocol;

/// <summary>
/// CRC-32C (Castagnoli), the NVMe/TCP header and data digest (NVMe/TCP 3.6.4), from System.IO.Hashing.
/// Stored little-endian on the wire. The header digest covers the HLEN header bytes; the data digest covers
/// the data only, never the padding before it.
/// </summary>
/// <remarks>
/// One instance accumulates a digest over data that arrives in pieces (a socket read at a time); keep one per
/// connection and <see cref="Reset"/> it per PDU, so the hot path allocates nothing.
/// </remarks>
public sealed class Crc32C
{
    /// <summary>Size of a digest on the wire.</summary>
    public const int Size = 4;

    private readonly Crc32 _crc = new(Crc32ParameterSet.Crc32C);

    /// <summary>Computes the digest of one contiguous span.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);

    /// <summary>Starts a new digest.</summary>
    public void Reset() => _crc.Reset();

    /// <summary>Adds the next piece of data.</summary>
    public void Append(ReadOnlySpan<byte> data) => _crc.Append(data);

    /// <summary>The digest of everything appended since the last <see cref="Reset"/>.</summary>
    public uint Value => _crc.GetCurrentHashAsUInt32();

    /// <summary>Writes a digest in wire order.</summary>
    public static void Write(Span<byte> destination, uint digest) => BinaryPrimitives.WriteUInt32LittleEndian(destination, digest);

    /// <summary>Reads a digest in wire order.</summary>
    public static uint Read(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt32LittleEndian(source);
}
