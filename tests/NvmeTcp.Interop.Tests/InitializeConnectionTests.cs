using NvmeTcp.Protocol;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Interop.Tests.Raw;

namespace NvmeTcp.Interop.Tests;

/// <summary>ICReq/ICResp (NVMe/TCP 3.6.2.2-3) against Linux nvmet, decoded by our <see cref="PduDecoder"/>.</summary>
public sealed class InitializeConnectionTests(NvmetVms vms) : InteropTest(vms)
{
    /// <summary>What nvmet-tcp grants: NVMET_TCP_MAXH2CDATA in drivers/nvme/target/tcp.c, 4 MiB.</summary>
    private const uint NvmetMaxH2CData = 0x400000;

    [Theory]
    [MemberData(nameof(KernelsAndDigests), MemberType = typeof(InteropTest))]
    public async Task ICResp_is_version_0_with_no_alignment_and_echoes_the_digests(string kernel, string digests)
    {
        var cancellationToken = Timeout();
        var vm = await VmAsync(kernel);
        await using var connection = await RawConnection.ConnectAsync(vm.EndPoint, cancellationToken);

        var icResp = await connection.InitializeAsync(Digests(digests), cancellationToken);

        Assert.Equal(0, icResp.Pfv);
        Assert.Equal(0, icResp.Cpda);
        Assert.Equal(Digests(digests), icResp.Digests);
        Assert.Equal(NvmetMaxH2CData, icResp.MaxH2CData);
        Assert.True(icResp.IsAcceptableFor(new IcReqPdu(0, 0, Digests(digests), 0), out var error), error.ToString());
    }
}
