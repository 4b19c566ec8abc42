using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 2: a KATO the timer cannot hold (4294967001 ms and more, in Connect CDW12 or Set Features 0Fh) is answered
    /// (clamped or refused), never an exception that ends the connection silently and leaves it in the table.
    /// </summary>
    [Theory]
    [InlineData(4294967001u)]
    [InlineData(uint.MaxValue)]
    public async Task Huge_kato_is_answered_and_leaks_no_connection(uint kato)
    {
        await using var target = await TestTargets.StartAsync();
        var baseline = ProcessResources.Take();
        for (var i = 0; i < 50; i++)
        {
            await using var host = await RawHost.ConnectAsync(target.EndPoint);
            var (connect, _) = await host.ExecuteAsync(ConnectCommand.Create(0, 32, ConnectAttributes.None, kato), RawHost.ConnectDataFor(TestTargets.Nqn));
            Assert.True(connect.Status.IsSuccess || connect.Status.Code == (byte)StatusCodes.InvalidField, connect.Status.ToString());
            if (connect.Status.IsSuccess)
            {
                Assert.Equal(1u, await host.EnableAsync() & 1);
            }
        }

        await HostileHost.ConnectionsGoneAsync(target);
        Assert.Equal(0, target.ControllerCount);

        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using (admin)
        {
            var (set, _) = await admin.ExecuteAsync(FeatureCommands.SetKeepAliveTimer(kato));
            Assert.True(set.Status.IsSuccess || set.Status.Code == (byte)StatusCodes.InvalidField, set.Status.ToString());
            var (keepAlive, _) = await admin.ExecuteAsync(AdminCommands.KeepAlive());
            Assert.True(keepAlive.Status.IsSuccess, "the admin queue still serves after Set Features KATO");
        }

        await HostileHost.ConnectionsGoneAsync(target);
        ProcessResources.Take().AssertWithin(baseline, "50 Connects with a huge KATO");
        await HostileHost.AssertServesCleanHostAsync(target, "huge KATO");
    }
}
