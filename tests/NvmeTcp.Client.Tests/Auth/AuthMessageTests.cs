using NvmeTcp.Protocol.Auth;

namespace NvmeTcp.Client.Tests.Auth;

/// <summary>The authentication message codecs: golden layouts (Linux's structs) and every refusal.</summary>
public sealed class AuthMessageTests
{
    [Fact]
    public void NegotiateHasLinuxLayout()
    {
        var m = new AuthNegotiateMessage(0x0203, [DhchapHashFunction.Sha256, DhchapHashFunction.Sha384, DhchapHashFunction.Sha512],
            [DhchapDhGroup.Null, DhchapDhGroup.Ffdhe2048, DhchapDhGroup.Ffdhe3072, DhchapDhGroup.Ffdhe4096, DhchapDhGroup.Ffdhe6144, DhchapDhGroup.Ffdhe8192]);
        var buffer = new byte[AuthNegotiateMessage.Size];
        Assert.Equal(72, m.Write(buffer));
        Assert.Equal("00000000030200010100030601020300", Convert.ToHexString(buffer, 0, 16));
        Assert.Equal("000102030405", Convert.ToHexString(buffer, 12 + 30, 6));
        Assert.True(AuthNegotiateMessage.TryRead(buffer, out var read, out _));
        Assert.Equal(m.Hashes, read.Hashes);
        Assert.Equal(m.Groups, read.Groups);
        Assert.Equal(0x0203, read.TransactionId);
    }

    [Fact]
    public void NegotiateRefusals()
    {
        var buffer = new byte[AuthNegotiateMessage.Size];
        new AuthNegotiateMessage(1, [DhchapHashFunction.Sha256], [DhchapDhGroup.Null]).Write(buffer);
        Assert.False(AuthNegotiateMessage.TryRead(buffer.AsSpan(0, 71), out _, out var r));
        Assert.Equal(AuthFailureReason.IncorrectPayload, r);
        var napd = (byte[])buffer.Clone();
        napd[7] = 2;
        Assert.False(AuthNegotiateMessage.TryRead(napd, out _, out r));
        Assert.Equal(AuthFailureReason.ProtocolUnusable, r);
        var halen = (byte[])buffer.Clone();
        halen[10] = 31;
        Assert.False(AuthNegotiateMessage.TryRead(halen, out _, out r));
        Assert.Equal(AuthFailureReason.IncorrectPayload, r);
        var type = (byte[])buffer.Clone();
        type[0] = 1;
        Assert.False(AuthNegotiateMessage.TryRead(type, out _, out r));
        Assert.Equal(AuthFailureReason.IncorrectMessage, r);
    }

    [Fact]
    public void ChallengeRoundTripsAndChecksLengthsBeforeAllocating()
    {
        var c1 = Enumerable.Repeat((byte)0x11, 48).ToArray();
        var dh = Enumerable.Repeat((byte)0x22, 256).ToArray();
        var m = new DhchapChallengeMessage(7, DhchapHashFunction.Sha384, DhchapDhGroup.Ffdhe2048, 0xAABBCCDD, c1, dh);
        var buffer = new byte[4096];
        var size = m.Write(buffer);
        Assert.Equal(16 + 48 + 256, size);
        Assert.Equal("010100000700300002010001DDCCBBAA", Convert.ToHexString(buffer, 0, 16));
        Assert.True(DhchapChallengeMessage.TryRead(buffer, out var read, out _));
        Assert.Equal(c1, read.Challenge);
        Assert.Equal(dh, read.DhValue);
        Assert.Equal(0xAABBCCDDu, read.SequenceNumber);

        // DHVLEN claims more than arrived.
        Assert.False(DhchapChallengeMessage.TryRead(buffer.AsSpan(0, size - 1), out _, out var r));
        Assert.Equal(AuthFailureReason.IncorrectPayload, r);
        var huge = (byte[])buffer.Clone();
        huge[10] = 0xFF;
        huge[11] = 0xFF;
        Assert.False(DhchapChallengeMessage.TryRead(huge, out _, out r));
        Assert.Equal(AuthFailureReason.IncorrectPayload, r);

        var badHash = (byte[])buffer.Clone();
        badHash[8] = 9;
        Assert.False(DhchapChallengeMessage.TryRead(badHash, out _, out r));
        Assert.Equal(AuthFailureReason.HashUnusable, r);
        var badHl = (byte[])buffer.Clone();
        badHl[6] = 32;
        Assert.False(DhchapChallengeMessage.TryRead(badHl, out _, out r));
        Assert.Equal(AuthFailureReason.HashUnusable, r);
        var badGroup = (byte[])buffer.Clone();
        badGroup[9] = 6;
        Assert.False(DhchapChallengeMessage.TryRead(badGroup, out _, out r));
        Assert.Equal(AuthFailureReason.DhGroupUnusable, r);
        var wrongSize = (byte[])buffer.Clone();
        wrongSize[9] = (byte)DhchapDhGroup.Ffdhe3072;
        Assert.False(DhchapChallengeMessage.TryRead(wrongSize, out _, out r));
        Assert.Equal(AuthFailureReason.IncorrectPayload, r);
        var nullWithValue = (byte[])buffer.Clone();
        nullWithValue[9] = 0;
        Assert.False(DhchapChallengeMessage.TryRead(nullWithValue, out _, out r));
        Assert.Equal(AuthFailureReason.IncorrectPayload, r);
    }

