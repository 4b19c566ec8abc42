using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 11: a Log Page Offset past the end of the log is Invalid Field in Command (NVMe Base 2.0, Get Log Page:
    /// LPOL/LPOU larger than the log page), not zeros; an offset inside it still reads the rest.
    /// </summary>
    [Fact]
    public async Task Log_page_offset_past_the_log_is_invalid_field()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using (admin)
        {
            var (past, data) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.SmartHealth, 8, 0xFFFFFFFF, offset: 1024));
            StatusAssert.Is(StatusCodes.InvalidField, past, dnr: true);
            Assert.Empty(data);
            var (inside, tail) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.SmartHealth, 16, 0xFFFFFFFF, offset: 496));
            Assert.True(inside.Status.IsSuccess);
            Assert.Equal(16, tail.Length);
        }

        var (discovery, _) = await RawHost.AdminAsync(target.EndPoint, NvmeIdentifyController.DiscoveryNqn);
        await using (discovery)
        {
            var (past, _) = await discovery.ExecuteAsync(GetLogPageCommand.Create(LogPageId.Discovery, 1024, offset: 1UL << 20));
            StatusAssert.Is(StatusCodes.InvalidField, past, dnr: true);
        }
    }

    /// <summary>
    /// Defect 11: an I/O Connect with another HOSTID than the association's is refused (a Host Identifier names one
    /// host; the association belongs to the one that created it), and Connect Invalid Parameters points at HOSTID:
    /// IATTR set (in the data), IPO 0.
    /// </summary>
    [Fact]
    public async Task Io_connect_with_another_host_id_points_at_host_id()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _ = admin;
        await using var io = await RawHost.ConnectAsync(target.EndPoint);
        var data = new byte[ConnectData.Size];
        ConnectData.Write(data, Guid.NewGuid(), cntlid, TestTargets.Nqn, RawHost.HostNqn);
        var (cqe, _) = await io.ExecuteAsync(ConnectCommand.Create(1, 128), data);
        StatusAssert.Is(StatusCodes.ConnectInvalidParameters, cqe, dnr: true);
        Assert.Equal(0x0001_0000u | (uint)ConnectData.HostIdOffset, cqe.Dw0);
    }
}
