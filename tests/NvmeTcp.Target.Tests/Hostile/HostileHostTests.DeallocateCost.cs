using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 8: deallocating costs what is stored, not what the ranges span. Two 16-byte ranges over 4 TiB of a sparse
    /// namespace hold three written pages; walking every 4 KiB page of them (2^30) takes minutes of CPU, so this
    /// completes within RawHost's 10 s bound only if the cost follows the three pages.
    /// </summary>
    [Fact]
    public async Task Deallocating_terabytes_costs_what_is_stored()
    {
        await using var target = await TestTargets.StartAsync(TestTargets.Options(s => s.Namespaces.Add(new NvmeNamespaceOptions(3, 4L << 40, 4096))));
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _ = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        foreach (var lba in new ulong[] { 7, 1UL << 29, (1UL << 30) - 1 })
        {
            var (write, _) = await io.ExecuteAsync(ReadWriteCommands.Write(3, lba, 1, 4096).InCapsule(), TestTargets.Pattern(4096, (int)lba));
            Assert.True(write.Status.IsSuccess);
        }

        Assert.Equal(3, target.Testing.GetAllocatedPageCount(TestTargets.Nqn, 3));
        var ranges = new byte[32];
        DatasetManagementCommand.WriteRange(ranges, 0, 0, 1u << 29);
        DatasetManagementCommand.WriteRange(ranges, 1, 1UL << 29, (1u << 29) - 1); // the last page stays
        var dsm = DatasetManagementCommand.Create(3, 2, DatasetAttributes.Deallocate);
        DataPointer.Set(ref dsm, 32, inCapsule: true);
        var (done, _) = await io.ExecuteAsync(dsm, ranges);
        Assert.True(done.Status.IsSuccess, done.Status.ToString());
        Assert.Equal(1, target.Testing.GetAllocatedPageCount(TestTargets.Nqn, 3));
        await HostileHost.AssertServesCleanHostAsync(target, "deallocating 4 TiB");
    }
}
