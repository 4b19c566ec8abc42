using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 5: Dataset Management takes any data length of at least (NR + 1) * 16 bytes, as nvmet
    /// (nvmet_check_data_len_lte): the Linux host sends 4,096 bytes for every discard, in the capsule or by R2T.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Discard_with_a_whole_page_of_ranges_is_accepted(bool inCapsule)
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _ = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        var (write, _) = await io.ExecuteAsync(ReadWriteCommands.Write(2, 10, 4, 16384), writeData: TestTargets.Pattern(16384, 5));
        Assert.True(write.Status.IsSuccess);
        Assert.Equal(4, target.Testing.GetAllocatedPageCount(TestTargets.Nqn, 2));

        var ranges = new byte[4096];
        DatasetManagementCommand.WriteRange(ranges, 0, 10, 4);
        var sqe = DatasetManagementCommand.Create(2, 1, DatasetAttributes.Deallocate);
        DataPointer.Set(ref sqe, 4096, inCapsule);
        var (dsm, _) = inCapsule ? await io.ExecuteAsync(sqe, ranges) : await io.ExecuteAsync(sqe, writeData: ranges);
        Assert.True(dsm.Status.IsSuccess, dsm.Status.ToString());
        Assert.Equal(0, target.Testing.GetAllocatedPageCount(TestTargets.Nqn, 2));

        // Shorter than the ranges it announces is still refused.
        var two = DatasetManagementCommand.Create(2, 2, DatasetAttributes.Deallocate);
        DataPointer.Set(ref two, 16, inCapsule: true);
        var (shortDsm, _) = await io.ExecuteAsync(two, ranges.AsMemory(0, 16));
        StatusAssert.Is(StatusCodes.DataSglLengthInvalid, shortDsm, dnr: true);
    }
}
