using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Target.Tests;

/// <summary>
/// Secure channel concatenation on the controller's side, from a raw host: SC_C is accepted under nvmet's rules
/// (admin queue, NEWTLSPSK in the clear, a DH group other than NULL) and the host's permission, the generated TLS PSK
/// is the one the host derives, and every refusal is AUTH_Failure1 "secure channel concatenation mismatch".
/// </summary>
public sealed class ConcatenationTests
{
    private static readonly DhchapSecret Secret = DhchapSecret.Generate(32, 0);

    private static NvmeTargetOptions Options(bool allowed = true, DhchapDhGroup group = DhchapDhGroup.Ffdhe2048, Action<NvmeHostAuthentication>? configure = null, NvmeTargetTls tls = NvmeTargetTls.Optional)
    {
        var options = TestTargets.Options(s =>
        {
            var auth = new NvmeHostAuthentication(RawHost.HostNqn, Secret) { Concatenation = allowed };
            auth.Groups.Clear();
            auth.Groups.Add(group);
            configure?.Invoke(auth);
            s.HostAuthentication.Add(auth);
        });
        options.Tls = tls; // the exchange in the clear, the queues after it in TLS
        return options;
    }

    private static Sqe Send(uint length) => AuthenticationCommands.Send(length).InCapsule();

    private static async Task<byte[]> NegotiateAsync(RawHost host, ushort tid, AuthSecureChannel sc, DhchapHashFunction[]? hashes = null, DhchapDhGroup[]? groups = null)
    {
        var buffer = new byte[AuthNegotiateMessage.Size];
        new AuthNegotiateMessage(tid, hashes ?? [DhchapHashFunction.Sha256, DhchapHashFunction.Sha384], groups ?? [DhchapDhGroup.Null, DhchapDhGroup.Ffdhe2048], sc).Write(buffer);
        var (sent, _) = await host.ExecuteAsync(Send((uint)buffer.Length), buffer);
        Assert.True(sent.Status.IsSuccess);
        var (_, answer) = await host.ExecuteAsync(AuthenticationCommands.Receive(4096));
        return answer;
    }

    private static void AssertConcatenationMismatch(byte[] answer)
    {
        Assert.True(AuthFailureMessage.TryRead(answer, out var id, out _, out var reason), "AUTH_Failure1 expected");
        Assert.Equal((AuthMessageId.Failure1, AuthFailureReason.ConcatenationMismatch), (id, reason));
    }

    [Fact]
    public async Task The_admin_queue_generates_the_same_tls_psk_as_the_host()
    {
        await using var target = await TestTargets.StartAsync(Options(configure: a => a.Hashes.Insert(0, DhchapHashFunction.Sha512)));
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        await admin.ConnectAdminAsync(TestTargets.Nqn);

        const ushort tid = 0x31;
        var answer = await NegotiateAsync(admin, tid, AuthSecureChannel.NewTlsPsk, [DhchapHashFunction.Sha512, DhchapHashFunction.Sha256]);
        Assert.True(DhchapChallengeMessage.TryRead(answer, out var challenge, out _));

        // SHA-512 comes first for this host, but it has no TLS suite: the controller picks SHA-256.
        Assert.Equal((DhchapHashFunction.Sha256, DhchapDhGroup.Ffdhe2048), (challenge.Hash, challenge.Group));
        var dh = DhchapDhKey.Generate(challenge.Group);
        Assert.True(dh.TryComputeSharedSecret(challenge.DhValue, out var sessionKey));
        var c1 = DhchapCrypto.AugmentChallenge(challenge.Hash, sessionKey, challenge.Challenge);
        var r1 = DhchapCrypto.HostResponse(challenge.Hash, Secret.Transform(RawHost.HostNqn), c1, challenge.SequenceNumber, tid, RawHost.HostNqn, TestTargets.Nqn, AuthSecureChannel.NewTlsPsk);
        var c2 = Enumerable.Range(0x40, 32).Select(i => (byte)i).ToArray();
        var reply = new DhchapReplyMessage(tid, r1, c2, 0, dh.PublicValue);
        var replyData = new byte[reply.Size];
        reply.Write(replyData);
        var (sent, _) = await admin.ExecuteAsync(Send((uint)replyData.Length), replyData);
        Assert.True(sent.Status.IsSuccess);
        var (_, success) = await admin.ExecuteAsync(AuthenticationCommands.Receive(4096));
        Assert.True(DhchapSuccess1Message.TryRead(success, 32, out var s1, out _), "Success1 expected");
        Assert.Null(s1.Response); // S2 0: the controller is not asked to authenticate, as Linux's host sends it

        var expected = NvmeTlsKeyDerivation.GeneratedTlsPsk(challenge.Hash, sessionKey, challenge.Challenge, c2, RawHost.HostNqn, TestTargets.Nqn);
        Assert.True(target.Testing.IsGeneratedTlsPsk(RawHost.HostNqn, TestTargets.Nqn, expected));
        Assert.Equal(expected.Identity, target.Testing.GeneratedTlsPskIdentity(RawHost.HostNqn, TestTargets.Nqn));
        Assert.StartsWith($"NVMe1G01 {RawHost.HostNqn} {TestTargets.Nqn} ", expected.Identity, StringComparison.Ordinal);
        Assert.Equal(1, target.Testing.GeneratedTlsPsks);
    }

