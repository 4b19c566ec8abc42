using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 7: SGL1 of a command that moves no data is not looked at (Property Get/Set reserve those bytes; nvmet and
    /// SPDK skip the data pointer when nothing is transferred).
    /// </summary>
    [Fact]
    public async Task Data_pointer_of_a_command_without_data_is_not_checked()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        var get = PropertyCommands.Get(ControllerProperty.Vs);
        get.SglType = 0xFF;
        get.SglLength = 0x12345;
        get.SglAddress = 0xDEADBEEF;
        var (vs, _) = await admin.ExecuteAsync(get);
        Assert.True(vs.Status.IsSuccess, vs.Status.ToString());
        Assert.NotEqual(0u, vs.Dw0);

        var keepAlive = AdminCommands.KeepAlive();
        keepAlive.SglType = 0x30;
        keepAlive.SglLength = 7;
        var (ka, _) = await admin.ExecuteAsync(keepAlive);
        Assert.True(ka.Status.IsSuccess, ka.Status.ToString());
    }
}