    [Fact]
    public void ReplyCarriesC2FieldEvenWhenUnidirectional()
    {
        var r1 = Enumerable.Repeat((byte)0x33, 32).ToArray();
        var uni = new DhchapReplyMessage(3, r1, null, 0, []);
        var buffer = new byte[4096];
        Assert.Equal(16 + 64, uni.Write(buffer));
        Assert.Equal(0, buffer[8]);
        Assert.True(DhchapReplyMessage.TryRead(buffer.AsSpan(0, 80), 32, 0, out var read, out _));
        Assert.Null(read.Challenge);
        Assert.Equal(r1, read.Response);

        var c2 = Enumerable.Repeat((byte)0x44, 32).ToArray();
        var bi = new DhchapReplyMessage(3, r1, c2, 99, new byte[256]);
        Assert.Equal(16 + 64 + 256, bi.Write(buffer));
        Assert.True(DhchapReplyMessage.TryRead(buffer.AsSpan(0, 336), 32, 256, out read, out _));
        Assert.Equal(c2, read.Challenge);
        Assert.Equal(99u, read.SequenceNumber);
        Assert.False(DhchapReplyMessage.TryRead(buffer.AsSpan(0, 335), 32, 256, out _, out var r));
        Assert.Equal(AuthFailureReason.IncorrectPayload, r);
        Assert.False(DhchapReplyMessage.TryRead(buffer.AsSpan(0, 336), 48, 256, out _, out r));
        Assert.Equal(AuthFailureReason.HashUnusable, r);
        Assert.False(DhchapReplyMessage.TryRead(buffer.AsSpan(0, 336), 32, 384, out _, out r));
        Assert.Equal(AuthFailureReason.IncorrectPayload, r);
    }

    [Fact]
    public void Success1AndSuccess2AndFailure()
    {
        var buffer = new byte[128];
        var r2 = Enumerable.Repeat((byte)0x55, 64).ToArray();
        Assert.Equal(80, new DhchapSuccess1Message(5, 64, r2).Write(buffer));
        Assert.True(DhchapSuccess1Message.TryRead(buffer.AsSpan(0, 80), 64, out var s1, out _));
        Assert.Equal(r2, s1.Response);
        Assert.False(DhchapSuccess1Message.TryRead(buffer.AsSpan(0, 79), 64, out _, out var r));
        Assert.Equal(AuthFailureReason.IncorrectPayload, r);
        Assert.False(DhchapSuccess1Message.TryRead(buffer.AsSpan(0, 80), 32, out _, out r));
        Assert.Equal(AuthFailureReason.HashUnusable, r);

        Assert.Equal(16, DhchapSuccess2Message.Write(buffer, 5));
        Assert.Equal("0104000005000000", Convert.ToHexString(buffer, 0, 8));

        Assert.Equal(8, AuthFailureMessage.Write(buffer, fromController: true, 5, AuthFailureReason.Failed));
        Assert.Equal("00F1000005000101", Convert.ToHexString(buffer, 0, 8));
        Assert.True(AuthFailureMessage.TryRead(buffer.AsSpan(0, 8), out var id, out var tid, out var reason));
        Assert.Equal((AuthMessageId.Failure1, (ushort)5, AuthFailureReason.Failed), (id, tid, reason));
        Assert.False(AuthFailureMessage.TryRead(buffer.AsSpan(0, 7), out _, out _, out _));
    }
}