    [Fact]
    public async Task A_response_hashed_without_sc_c_is_refused_and_nothing_is_generated()
    {
        await using var target = await TestTargets.StartAsync(Options());
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        await admin.ConnectAdminAsync(TestTargets.Nqn);
        const ushort tid = 0x32;
        var answer = await NegotiateAsync(admin, tid, AuthSecureChannel.NewTlsPsk);
        Assert.True(DhchapChallengeMessage.TryRead(answer, out var challenge, out _));
        var dh = DhchapDhKey.Generate(challenge.Group);
        Assert.True(dh.TryComputeSharedSecret(challenge.DhValue, out var sessionKey));
        var c1 = DhchapCrypto.AugmentChallenge(challenge.Hash, sessionKey, challenge.Challenge);
        var r1 = DhchapCrypto.HostResponse(challenge.Hash, Secret.Transform(RawHost.HostNqn), c1, challenge.SequenceNumber, tid, RawHost.HostNqn, TestTargets.Nqn);
        var reply = new DhchapReplyMessage(tid, r1, new byte[32], 0, dh.PublicValue);
        var replyData = new byte[reply.Size];
        reply.Write(replyData);
        await admin.ExecuteAsync(Send((uint)replyData.Length), replyData);
        var (_, failure) = await admin.ExecuteAsync(AuthenticationCommands.Receive(4096));
        Assert.True(AuthFailureMessage.TryRead(failure, out var id, out _, out var reason));
        Assert.Equal((AuthMessageId.Failure1, AuthFailureReason.Failed), (id, reason));
        Assert.Equal(0, target.Testing.GeneratedTlsPsks);
    }

    [Fact]
    public async Task A_port_without_tls_refuses_concatenation()
    {
        await using var target = await TestTargets.StartAsync(Options(tls: NvmeTargetTls.None));
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        await admin.ConnectAdminAsync(TestTargets.Nqn);
        AssertConcatenationMismatch(await NegotiateAsync(admin, 0x35, AuthSecureChannel.NewTlsPsk));
    }

    [Theory]
    [InlineData(false, DhchapDhGroup.Ffdhe2048, AuthSecureChannel.NewTlsPsk)] // the host is not allowed it
    [InlineData(true, DhchapDhGroup.Null, AuthSecureChannel.NewTlsPsk)] // nvmet: NULL DH group invalid for concatenation
    [InlineData(true, DhchapDhGroup.Ffdhe2048, AuthSecureChannel.ReplaceTlsPsk)] // REPLACETLSPSK on a queue in the clear
    [InlineData(true, DhchapDhGroup.Ffdhe2048, AuthSecureChannel.SecureChannel)] // no TLS PSK: not for NVMe/TCP
    public async Task Refusals_are_concatenation_mismatch(bool allowed, DhchapDhGroup group, AuthSecureChannel sc)
    {
        await using var target = await TestTargets.StartAsync(Options(allowed, group));
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        await admin.ConnectAdminAsync(TestTargets.Nqn);
        AssertConcatenationMismatch(await NegotiateAsync(admin, 0x33, sc));
        Assert.Equal(0, target.Testing.GeneratedTlsPsks);
    }

    [Fact]
    public async Task An_io_queue_cannot_ask_for_concatenation()
    {
        await using var target = await TestTargets.StartAsync(Options());
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        var (connect, _) = await admin.ConnectAdminAsync(TestTargets.Nqn);
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, (ushort)connect.Dw0);
        AssertConcatenationMismatch(await NegotiateAsync(io, 0x34, AuthSecureChannel.NewTlsPsk));
    }
}
