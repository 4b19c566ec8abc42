using NvmeTcp.Protocol;

namespace NvmeTcp.Protocol.Nvm;

/// <summary>
/// Block I/O commands of the NVM command set (NVM Command Set 1.0 "Read command", "Write command", "Compare
/// command", "Write Zeroes command"; Flush in NVMe Base 2.0 "Flush command").
/// <code>
/// byte 4-7    NSID
/// byte 24-39  SGL1   the data: C2HData for Read, in-capsule or R2T/H2CData for Write and Compare, none otherwise
/// CDW10-11    SLBA   starting LBA (64 bits)
/// CDW12       bits 0-15 NLB (0's based block count), bit 25 DEAC (Write Zeroes), bit 30 FUA, bit 31 LR
/// </code>
/// Flush has only the NSID. NLB is 16 bits, so one command moves 1 to 65536 blocks; the controller's MDTS may
/// allow fewer.
/// </summary>
public static class ReadWriteCommands
{
    /// <summary>Most blocks one command can name (NLB 0xFFFF, 0's based).</summary>
    public const int MaxBlocks = 65536;

    /// <summary>CDW12 bit 30, FUA: force unit access.</summary>
    public const uint ForceUnitAccess = 1u << 30;

    /// <summary>CDW12 bit 25, DEAC: Write Zeroes may deallocate the blocks.</summary>
    public const uint Deallocate = 1u << 25;

    /// <summary>Read of <paramref name="blockCount"/> blocks from <paramref name="startLba"/> into <paramref name="dataLength"/> bytes.</summary>
    /// <param name="nsid">NSID.</param>
    /// <param name="startLba">SLBA.</param>
    /// <param name="blockCount">Blocks, 1 to 65536.</param>
    /// <param name="dataLength">Bytes that come back: blocks times the LBA data size (plus metadata if interleaved).</param>
    /// <param name="forceUnitAccess">FUA: read from non-volatile media.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="blockCount"/> outside 1..65536.</exception>
    public static Sqe Read(uint nsid, ulong startLba, int blockCount, uint dataLength, bool forceUnitAccess = false)
    {
        var sqe = Blocks(NvmOpcode.Read, nsid, startLba, blockCount, forceUnitAccess);
        DataPointer.SetTransport(ref sqe, dataLength);
        return sqe;
    }

    /// <summary>Write of <paramref name="blockCount"/> blocks at <paramref name="startLba"/> from <paramref name="dataLength"/> bytes.</summary>
    /// <param name="nsid">NSID.</param>
    /// <param name="startLba">SLBA.</param>
    /// <param name="blockCount">Blocks, 1 to 65536.</param>
    /// <param name="dataLength">Bytes sent.</param>
    /// <param name="forceUnitAccess">FUA: complete only once the data is on non-volatile media.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="blockCount"/> outside 1..65536.</exception>
    public static Sqe Write(uint nsid, ulong startLba, int blockCount, uint dataLength, bool forceUnitAccess = false)
    {
        var sqe = Blocks(NvmOpcode.Write, nsid, startLba, blockCount, forceUnitAccess);
        DataPointer.SetTransport(ref sqe, dataLength);
        return sqe;
    }

    /// <summary>Compare of <paramref name="blockCount"/> blocks at <paramref name="startLba"/> with <paramref name="dataLength"/> bytes sent.</summary>
    /// <remarks>A mismatch completes with Compare Failure (SCT 2, SC 0x85).</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="blockCount"/> outside 1..65536.</exception>
    public static Sqe Compare(uint nsid, ulong startLba, int blockCount, uint dataLength, bool forceUnitAccess = false)
    {
        var sqe = Blocks(NvmOpcode.Compare, nsid, startLba, blockCount, forceUnitAccess);
        DataPointer.SetTransport(ref sqe, dataLength);
        return sqe;
    }

    /// <summary>Write Zeroes of <paramref name="blockCount"/> blocks at <paramref name="startLba"/>; no data moves.</summary>
    /// <param name="nsid">NSID.</param>
    /// <param name="startLba">SLBA.</param>
    /// <param name="blockCount">Blocks, 1 to 65536.</param>
    /// <param name="deallocate">DEAC: the controller may deallocate the blocks instead of writing them.</param>
    /// <param name="forceUnitAccess">FUA.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="blockCount"/> outside 1..65536.</exception>
    public static Sqe WriteZeroes(uint nsid, ulong startLba, int blockCount, bool deallocate = false, bool forceUnitAccess = false)
    {
        var sqe = Blocks(NvmOpcode.WriteZeroes, nsid, startLba, blockCount, forceUnitAccess);
        DataPointer.SetTransport(ref sqe, 0);
        if (deallocate)
        {
            sqe.Cdw12 |= Deallocate;
        }

        return sqe;
    }

    /// <summary>Flush of the namespace's volatile write cache (0xFFFFFFFF: every namespace, if the controller allows it).</summary>
    public static Sqe Flush(uint nsid)
    {
        var sqe = Sqe.Create((byte)NvmOpcode.Flush, nsid);
        DataPointer.SetTransport(ref sqe, 0);
        return sqe;
    }

    private static Sqe Blocks(NvmOpcode opcode, uint nsid, ulong startLba, int blockCount, bool forceUnitAccess)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockCount, MaxBlocks);

        var sqe = Sqe.Create((byte)opcode, nsid);
        sqe.Cdw10 = (uint)startLba;
        sqe.Cdw11 = (uint)(startLba >> 32);

        // NLB is 0's based: 1 block is written as 0.
        sqe.Cdw12 = (uint)(blockCount - 1) | (forceUnitAccess ? ForceUnitAccess : 0);
        return sqe;
    }
}
