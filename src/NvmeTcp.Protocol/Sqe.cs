using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace NvmeTcp.Protocol;

/// <summary>
/// A 64-byte Submission Queue Entry (NVMe Base 2.0, 4.1; fabrics: NVMe-oF 1.1, 3.3.1).
/// <code>
/// byte 0      OPC    opcode
/// byte 1      FUSE bits 0-1, PSDT bits 6-7 (01b over fabrics: SGLs)
/// byte 2-3    CID    command identifier
/// byte 4-7    NSID   (fabrics commands: byte 4 is FCTYPE)
/// byte 16-23  MPTR
/// byte 24-39  SGL1   data pointer: one SGL descriptor
/// byte 40-63  CDW10..CDW15
/// </code>
/// </summary>
[InlineArray(Size)]
public struct Sqe
{
    /// <summary>Size of an SQE.</summary>
    public const int Size = 64;

    /// <summary>PSDT 01b in byte 1: the data pointer is an SGL, as every fabrics command's is.</summary>
    public const byte PsdtSgl = 0x40;

    private byte _element0;

    /// <summary>
    /// A zeroed SQE with the opcode, PSDT 01b (SGL) and NSID set. The CID stays 0: the transport assigns it
    /// when the command goes out.
    /// </summary>
    public static Sqe Create(byte opcode, uint nsid = 0)
    {
        var sqe = default(Sqe);
        sqe.Opcode = opcode;
        sqe.Flags = PsdtSgl;
        sqe.Nsid = nsid;
        return sqe;
    }

    /// <summary>OPC.</summary>
    public byte Opcode
    {
        readonly get => this[0];
        set => this[0] = value;
    }

    /// <summary>Byte 1: FUSE and PSDT.</summary>
    public byte Flags
    {
        readonly get => this[1];
        set => this[1] = value;
    }

    /// <summary>CID.</summary>
    public ushort Cid
    {
        readonly get => ReadUInt16(2);
        set => WriteUInt16(2, value);
    }

    /// <summary>NSID.</summary>
    public uint Nsid
    {
        readonly get => ReadUInt32(4);
        set => WriteUInt32(4, value);
    }

    /// <summary>FCTYPE of a fabrics command (opcode 0x7F), byte 4.</summary>
    public byte FabricsCommandType
    {
        readonly get => this[4];
        set => this[4] = value;
    }

    /// <summary>SGL1 address (bytes 24-31).</summary>
    public ulong SglAddress
    {
        readonly get => ReadUInt64(24);
        set => WriteUInt64(24, value);
    }

    /// <summary>SGL1 length (bytes 32-35).</summary>
    public uint SglLength
    {
        readonly get => ReadUInt32(32);
        set => WriteUInt32(32, value);
    }

    /// <summary>SGL1 descriptor type and subtype (byte 39).</summary>
    public byte SglType
    {
        readonly get => this[39];
        set => this[39] = value;
    }

    /// <summary>Command dword 10.</summary>
    public uint Cdw10
    {
        readonly get => ReadUInt32(40);
        set => WriteUInt32(40, value);
    }

    /// <summary>Command dword 11.</summary>
    public uint Cdw11
    {
        readonly get => ReadUInt32(44);
        set => WriteUInt32(44, value);
    }

    /// <summary>Command dword 12.</summary>
    public uint Cdw12
    {
        readonly get => ReadUInt32(48);
        set => WriteUInt32(48, value);
    }

    /// <summary>Command dword 13.</summary>
    public uint Cdw13
    {
        readonly get => ReadUInt32(52);
        set => WriteUInt32(52, value);
    }

    /// <summary>Command dword 14.</summary>
    public uint Cdw14
    {
        readonly get => ReadUInt32(56);
        set => WriteUInt32(56, value);
    }

    /// <summary>Command dword 15.</summary>
    public uint Cdw15
    {
        readonly get => ReadUInt32(60);
        set => WriteUInt32(60, value);
    }

    /// <summary>Reads an SQE from 64 bytes.</summary>
    public static Sqe Read(ReadOnlySpan<byte> source)
    {
        var sqe = default(Sqe);
        source[..Size].CopyTo(sqe);
        return sqe;
    }

    /// <summary>Writes the SQE into 64 bytes.</summary>
    public readonly void Write(Span<byte> destination) => ((ReadOnlySpan<byte>)this).CopyTo(destination);

    /// <summary>Reads a little-endian 16-bit field at a byte offset.</summary>
    public readonly ushort ReadUInt16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(((ReadOnlySpan<byte>)this).Slice(offset, 2));

    /// <summary>Reads a little-endian 32-bit field at a byte offset.</summary>
    public readonly uint ReadUInt32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(((ReadOnlySpan<byte>)this).Slice(offset, 4));

    /// <summary>Reads a little-endian 64-bit field at a byte offset.</summary>
    public readonly ulong ReadUInt64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(((ReadOnlySpan<byte>)this).Slice(offset, 8));

    /// <summary>Writes a little-endian 16-bit field at a byte offset.</summary>
    public void WriteUInt16(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(((Span<byte>)this).Slice(offset, 2), value);

    /// <summary>Writes a little-endian 32-bit field at a byte offset.</summary>
    public void WriteUInt32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(((Span<byte>)this).Slice(offset, 4), value);

    /// <summary>Writes a little-endian 64-bit field at a byte offset.</summary>
    public void WriteUInt64(int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(((Span<byte>)this).Slice(offset, 8), value);
}
