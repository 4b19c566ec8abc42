using System.Buffers.Binary;
using NvmeTcp.Protocol;

namespace NvmeTcp.Protocol.Nvm;

/// <summary>
/// Dataset Management, I/O opcode 0x09 (NVM Command Set 1.0 "Dataset Management command"), e.g. deallocate (trim) LBA ranges.
/// <code>
/// byte 4-7    NSID
/// byte 24-39  SGL1   the range list, 16 bytes per range, host to controller
/// CDW10       bits 0-7 NR: number of ranges, 0's based (1 to 256 ranges)
/// CDW11       bit 0 IDR, bit 1 IDW, bit 2 AD (attribute: deallocate)
/// </code>
/// Each range (Linux <c>struct nvme_dsm_range</c>):
/// <code>
/// byte 0-3    context attributes
/// byte 4-7    NLB   length in blocks, 1's based
/// byte 8-15   SLBA  starting LBA
/// </code>
/// </summary>
public static class DatasetManagementCommand
{
    /// <summary>Size of one range.</summary>
    public const int RangeSize = 16;

    /// <summary>Most ranges one command carries.</summary>
    public const int MaxRanges = 256;

    /// <summary>Dataset Management over <paramref name="rangeCount"/> ranges.</summary>
    /// <param name="nsid">NSID.</param>
    /// <param name="rangeCount">Ranges in the list, 1 to 256; the data length is 16 bytes each.</param>
    /// <param name="attributes">CDW11, e.g. <see cref="DatasetAttributes.Deallocate"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rangeCount"/> outside 1..256.</exception>
    public static Sqe Create(uint nsid, int rangeCount, DatasetAttributes attributes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rangeCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rangeCount, MaxRanges);

        var sqe = Sqe.Create((byte)NvmOpcode.DatasetManagement, nsid);
        DataPointer.SetTransport(ref sqe, (uint)(rangeCount * RangeSize));
        sqe.Cdw10 = (uint)(rangeCount - 1);
        sqe.Cdw11 = (uint)attributes;
        return sqe;
    }

    /// <summary>Writes range <paramref name="index"/> of a range list into <paramref name="destination"/>.</summary>
    /// <param name="destination">The range list; range <paramref name="index"/> goes at byte 16 * index.</param>
    /// <param name="index">0 to 255.</param>
    /// <param name="startLba">SLBA.</param>
    /// <param name="blockCount">NLB, the length in blocks (1's based, unlike Read/Write).</param>
    /// <param name="contextAttributes">Context attributes (access hints); 0 for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> outside 0..255.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has no room for the range.</exception>
    public static void WriteRange(Span<byte> destination, int index, ulong startLba, uint blockCount, uint contextAttributes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxRanges);
        var offset = index * RangeSize;
        if (destination.Length < offset + RangeSize)
        {
            throw new ArgumentException($"Range {index} needs {offset + RangeSize} bytes.", nameof(destination));
        }

        var range = destination.Slice(offset, RangeSize);
        BinaryPrimitives.WriteUInt32LittleEndian(range, contextAttributes);
        BinaryPrimitives.WriteUInt32LittleEndian(range[4..], blockCount);
        BinaryPrimitives.WriteUInt64LittleEndian(range[8..], startLba);
    }
}

/// <summary>CDW11 of Dataset Management: attributes that apply to every range.</summary>
[Flags]
public enum DatasetAttributes : uint
{
    /// <summary>No attributes.</summary>
    None = 0,

    /// <summary>Bit 0, IDR: integral dataset for read.</summary>
    IntegralDatasetForRead = 1 << 0,

    /// <summary>Bit 1, IDW: integral dataset for write.</summary>
    IntegralDatasetForWrite = 1 << 1,

    /// <summary>Bit 2, AD: deallocate the ranges.</summary>
    Deallocate = 1 << 2,
}
