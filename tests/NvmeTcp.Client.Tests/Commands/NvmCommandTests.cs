using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Tests.Commands;

// Frame numbers refer to tests/NvmeTcp.Client.Tests/TestData/captures/linux-6.1-initiator.pcap, the copies arriving
// on port 4420 (namespace 1 has 512-byte blocks, namespace 2 4096-byte blocks). The capture has no Compare, Write
// Zeroes or Dataset Management; those goldens follow the field layout of Linux's include/linux/nvme.h.
public class NvmCommandTests
{
    [Theory]
    [InlineData(1u, 0x00UL, 8, (ushort)0x0001, "0240010001000000000000000000000000000000000000000000000000000000001000000000005a000000000000000007000000000000000000000000000000")] // frame 223
    [InlineData(1u, 0x08UL, 8, (ushort)0x0002, "0240020001000000000000000000000000000000000000000000000000000000001000000000005a080000000000000007000000000000000000000000000000")] // frame 247
    [InlineData(1u, 0x18UL, 8, (ushort)0x0003, "0240030001000000000000000000000000000000000000000000000000000000001000000000005a180000000000000007000000000000000000000000000000")] // frame 272
    [InlineData(2u, 0x00UL, 1, (ushort)0x0004, "0240040002000000000000000000000000000000000000000000000000000000001000000000005a000000000000000000000000000000000000000000000000")] // frame 298
    public void Read_matches_capture(uint nsid, ulong startLba, int blocks, ushort cid, string expected) =>
        SqeAssert.Equal(expected, ReadWriteCommands.Read(nsid, startLba, blocks, 4096), cid);

    [Fact]
    public void Read_with_fua() =>
        SqeAssert.Equal(
            "0240000001000000000000000000000000000000000000000000000000000000000200000000005a100000000000000000000040000000000000000000000000",
            ReadWriteCommands.Read(1, 0x10, 1, 512, forceUnitAccess: true));

    [Fact]
    public void Write_in_capsule_matches_capture_frame_362() =>
        SqeAssert.Equal(
            "01400600010000000000000000000000000000000000000000000000000000000010000000000001000000000000000007000000000000000000000000000000",
            ReadWriteCommands.Write(1, 0, 8, 4096).InCapsule(),
            0x0006);

    [Fact]
    public void Write_by_r2t_with_fua_a_64_bit_lba_and_the_most_blocks() =>
        SqeAssert.Equal(
            "0140000003000000000000000000000000000000000000000000000000000000000020000000005a8967452301000000ffff0040000000000000000000000000",
            ReadWriteCommands.Write(3, 0x1_2345_6789, ReadWriteCommands.MaxBlocks, 0x200000, forceUnitAccess: true));

    [Fact]
    public void Compare_in_capsule() =>
        SqeAssert.Equal(
            "05400000010000000000000000000000000000000000000000000000000000000010000000000001200000000000000007000000000000000000000000000000",
            ReadWriteCommands.Compare(1, 0x20, 8, 4096).InCapsule());

    [Fact]
    public void Flush_matches_capture_frame_371() =>
        SqeAssert.Equal(
            "0040070001000000000000000000000000000000000000000000000000000000000000000000005a000000000000000000000000000000000000000000000000",
            ReadWriteCommands.Flush(1),
            0x0007);

    [Fact]
    public void Write_zeroes_with_deallocate() =>
        SqeAssert.Equal(
            "0840000001000000000000000000000000000000000000000000000000000000000000000000005a00010000000000000f000002000000000000000000000000",
            ReadWriteCommands.WriteZeroes(1, 0x100, 16, deallocate: true));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65537)]
    public void Block_commands_reject_counts_nlb_cannot_hold(int blocks)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadWriteCommands.Read(1, 0, blocks, 512));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadWriteCommands.Write(1, 0, blocks, 512));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadWriteCommands.Compare(1, 0, blocks, 512));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadWriteCommands.WriteZeroes(1, 0, blocks));
    }

    [Fact]
    public void Dataset_management_deallocate_in_capsule() =>
        SqeAssert.Equal(
            "09400000010000000000000000000000000000000000000000000000000000003000000000000001020000000400000000000000000000000000000000000000",
            DatasetManagementCommand.Create(1, 3, DatasetAttributes.Deallocate).InCapsule());

    [Fact]
    public void Dataset_management_with_the_most_ranges_by_r2t() =>
        SqeAssert.Equal(
            "0940000001000000000000000000000000000000000000000000000000000000001000000000005aff0000000400000000000000000000000000000000000000",
            DatasetManagementCommand.Create(1, DatasetManagementCommand.MaxRanges, DatasetAttributes.Deallocate));

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    public void Dataset_management_rejects_range_counts_outside_1_to_256(int ranges) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetManagementCommand.Create(1, ranges, DatasetAttributes.Deallocate).InCapsule());

    [Fact]
    public void Dataset_management_ranges_are_attributes_nlb_then_slba()
    {
        var list = new byte[32];
        DatasetManagementCommand.WriteRange(list, 0, startLba: 0x1000, blockCount: 8);
        DatasetManagementCommand.WriteRange(list, 1, startLba: 0xFEDCBA9876543210, blockCount: uint.MaxValue, contextAttributes: 0x11);
        Assert.Equal("0000000008000000001000000000000011000000ffffffff1032547698badcfe", Convert.ToHexStringLower(list));
    }

    [Fact]
    public void Dataset_management_range_checks_index_and_room()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetManagementCommand.WriteRange(new byte[4096 + 16], 256, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetManagementCommand.WriteRange(new byte[16], -1, 0, 1));
        Assert.Throws<ArgumentException>("destination", () => DatasetManagementCommand.WriteRange(new byte[31], 1, 0, 1));
    }

    [Theory]
    [InlineData(0u, 8192u, false)]
    [InlineData(4096u, 8192u, true)]
    [InlineData(8192u, 8192u, true)]
    [InlineData(8193u, 8192u, false)]
    [InlineData(512u, 0u, false)]
    public void In_capsule_choice(uint length, uint capacity, bool expected) =>
        Assert.Equal(expected, DataPointer.FitsInCapsule(length, capacity));

    [Fact]
    public void In_capsule_request_without_data_falls_back_to_a_transport_descriptor()
    {
        var sqe = Sqe.Create(0x01, 1);
        DataPointer.Set(ref sqe, 0, inCapsule: true);
        Assert.Equal(DataPointer.TransportDataBlock, sqe.SglType);
        Assert.Equal(0u, sqe.SglLength);
    }
}
