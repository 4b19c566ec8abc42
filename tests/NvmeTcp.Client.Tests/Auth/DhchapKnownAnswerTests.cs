using System.Text;
using NvmeTcp.Protocol.Auth;

namespace NvmeTcp.Client.Tests.Auth;

/// <summary>
/// Known answers for the DH-HMAC-CHAP secret form and computations. The expected values come from outside this code:
/// nvme-cli's documented example secret (a valid CRC-32), and values computed with Python's hmac/hashlib/zlib from the
/// formulas in NVMe Base 2.0 and Linux's drivers/nvme/common/auth.c (the script is in the comment of each test).
/// </summary>
public sealed class DhchapKnownAnswerTests
{
    private const string HostNqn = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";
    private const string SubsystemNqn = "nqn.2024-01.io.nvmetcp:kat";

    private static byte[] Sequence(int n) => Enumerable.Range(0, n).Select(i => (byte)i).ToArray();

    [Fact]
    public void NvmeCliDocumentedExampleSecretParses()
    {
        // From nvme-cli's documentation of --dhchap-secret; its CRC-32 is valid.
        var secret = DhchapSecret.Parse("DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:");
        Assert.Equal(32, secret.Length);
        Assert.Equal(0, secret.TransformHash);
    }

    [Fact]
    public void InterchangeFormMatchesBase64OfKeyAndLittleEndianCrc32()
    {
        // python: base64.b64encode(bytes(range(32)) + struct.pack("<I", zlib.crc32(bytes(range(32)))))
        var secret = DhchapSecret.Create(Sequence(32), 0);
        Assert.Equal("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", secret.ToInterchangeString());
        Assert.Equal(0x91267e8au, secret.Crc);
        Assert.Equal(secret.ToInterchangeString(), DhchapSecret.Parse(secret.ToInterchangeString()).ToInterchangeString());
    }

    [Theory]
    // python: hmac.new(bytes(range(n)), (nqn + "NVMe-over-Fabrics").encode(), hashlib.shaX).hexdigest()
    [InlineData(1, 32, "6c7b81cb2a746f74454b1d7140f3153b51ca99459fcef7a86a17f27695b87cd8")]
    [InlineData(2, 48, "c916f39d7bd438ac94ce98f12f22202c6bc43b1b1bf7f081a36fd76d11b4b1730726ff75f32576b5749cfa06d1a7b4f5")]
    [InlineData(3, 64, "5da79d3888c5ddac507b097840c4c8af8c7099e3f32fbf216209d24103f54bcf22284e7034bb579a8997475f50aec0bff3ccad184563779e81f48c405071b970")]
    public void KeyTransformationIsHmacOfNqnAndLabel(byte hh, int length, string expected)
    {
        var secret = DhchapSecret.Create(Sequence(length), hh);
        Assert.Equal(expected, Convert.ToHexStringLower(secret.Transform(HostNqn)));
    }

    [Fact]
    public void UntransformedKeyIsUsedAsItIs()
    {
        Assert.Equal(Sequence(48), DhchapSecret.Create(Sequence(48), 0).Transform(HostNqn));
    }

    [Fact]
    public void HostResponseMatchesTheSpecFormula()
    {
        // python: hmac(transform256, C1 || pack("<IH", 0x12345678, 0x0102) || 00 || "HostHost" || NQNh || 00 || NQNc, sha256)
        var key = DhchapSecret.Create(Sequence(32), 1).Transform(HostNqn);
        var c1 = Enumerable.Repeat((byte)0xA5, 32).ToArray();
        var r1 = DhchapCrypto.HostResponse(DhchapHashFunction.Sha256, key, c1, 0x12345678, 0x0102, HostNqn, SubsystemNqn);
        Assert.Equal("049c29f462d4d4733d536f6a593f59ec6653a4c0de6b08bd0287830dd8cc3db2", Convert.ToHexStringLower(r1));
    }

    [Fact]
    public void ControllerResponseMatchesTheSpecFormula()
    {
        // python: hmac(bytes(range(32)), C2 || pack("<IH", 0x9abcdef0, 0x0102) || 00 || "Controller" || NQNc || 00 || NQNh, sha256)
        var c2 = Enumerable.Repeat((byte)0xA5, 32).ToArray();
        var r2 = DhchapCrypto.ControllerResponse(DhchapHashFunction.Sha256, Sequence(32), c2, 0x9abcdef0, 0x0102, HostNqn, SubsystemNqn);
        Assert.Equal("061747425d5f7cb2efa314ac32d05bf1dcf00946dcc452bbe6db0c186016eaaf", Convert.ToHexStringLower(r2));
    }

