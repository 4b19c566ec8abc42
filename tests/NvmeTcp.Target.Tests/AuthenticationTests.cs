using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target.Tests;

/// <summary>The controller's half of DH-HMAC-CHAP seen from a raw host: AUTHREQ, the gate, the exchange, its refusals.</summary>
public sealed class AuthenticationTests
{
    private static readonly DhchapSecret Secret = DhchapSecret.Generate(32, 0);

    private static NvmeTargetOptions Options() => TestTargets.Options(s => s.HostAuthentication.Add(new NvmeHostAuthentication(RawHost.HostNqn, Secret)));

    private static Sqe Send(uint length) => AuthenticationCommands.Send(length).InCapsule();

    [Fact]
    public async Task Connect_asks_for_authentication_and_other_commands_wait_for_it()
    {
        await using var target = await TestTargets.StartAsync(Options());
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        var (connect, _) = await admin.ConnectAdminAsync(TestTargets.Nqn);
        Assert.True(connect.Status.IsSuccess);
        Assert.Equal(0x2u, connect.Dw0 >> 16); // AUTHREQ ATR, as nvmet's 0x00020001

        // Property Get/Set are exempt; Identify is not.
        var (cap, _) = await admin.ExecuteAsync(PropertyCommands.Get(ControllerProperty.Cap));
        Assert.True(cap.Status.IsSuccess);
        Assert.Equal(1u, await admin.EnableAsync() & 1);
        var (identify, _) = await admin.ExecuteAsync(IdentifyCommand.Controller());
        StatusAssert.Is(StatusCodes.AuthenticationRequired, identify, dnr: true);

        // Wrong SECP is Invalid Field, as nvmet.
        var bad = AuthenticationCommands.Receive(4096);
        bad[AuthenticationCommands.SecpOffset] = 0xEA;
        var (badReceive, _) = await admin.ExecuteAsync(bad);
        StatusAssert.Is(StatusCodes.InvalidField, badReceive, dnr: true);

        // A Receive with nothing due answers AUTH_Failure1.
        var (early, message) = await admin.ExecuteAsync(AuthenticationCommands.Receive(4096));
        Assert.True(early.Status.IsSuccess);
        Assert.True(AuthFailureMessage.TryRead(message, out var id, out _, out var reason));
        Assert.Equal((AuthMessageId.Failure1, AuthFailureReason.Failed), (id, reason));

        await AuthenticateAsync(admin, 0x11, Secret);
        var (identified, _) = await admin.ExecuteAsync(IdentifyCommand.Controller());
        Assert.True(identified.Status.IsSuccess);

        // Each queue authenticates on its own: a new I/O queue is refused I/O until it has.
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, (ushort)connect.Dw0);
        var (read, _) = await io.ExecuteAsync(ReadWriteCommands.Read(1, 0, 1, 512));
        StatusAssert.Is(StatusCodes.AuthenticationRequired, read, dnr: true);
        await AuthenticateAsync(io, 0x12, Secret);
        (read, _) = await io.ExecuteAsync(ReadWriteCommands.Read(1, 0, 1, 512));
        Assert.True(read.Status.IsSuccess);
        Assert.Equal(2, target.Testing.AuthenticatedQueues);
    }

    [Fact]
    public async Task A_wrong_response_gets_AUTH_Failure1_and_the_queue_stays_closed()
    {
        await using var target = await TestTargets.StartAsync(Options());
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        await admin.ConnectAdminAsync(TestTargets.Nqn);
        await Assert.ThrowsAsync<Xunit.Sdk.TrueException>(() => AuthenticateAsync(admin, 0x21, DhchapSecret.Generate(32, 0)));
        var (identify, _) = await admin.ExecuteAsync(IdentifyCommand.Controller());
        StatusAssert.Is(StatusCodes.AuthenticationRequired, identify, dnr: true);
        Assert.Equal(0, target.Testing.AuthenticatedQueues);
    }

    [Fact]
    public async Task A_host_offering_no_allowed_hash_is_refused_with_hash_unusable()
    {
        var options = TestTargets.Options(s =>
        {
            var auth = new NvmeHostAuthentication(RawHost.HostNqn, Secret);
            auth.Hashes.Clear();
            auth.Hashes.Add(DhchapHashFunction.Sha512);
            s.HostAuthentication.Add(auth);
        });
        await using var target = await TestTargets.StartAsync(options);
        await using var admin = await RawHost.ConnectAsync(target.EndPoint);
        await admin.ConnectAdminAsync(TestTargets.Nqn);
        var negotiate = new byte[AuthNegotiateMessage.Size];
        new AuthNegotiateMessage(5, [DhchapHashFunction.Sha256], [DhchapDhGroup.Null]).Write(negotiate);
        var (sent, _) = await admin.ExecuteAsync(Send((uint)negotiate.Length), negotiate);
        Assert.True(sent.Status.IsSuccess);
        var (_, answer) = await admin.ExecuteAsync(AuthenticationCommands.Receive(4096));
        Assert.True(AuthFailureMessage.TryRead(answer, out var id, out var tid, out var reason));
        Assert.Equal((AuthMessageId.Failure1, (ushort)5, AuthFailureReason.HashUnusable), (id, tid, reason));
    }

    // The host's half, written out with the shared codecs: negotiate, challenge, reply (NULL group), success1.
    private static async Task AuthenticateAsync(RawHost host, ushort tid, DhchapSecret secret)
    {
        var buffer = new byte[AuthNegotiateMessage.Size];
        new AuthNegotiateMessage(tid, [DhchapHashFunction.Sha256], [DhchapDhGroup.Null]).Write(buffer);
        var (sent, _) = await host.ExecuteAsync(Send((uint)buffer.Length), buffer);
        Assert.True(sent.Status.IsSuccess);
        var (_, challengeData) = await host.ExecuteAsync(AuthenticationCommands.Receive(4096));
        Assert.Equal(4096, challengeData.Length);
        Assert.True(DhchapChallengeMessage.TryRead(challengeData, out var challenge, out _));
        Assert.Equal(tid, challenge.TransactionId);
        var r1 = DhchapCrypto.HostResponse(challenge.Hash, secret.Transform(RawHost.HostNqn), challenge.Challenge, challenge.SequenceNumber, tid, RawHost.HostNqn, TestTargets.Nqn);
        var reply = new DhchapReplyMessage(tid, r1, null, 0, []);
        var replyData = new byte[reply.Size];
        reply.Write(replyData);
        (sent, _) = await host.ExecuteAsync(Send((uint)replyData.Length), replyData);
        Assert.True(sent.Status.IsSuccess);
        var (_, success) = await host.ExecuteAsync(AuthenticationCommands.Receive(4096));
        Assert.True(DhchapSuccess1Message.TryRead(success, 32, out var s1, out _), "Success1 expected");
        Assert.Null(s1.Response);
    }
}
