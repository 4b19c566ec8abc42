using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Interop.Tests.Raw;

namespace NvmeTcp.Interop.Tests;

/// <summary>Fabrics Connect (NVMe-oF 1.1 3.3) of an admin queue against Linux nvmet.</summary>
public sealed class ConnectTests(NvmetVms vms) : InteropTest(vms)
{
    private const byte ConnectInvalidParameters = 0x82;
    private const byte ConnectInvalidHost = 0x84;

    /// <summary>
    /// What nvmet puts in DW0 of a refused Connect: IPO_IATTR_CONNECT_DATA(field) in drivers/nvme/target/fabrics-cmd.c,
    /// bit 16 (IATTR: the offset is into the Connect data) | the field's byte offset in struct nvmf_connect_data.
    /// </summary>
    private const uint SubsystemNqnInData = 0x1_0000 | 256;
    private const uint HostNqnInData = 0x1_0000 | 512;

    [Theory]
    [MemberData(nameof(KernelsAndDigests), MemberType = typeof(InteropTest))]
    public async Task Admin_connect_to_the_interop_subsystem_returns_a_controller_id(string kernel, string digests)
    {
        var cancellationToken = Timeout();
        await using var connection = await OpenAsync(kernel, Digests(digests), cancellationToken);

        var cqe = await ConnectAsync(connection, NvmetTarget.InteropNqn, NvmetTarget.HostNqn, cancellationToken);

        Assert.True(cqe.Status.IsSuccess, cqe.Status.ToString());
        var cntlid = (ushort)cqe.Dw0;
        Assert.InRange(cntlid, (ushort)1, (ushort)0xFFEF);
        Assert.Equal(0u, cqe.Dw0 >> 16); // AUTHREQ: no authentication configured
        TestContext.Current.TestOutputHelper?.WriteLine($"CNTLID {cntlid}, SQHD 0x{cqe.Sqhd:X4}");
    }

    [Theory]
    [MemberData(nameof(Kernels), MemberType = typeof(InteropTest))]
    public async Task Connect_to_an_unknown_subsystem_is_invalid_parameters_pointing_at_SUBNQN(string kernel)
    {
        var cancellationToken = Timeout();
        await using var connection = await OpenAsync(kernel, DigestTypes.None, cancellationToken);

        var cqe = await ConnectAsync(connection, "nqn.2026-11.dev.nvmetcp:no-such-subsystem", NvmetTarget.HostNqn, cancellationToken);

        TestContext.Current.TestOutputHelper?.WriteLine($"status {cqe.Status}, DW0 0x{cqe.Dw0:X8}");
        Assert.Equal(NvmeStatusCodeType.CommandSpecific, cqe.Status.CodeType);
        Assert.Equal(ConnectInvalidParameters, cqe.Status.Code);
        Assert.True(cqe.Status.DoNotRetry);
        Assert.Equal(SubsystemNqnInData, cqe.Dw0);
    }

    [Theory]
    [MemberData(nameof(Kernels), MemberType = typeof(InteropTest))]
    public async Task Connect_by_a_host_not_allowed_in_the_subsystem_is_invalid_host(string kernel)
    {
        var cancellationToken = Timeout();
        await using var connection = await OpenAsync(kernel, DigestTypes.None, cancellationToken);

        var cqe = await ConnectAsync(connection, NvmetTarget.RestrictedNqn, NvmetTarget.DisallowedHostNqn, cancellationToken);

        TestContext.Current.TestOutputHelper?.WriteLine($"status {cqe.Status}, DW0 0x{cqe.Dw0:X8}");
        Assert.Equal(NvmeStatusCodeType.CommandSpecific, cqe.Status.CodeType);
        Assert.Equal(ConnectInvalidHost, cqe.Status.Code);
        Assert.True(cqe.Status.DoNotRetry);
        Assert.Equal(HostNqnInData, cqe.Dw0);
    }

    [Theory]
    [MemberData(nameof(Kernels), MemberType = typeof(InteropTest))]
    public async Task Connect_by_the_allowed_host_to_the_restricted_subsystem_succeeds(string kernel)
    {
        var cancellationToken = Timeout();
        await using var connection = await OpenAsync(kernel, DigestTypes.None, cancellationToken);

        var cqe = await ConnectAsync(connection, NvmetTarget.RestrictedNqn, NvmetTarget.AllowedHostNqn, cancellationToken);

        Assert.True(cqe.Status.IsSuccess, cqe.Status.ToString());
    }

    /// <summary>Admin queue Connect as Linux sends it (SQSIZE 31) with KATO 0: no keep-alive to honour.</summary>
    internal static Task<Cqe> ConnectAsync(RawConnection connection, string subsystemNqn, string hostNqn, CancellationToken cancellationToken)
    {
        var sqe = RawCommands.Connect(cid: 1, qid: 0, sqSize: 31, kato: 0);
        Assert.Equal(Sqe.PsdtSgl, sqe.Flags);
        Assert.Equal(0x01, sqe.SglType);
        var data = RawCommands.ConnectData(RawCommands.HostIdOf(hostNqn), 0xFFFF, subsystemNqn, hostNqn);
        return connection.ExecuteAsync(sqe, data, Memory<byte>.Empty, cancellationToken);
    }
}
