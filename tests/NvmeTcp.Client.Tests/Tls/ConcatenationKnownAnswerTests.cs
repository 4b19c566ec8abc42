using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Client.Tests.Tls;

/// <summary>
/// Known answers for secure channel concatenation: the generated PSK, its digest, the TLS PSK and the NVMe1G identity
/// for fixed inputs, and the host response with SC_C in it. The expected values were computed with Python's
/// hmac/hashlib/base64 following the kernel's steps line by line (drivers/nvme/common/auth.c:
/// nvme_auth_generate_psk, nvme_auth_generate_digest, nvme_auth_derive_tls_psk with its one-block HKDF-Expand-Label
/// and "%02d %s" context; drivers/nvme/common/keyring.c: the "NVMe1G%02d %s %s %s" identity; drivers/nvme/host/auth.c:
/// SC_C as the SC byte of R1), not with this code.
/// </summary>
public sealed class ConcatenationKnownAnswerTests
{
    private const string Host = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000c0c0";
    private const string Subsystem = "nqn.2026-12.io.nvmetcp:concat";

    // An ffdhe2048-sized session key (the DH shared value itself, as chap->sess_key).
    private static readonly byte[] SessionKey = Enumerable.Range(0, 256).Select(i => (byte)((i * 7) + 3)).ToArray();

    [Theory]
    [InlineData(DhchapHashFunction.Sha256, NvmeTlsPskHash.Sha256,
        "217ff2e2c32388cdaa51ddcbe81975aa3d36f6c5ce4501b12e61669e4c30f70c",
        "gMIDul/0+fp4qZj1W1d7KdSWqQcK8k48e5jZTAvV6rY=",
        "eb0b3948d3422d9871674eae85d9aedee7af7a96260a222186c2811b19db0cbb")]
    [InlineData(DhchapHashFunction.Sha384, NvmeTlsPskHash.Sha384,
        "4c53bc4476509630d3fd378e10cfdd00244fb63f6a1182bbea548a9848cb4354c2a2b1664023d0c9a234e2a94086fb28",
        "AWecsJZJkSv/gKCd1aDq6PP7EKWa08qOC94MO61EkOoLr6dnx6KVef8JDJGlGMEk",
        "91211702b36e136814019a77ca890aba42fc5a56127bb8de7d663c46c07b419ec19077cf0b482cb6d90ad35cf0ade3d8")]
    public void GeneratedPskDigestTlsPskAndIdentityMatchTheKernelSteps(DhchapHashFunction hash, NvmeTlsPskHash cipher, string generated, string digest, string tlsPsk)
    {
        var length = NvmeTlsKeyDerivation.HashLength(cipher);
        var c1 = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var c2 = Enumerable.Range(0x80, length).Select(i => (byte)i).ToArray();

        // Each step on its own.
        var psk = NvmeTlsKeyDerivation.GeneratedPsk(cipher, SessionKey, c1, c2);
        Assert.Equal(generated, Convert.ToHexStringLower(psk));
        Assert.Equal(digest, NvmeTlsKeyDerivation.PskDigest(cipher, psk, Host, Subsystem));

        // And the whole derivation the client and the target call.
        var tls = NvmeTlsKeyDerivation.GeneratedTlsPsk(hash, SessionKey, c1, c2, Host, Subsystem);
        Assert.Equal($"NVMe1G{(int)cipher:d2} {Host} {Subsystem} {digest}", tls.Identity);
        Assert.Equal(cipher, tls.Hash);
        Assert.Equal(tlsPsk, Convert.ToHexStringLower(tls.CopyKey()));
        Assert.DoesNotContain(tlsPsk, tls.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Sha512AndTheNullGroupCannotConcatenate()
    {
        var c = new byte[64];
        Assert.False(NvmeTlsKeyDerivation.TryGetConcatenationHash(DhchapHashFunction.Sha512, out _));
        Assert.True(NvmeTlsKeyDerivation.TryGetConcatenationHash(DhchapHashFunction.Sha384, out var h) && h == NvmeTlsPskHash.Sha384);
        Assert.Throws<ArgumentException>(() => NvmeTlsKeyDerivation.GeneratedTlsPsk(DhchapHashFunction.Sha512, SessionKey, c, c, Host, Subsystem));
        Assert.Throws<ArgumentException>(() => NvmeTlsKeyDerivation.GeneratedTlsPsk(DhchapHashFunction.Sha256, [], c.AsSpan(0, 32), c.AsSpan(0, 32), Host, Subsystem));
        Assert.Throws<ArgumentException>(() => NvmeTlsKeyDerivation.GeneratedTlsPsk(DhchapHashFunction.Sha256, SessionKey, c, c, Host, Subsystem));
    }

    [Fact]
    public void HostResponseCarriesScC()
    {
        // python: hmac(bytes(range(32)), C1 || pack("<IH", 0x12345678, 0x0102) || SC || "HostHost" || NQNh || 00 || NQNc, sha256)
        var key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var c1 = Enumerable.Repeat((byte)0xA5, 32).ToArray();
        var withNewPsk = DhchapCrypto.HostResponse(DhchapHashFunction.Sha256, key, c1, 0x12345678, 0x0102, Host, Subsystem, AuthSecureChannel.NewTlsPsk);
        var without = DhchapCrypto.HostResponse(DhchapHashFunction.Sha256, key, c1, 0x12345678, 0x0102, Host, Subsystem);
        Assert.Equal("c21d91187779d0ed8675066f741030ac9558f0bd07d7171a0fffd31b51bcb558", Convert.ToHexStringLower(withNewPsk));
        Assert.Equal("b56f798bd3df3bbb93f02bd126c2d88c3ca74c062b6537b259bfe83ca6072a58", Convert.ToHexStringLower(without));
    }

    [Fact]
    public void NegotiateCarriesScCInByte6()
    {
        var m = new AuthNegotiateMessage(7, [DhchapHashFunction.Sha256], [DhchapDhGroup.Ffdhe2048], AuthSecureChannel.NewTlsPsk);
        var buffer = new byte[AuthNegotiateMessage.Size];
        m.Write(buffer);
        Assert.Equal(0x02, buffer[6]);
        Assert.True(AuthNegotiateMessage.TryRead(buffer, out var read, out _));
        Assert.Equal(AuthSecureChannel.NewTlsPsk, read.SecureChannel);
        buffer[6] = 0x03;
        Assert.True(AuthNegotiateMessage.TryRead(buffer, out read, out _));
        Assert.Equal(AuthSecureChannel.ReplaceTlsPsk, read.SecureChannel);
    }
}
