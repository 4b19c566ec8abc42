using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Target.Tests.Hostile;

/// <summary>
/// The hostile-host suite: each defect a hostile or merely unusual host found, and after each class of attack a clean
/// host served correctly and the process within stated bounds.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed partial class HostileHostTests
{
    /// <summary>Defect 1: a Get Log Page over MDTS is refused with Invalid Field, on NVM and discovery controllers alike.</summary>
    [Fact]
    public async Task Get_log_page_over_mdts_is_invalid_field_and_allocates_nothing()
    {
        await using var target = await TestTargets.StartAsync();
        var baseline = ProcessResources.Take();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using (admin)
        {
            // 256 KiB of the error log: over the default MDTS of 128 KiB.
            var (over, data) = await admin.ExecuteAsync(GetLogPageCommand.Create(LogPageId.ErrorInformation, 256 * 1024));
            StatusAssert.Is(StatusCodes.InvalidField, over, dnr: true);
            Assert.Empty(data);
        }

        var (discovery, _) = await RawHost.AdminAsync(target.EndPoint, NvmeIdentifyController.DiscoveryNqn);
        await using (discovery)
        {
            // NUMD at the largest the target would ever buffer: 64 MiB, pipelined four times, no NQN of any subsystem needed.
            var sqes = Enumerable.Range(0, 4).Select(_ => GetLogPageCommand.Create(LogPageId.Discovery, 64u << 20)).ToArray();
            for (var i = 0; i < sqes.Length; i++)
            {
                sqes[i].Cid = (ushort)(0x100 + i);
                await discovery.SendAsync(discovery.EncodeCommand(sqes[i]));
            }

            for (var i = 0; i < sqes.Length; i++)
            {
                var pdu = await discovery.ReceiveAsync();
                Assert.Equal(PduType.CapsuleResp, pdu.Header.Type);
                StatusAssert.Is(StatusCodes.InvalidField, pdu.Header.Cqe, dnr: true);
            }

            ProcessResources.Take().AssertWithin(baseline, "four 64 MiB Get Log Page commands");
        }

        await HostileHost.AssertServesCleanHostAsync(target, "Get Log Page over MDTS");
    }
}