    [Fact]
    public void AugmentedChallengeIsHmacKeyedWithTheHashedSessionKey()
    {
        // python: hmac.new(sha256(bytes([7]*256)).digest(), bytes([0xA5]*32), sha256)
        var aug = DhchapCrypto.AugmentChallenge(DhchapHashFunction.Sha256, Enumerable.Repeat((byte)7, 256).ToArray(), Enumerable.Repeat((byte)0xA5, 32).ToArray());
        Assert.Equal("d6507a4e70db31a582be7debdad3575c1e8ca97c300ad800a7ef1f8006063e1e", Convert.ToHexStringLower(aug));
    }

    [Theory]
    [InlineData(DhchapDhGroup.Ffdhe2048)]
    [InlineData(DhchapDhGroup.Ffdhe3072)]
    [InlineData(DhchapDhGroup.Ffdhe4096)]
    [InlineData(DhchapDhGroup.Ffdhe6144)]
    [InlineData(DhchapDhGroup.Ffdhe8192)]
    public void DiffieHellmanSidesAgreeOnAValueOfThePrimesSize(DhchapDhGroup group)
    {
        var host = DhchapDhKey.Generate(group);
        var controller = DhchapDhKey.Generate(group);
        var size = DhchapIdentifiers.DhValueLength(group);
        Assert.Equal(size, host.PublicValue.Length);
        Assert.True(host.TryComputeSharedSecret(controller.PublicValue, out var a));
        Assert.True(controller.TryComputeSharedSecret(host.PublicValue, out var b));
        Assert.Equal(size, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(host.PublicValue, controller.PublicValue);
    }

    [Fact]
    public void DiffieHellmanRefusesDegenerateAndMisSizedValues()
    {
        var key = DhchapDhKey.Generate(DhchapDhGroup.Ffdhe2048);
        var one = new byte[256];
        one[^1] = 1;
        Assert.False(key.TryComputeSharedSecret(one, out _));
        Assert.False(key.TryComputeSharedSecret(new byte[256], out _));
        Assert.False(key.TryComputeSharedSecret(Enumerable.Repeat((byte)0xFF, 256).ToArray(), out _));
        Assert.False(key.TryComputeSharedSecret(new byte[255], out _));
    }

    [Fact]
    public void Ffdhe2048GeneratorPowerOneIsTwoSoTheGroupIsRfc7919s()
    {
        // RFC 7919 appendix A.1: ffdhe2048 p begins FFFFFFFF FFFFFFFF ADF85458 A2BB4A9A and ends FFFFFFFF FFFFFFFF;
        // a peer value of 2 (the generator) gives 2^x, so its shared value equals the key's own public value.
        var key = DhchapDhKey.Generate(DhchapDhGroup.Ffdhe2048);
        var two = new byte[256];
        two[^1] = 2;
        Assert.True(key.TryComputeSharedSecret(two, out var shared));
        Assert.Equal(key.PublicValue, shared);
        var p = Org.BouncyCastle.Crypto.Agreement.DHStandardGroups.rfc7919_ffdhe2048.P.ToByteArrayUnsigned();
        Assert.Equal("FFFFFFFFFFFFFFFFADF85458A2BB4A9A", Convert.ToHexString(p, 0, 16));
        Assert.Equal("FFFFFFFFFFFFFFFF", Convert.ToHexString(p, p.Length - 8, 8));
    }

    [Theory]
    [InlineData("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:", "CRC")]
    [InlineData("DHHC-1:04:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", "(hh)")]
    [InlineData("DHHC-1:02:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", "48 bytes")]
    [InlineData("DHHC-2:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:", "form")]
    [InlineData("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+K:", "bytes")]
    [InlineData("DHHC-1:00:!!!!:", "base64")]
    public void MalformedSecretsAreRefusedWithoutQuotingThem(string text, string reason)
    {
        Assert.False(DhchapSecret.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.DoesNotContain("AAEC", error, StringComparison.Ordinal);
        var e = Assert.Throws<FormatException>(() => DhchapSecret.Parse(text));
        Assert.DoesNotContain("AAEC", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToStringNeverShowsTheKey()
    {
        var secret = DhchapSecret.Create(Sequence(32), 1);
        var text = secret.ToString();
        Assert.DoesNotContain(secret.ToInterchangeString()[10..^1], text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(Sequence(32)), text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("DHHC-1:01:<32-byte secret>", text);
        Assert.DoesNotContain(Encoding.ASCII.GetString(Sequence(32)), text, StringComparison.Ordinal);
    }
}
