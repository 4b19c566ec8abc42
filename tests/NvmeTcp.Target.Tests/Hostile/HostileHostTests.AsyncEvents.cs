using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 13: SPDK's host completes its outstanding AERs itself on detach, without telling the controller, then
    /// reuses one of their CIDs (for the shutdown's Property Get). A new command with an outstanding AER's CID retires
    /// that AER; it does not end the connection, and the retired AER never completes.
    /// </summary>
    [Fact]
    public async Task Command_reusing_an_outstanding_aer_cid_retires_the_aer()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        var aer = AdminCommands.AsynchronousEventRequest();
        aer.Cid = 0x77;
        await admin.SendAsync(admin.EncodeCommand(aer));
        var get = PropertyCommands.Get(ControllerProperty.Csts);
        get.Cid = 0x77;
        await admin.SendAsync(admin.EncodeCommand(get));
        var response = await admin.ReceiveAsync();
        Assert.Equal(PduType.CapsuleResp, response.Header.Type);
        Assert.Equal(0x77, response.Header.Cqe.Cid);
        Assert.True(response.Header.Cqe.Status.IsSuccess);
        Assert.Equal(1u, response.Header.Cqe.Dw0 & 1); // CSTS.RDY: the Property Get's answer, not an event

        // An event now goes to a new AER, not to the retired CID.
        var next = AdminCommands.AsynchronousEventRequest();
        next.Cid = 0x78;
        await admin.SendAsync(admin.EncodeCommand(next));
        var (ka, _) = await admin.ExecuteAsync(AdminCommands.KeepAlive()); // the AER has arrived once this is answered
        Assert.True(ka.Status.IsSuccess);
        target.RaiseNamespaceAttributeChanged(TestTargets.Nqn, 1);
        var notice = await admin.ReceiveAsync();
        Assert.Equal(0x78, notice.Header.Cqe.Cid);
        Assert.Equal(AsyncEventCompletion.Notice(AsyncEventNotice.NamespaceAttributeChanged).ToDword0(), notice.Header.Cqe.Dw0);
        Assert.Empty(target.Testing.Violations);
    }

    /// <summary>
    /// Defect 14: Asynchronous Event Configuration with the SMART / health critical warning bits (0-7), which SPDK always
    /// sets, is accepted (nvmet accepts them and never sends them), and read back.
    /// </summary>
    [Fact]
    public async Task Async_event_configuration_with_smart_bits_is_accepted()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        var (set, _) = await admin.ExecuteAsync(FeatureCommands.Set(FeatureId.AsyncEventConfiguration, 0x11F));
        Assert.True(set.Status.IsSuccess, set.Status.ToString());
        var (get, _) = await admin.ExecuteAsync(FeatureCommands.Get(FeatureId.AsyncEventConfiguration));
        Assert.Equal(0x11Fu, get.Dw0);
    }
}
