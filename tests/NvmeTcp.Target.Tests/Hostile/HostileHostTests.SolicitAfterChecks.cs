using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Fabrics;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>Defect 9: a Connect whose 1,024 bytes come by R2T gets its R2T and succeeds.</summary>
    [Fact]
    public async Task Connect_with_data_by_r2t_is_solicited_and_succeeds()
    {
        await using var target = await TestTargets.StartAsync();
        await using var host = await RawHost.ConnectAsync(target.EndPoint);
        var connect = ConnectCommand.Create(0, 32);
        DataPointer.SetTransport(ref connect, ConnectData.Size);
        var (cqe, _) = await host.ExecuteAsync(connect, writeData: RawHost.ConnectDataFor(TestTargets.Nqn));
        Assert.True(cqe.Status.IsSuccess, cqe.Status.ToString());
        Assert.Single(host.R2Ts);
        Assert.Equal(1u, await host.EnableAsync() & 1);
    }

    /// <summary>Defect 9: a command that can only fail (an admin opcode the target does not implement) is refused before any R2T.</summary>
    [Fact]
    public async Task Command_that_can_only_fail_gets_no_r2t()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        var namespaceManagement = Sqe.Create(0x0D); // Namespace Management: host-to-controller data, not implemented
        DataPointer.SetTransport(ref namespaceManagement, 4096);
        var (cqe, _) = await admin.ExecuteAsync(namespaceManagement, writeData: new byte[4096]);
        StatusAssert.Is(StatusCodes.InvalidOpcode, cqe, dnr: true);
        Assert.Empty(admin.R2Ts);
    }
}
