using System.Buffers.Binary;

namespace NvmeTcp.Protocol;

/// <summary>
/// A 16-byte Completion Queue Entry (NVMe Base 2.0, 4.2).
/// <code>
/// byte 0-3    DW0    command specific
/// byte 4-7    DW1    command specific
/// byte 8-9    SQHD   submission queue head pointer (0xFFFF with SQ flow control disabled)
/// byte 10-11  SQID   (reserved for fabrics commands)
/// byte 12-13  CID
/// byte 14-15  STATUS bit 0 phase (reserved over fabrics), bits 1-15 the status field
/// </code>
/// </summary>
public readonly record struct Cqe(uint Dw0, uint Dw1, ushort Sqhd, ushort Sqid, ushort Cid, NvmeStatus Status)
{
    /// <summary>Size of a CQE.</summary>
    public const int Size = 16;

    /// <summary>DW0 and DW1 as one 64-bit value (Property Get of an 8-byte property).</summary>
    public ulong Value64 => Dw0 | ((ulong)Dw1 << 32);

    /// <summary>Reads a CQE from 16 bytes.</summary>
    public static Cqe Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[10..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[12..]),
        NvmeStatus.FromStatusField(BinaryPrimitives.ReadUInt16LittleEndian(source[14..])));

    /// <summary>Writes the CQE into 16 bytes (the phase bit clear, as over fabrics).</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Dw0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Dw1);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], Sqhd);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], Sqid);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[12..], Cid);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[14..], Status.StatusField);
    }
}
