using NvmeTcp.Client;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Tests;

public class BringUpTests
{
    [Fact]
    public async Task Whole_bring_up_as_linux_does_it()
    {
        await using var target = await TestTargets.StartAsync();
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        Assert.Equal(0, admin.IcResp.Cpda);
        Assert.Equal(DigestTypes.None, admin.IcResp.Digests);
        Assert.Equal(128u * 1024, admin.IcResp.MaxH2CData);

        var (connect, _) = await admin.ConnectAdminAsync(TestTargets.Nqn, katoMs: 5000);
        Assert.True(connect.Status.IsSuccess);
        var cntlid = (ushort)connect.Dw0;
        Assert.NotEqual(0, cntlid);
        Assert.Equal(1, connect.Sqhd);

        var (cap, _) = await admin.ExecuteAsync(PropertyCommands.Get(ControllerProperty.Cap));
        Assert.Equal(127ul, cap.Value64 & 0xFFFF); // MQES
        Assert.Equal(1ul, (cap.Value64 >> 16) & 1); // CQR
        Assert.NotEqual(0ul, (cap.Value64 >> 24) & 0xFF); // TO
        Assert.Equal(1ul, (cap.Value64 >> 37) & 1); // CSS NVM
        Assert.Equal(0ul, (cap.Value64 >> 48) & 0xF); // MPSMIN
        var (vs, _) = await admin.ExecuteAsync(PropertyCommands.Get(ControllerProperty.Vs));
        Assert.Equal(0x00020000u, vs.Dw0);

        var (cstsBefore, _) = await admin.ExecuteAsync(PropertyCommands.Get(ControllerProperty.Csts));
        Assert.Equal(0u, cstsBefore.Dw0 & 1);
        Assert.Equal(1u, await admin.EnableAsync() & 1);

        var (identify, data) = await admin.ExecuteAsync(IdentifyCommand.Controller());
        Assert.True(identify.Status.IsSuccess);
        var id = NvmeIdentifyController.Parse(data);
        Assert.Equal("SN-TEST-1", id.SerialNumber);
        Assert.Equal("Test Model", id.ModelNumber);
        Assert.Equal("FR1", id.FirmwareRevision);
        Assert.Equal(TestTargets.Nqn, id.SubsystemNqn);
        Assert.Equal(cntlid, id.Cntlid);
        Assert.Equal(NvmeControllerType.Io, id.ControllerType);
        Assert.Equal(5, id.Mdts);
        Assert.Equal(8192, id.InCapsuleDataSize);
        Assert.Equal(2u, id.Nn);
        Assert.Equal(3, id.Aerl);
        Assert.Equal(10, id.Kas);
        Assert.Equal(0x66, id.Sqes);
        Assert.Equal(0x44, id.Cqes);
        Assert.Equal(new Version(2, 0, 0), id.Version);

        var (queues, _) = await admin.ExecuteAsync(FeatureCommands.SetNumberOfQueues(4, 4));
        Assert.Equal(3u | (3u << 16), queues.Dw0);
        var (tooMany, _) = await admin.ExecuteAsync(FeatureCommands.SetNumberOfQueues(64, 64));
        Assert.Equal(7u | (7u << 16), tooMany.Dw0); // min(requested, configured 8)

        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid, qid: 1);
        var (ioConnect, _) = await io.ConnectIoAsync(TestTargets.Nqn, 1, cntlid);
        Assert.Equal(StatusCodes.InvalidOpcode, (ushort)((ushort)ioConnect.Status.CodeType << 8 | ioConnect.Status.Code)); // a second Connect on a queue
        Assert.Equal(1, target.ControllerCount);
    }

    [Fact]
    public async Task Commands_before_ready_are_command_sequence_errors()
    {
        await using var target = await TestTargets.StartAsync();
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        var (beforeConnect, _) = await admin.ExecuteAsync(IdentifyCommand.Controller());
        StatusAssert.Is(StatusCodes.InvalidOpcode, beforeConnect, dnr: true);
        await admin.ConnectAdminAsync(TestTargets.Nqn);
        var (beforeEnable, _) = await admin.ExecuteAsync(IdentifyCommand.Controller());
        StatusAssert.Is(StatusCodes.CommandSequenceError, beforeEnable, dnr: true);
    }

    [Fact]
    public async Task Invalid_cc_sets_controller_fatal_status()
    {
        await using var target = await TestTargets.StartAsync();
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        await admin.ConnectAdminAsync(TestTargets.Nqn);
        await admin.ExecuteAsync(PropertyCommands.Set(ControllerProperty.Cc, 1u | (6u << 16) | (4u << 20) | (1u << 7))); // MPS 1
        var (csts, _) = await admin.ExecuteAsync(PropertyCommands.Get(ControllerProperty.Csts));
        Assert.Equal(2u, csts.Dw0 & 3); // CFS, not RDY
    }

    [Fact]
    public async Task Shutdown_reports_complete()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await admin.ExecuteAsync(PropertyCommands.Set(ControllerProperty.Cc, 1u | (6u << 16) | (4u << 20) | (1u << 14)));
        var (csts, _) = await admin.ExecuteAsync(PropertyCommands.Get(ControllerProperty.Csts));
        Assert.Equal(2u, (csts.Dw0 >> 2) & 3);
    }

    [Fact]
    public async Task Property_get_of_cap_as_4_bytes_is_invalid_field()
    {
        await using var target = await TestTargets.StartAsync();
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        await admin.ConnectAdminAsync(TestTargets.Nqn);
        var (cqe, _) = await admin.ExecuteAsync(PropertyCommands.Get(ControllerProperty.Cap, PropertySize.FourBytes));
        StatusAssert.Is(StatusCodes.InvalidField, cqe, dnr: true);
    }
}

internal static class StatusAssert
{
    public static void Is(ushort code, Cqe cqe, bool dnr)
    {
        var actual = (ushort)(((int)cqe.Status.CodeType << 8) | cqe.Status.Code);
        Assert.True(code == actual, $"expected status 0x{code:X3}, got 0x{actual:X3} ({cqe.Status})");
        Assert.Equal(dnr, cqe.Status.DoNotRetry);
    }
}
