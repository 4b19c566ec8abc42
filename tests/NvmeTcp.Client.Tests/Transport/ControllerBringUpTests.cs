using System.Buffers.Binary;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>Controller bring-up against a scripted controller: the order of commands, and CSTS.CFS / CAP.TO handling.</summary>
public sealed class ControllerBringUpTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    // CAP: MQES 127, CQR, TO 1 (500 ms), CSS NVM.
    private const ulong Cap = 127UL | (1UL << 16) | (1UL << 24) | (1UL << 37);

    private static NvmeTcpOptions Options(ScriptedController target) => new()
    {
        Address = "127.0.0.1",
        Port = target.EndPoint.Port,
        SubsystemNqn = "nqn.2026-11.dev.nvmetcp:scripted",
        HostId = new Guid("5c0e4a52-0000-4000-8000-0000000000aa"),
        IoQueueCount = 1,
        KeepAliveTimeout = TimeSpan.Zero,
    };

    private static async Task<Sqe> ExpectFabricsAsync(ScriptedController target, FabricsCommandType type)
    {
        var (sqe, _) = await target.ReadCommandAsync();
        Assert.Equal(FabricsCommand.Opcode, sqe.Opcode);
        Assert.Equal((byte)type, sqe.FabricsCommandType);
        return sqe;
    }

    private static async Task AnswerPropertyGetAsync(ScriptedController target, uint expectedOffset, ulong value)
    {
        var sqe = await ExpectFabricsAsync(target, FabricsCommandType.PropertyGet);
        Assert.Equal(expectedOffset, sqe.Cdw11);
        var bytes = new byte[64];
        var length = CapsuleRespPdu.Encode(bytes, new Cqe((uint)value, (uint)(value >> 32), 0, 0, sqe.Cid, default), target.Codec);
        await target.SendAsync(bytes.AsMemory(0, length));
    }

    private static async Task ScriptUntilEnableAsync(ScriptedController target, Guid hostId)
    {
        await target.AcceptAsync();
        var (connect, data) = await target.ReadCommandAsync();
        Assert.Equal((byte)FabricsCommandType.Connect, connect.FabricsCommandType);
        Assert.Equal(0x40, connect.Flags);
        Assert.Equal(0x01, connect.SglType);
        Assert.Equal(1024, data.Length);
        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(16)));
        Assert.Equal(hostId, new Guid(data.AsSpan(0, 16), bigEndian: true));
        Assert.Equal(31, connect.ReadUInt16(44));
        await target.SendResponseAsync(connect.Cid, dw0: 7);
        await AnswerPropertyGetAsync(target, ControllerProperty.Cap, Cap);
        await AnswerPropertyGetAsync(target, ControllerProperty.Vs, 0x00020000);
        await AnswerPropertyGetAsync(target, ControllerProperty.Cc, 0);
        var set = await ExpectFabricsAsync(target, FabricsCommandType.PropertySet);
        Assert.Equal(ControllerProperty.Cc, set.Cdw11);
        var cc = set.ReadUInt32(48);
        Assert.Equal(1u, cc & 1);
        Assert.Equal(6u, (cc >> 16) & 0xF);
        Assert.Equal(4u, (cc >> 20) & 0xF);
        await target.SendResponseAsync(set.Cid);
    }

    [Fact]
    public async Task CSTS_CFS_during_enable_fails_the_bring_up_with_a_clear_error()
    {
        await using var target = ScriptedController.Start();
        var options = Options(target);
        var connect = NvmeController.ConnectAsync(options);
        await ScriptUntilEnableAsync(target, options.HostId);
        await AnswerPropertyGetAsync(target, ControllerProperty.Csts, 0b10);
        var error = await Assert.ThrowsAsync<NvmeControllerFatalException>(() => connect.WaitAsync(Bound));
        Assert.Contains("CSTS.CFS", error.Message, StringComparison.Ordinal);
        Assert.Equal(0b10u, error.ControllerStatus);
        Assert.True(error.IsTransient);
    }

    // DW0 bits 16-31 are AUTHREQ: bit 17 ATR (DH-HMAC-CHAP required), bit 18 ASCR (a secure channel, TLS, required).
    // Without a secret ATR is Required; ASCR (secure channel concatenation) this host does not implement at all. Both
    // end the connect with a typed error that is not transient.
    [Theory]
    [InlineData(1u << 17, NvmeAuthenticationFailure.Required)]
    [InlineData(1u << 18, NvmeAuthenticationFailure.Unsupported)]
    public async Task Connect_demanding_authentication_is_a_clear_non_retryable_error(uint authreq, NvmeAuthenticationFailure expected)
    {
        await using var target = ScriptedController.Start();
        var connect = NvmeController.ConnectAsync(Options(target));
        await target.AcceptAsync();
        var (sqe, _) = await target.ReadCommandAsync();
        Assert.Equal((byte)FabricsCommandType.Connect, sqe.FabricsCommandType);

        await target.SendResponseAsync(sqe.Cid, dw0: 7 | authreq);
        var error = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => connect.WaitAsync(Bound));
        Assert.False(error.IsTransient);
        Assert.Equal(expected, error.Failure);
        Assert.Equal((ushort)(authreq >> 16), error.Requirements);
        Assert.Contains("authentication", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CSTS_RDY_never_set_fails_after_CAP_TO()
    {
        await using var target = ScriptedController.Start();
        var options = Options(target);
        var connect = NvmeController.ConnectAsync(options);
        await ScriptUntilEnableAsync(target, options.HostId);
        var answering = Task.Run(async () =>
        {
            // Keep answering "not ready" until the host gives up and closes (bounded by the test's own timeout).
            try
            {
                for (var i = 0; i < 1000; i++)
                {
                    await AnswerPropertyGetAsync(target, ControllerProperty.Csts, 0);
                }
            }
            catch (Exception e) when (e is EndOfStreamException or System.Net.Sockets.SocketException or ObjectDisposedException or OperationCanceledException or Xunit.Sdk.XunitException)
            {
            }
        });
        var error = await Assert.ThrowsAsync<NvmeTimeoutException>(() => connect.WaitAsync(Bound));
        Assert.Contains("CSTS.RDY", error.Message, StringComparison.Ordinal);
        Assert.Contains("CAP.TO", error.Message, StringComparison.Ordinal);
        await answering.WaitAsync(Bound);
    }
}
