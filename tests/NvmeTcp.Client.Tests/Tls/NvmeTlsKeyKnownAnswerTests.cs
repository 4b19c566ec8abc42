using System.Security.Cryptography;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Client.Tests.Tls;

/// <summary>
/// Known answers for the NVMe/TCP TLS PSK interchange form and derivations. The expected values come from outside
/// this code: libnvme's own test vectors (test/psk.c: the interchange strings and the version-1 identities, whose
/// digests depend on the retained PSK), RFC 8448's TLS 1.3 trace (HKDF-Expand-Label), and values computed with
/// Python's hmac/hashlib/base64/zlib from the formulas of the NVMe/TCP specification as libnvme (derive_retained_key,
/// derive_psk_digest, derive_tls_key) and Linux (nvme_auth_generate_digest, nvme_auth_derive_tls_psk) implement them.
/// </summary>
public sealed class NvmeTlsKeyKnownAnswerTests
{
    // libnvme test/psk.c: its configured PSK and NQNs.
    private const string Host = "nqn.psk-test-host";
    private const string Subsystem = "nqn.psk-test-subsys";
    private static readonly byte[] Key32 = Convert.FromHexString("5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03");
    private static readonly byte[] Key48 = [.. Key32, .. Convert.FromHexString("FFC344BCF442E2DD6D8BC4870B5D5B03")];

    [Theory]
    // libnvme test/psk.c test_data_psk (export and import).
    [InlineData(NvmeTlsPskHash.None, 32, "NVMeTLSkey-1:00:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:")]
    [InlineData(NvmeTlsPskHash.Sha256, 32, "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:")]
    [InlineData(NvmeTlsPskHash.Sha384, 48, "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:")]
    public void InterchangeFormMatchesLibnvme(NvmeTlsPskHash hash, int length, string expected)
    {
        var raw = length == 32 ? Key32 : Key48;
        var key = NvmeTlsKey.Create(raw, hash);
        Assert.Equal(expected, key.ToInterchangeString());

        var parsed = NvmeTlsKey.Parse(expected);
        Assert.Equal(hash, parsed.Hash);
        Assert.Equal(length, parsed.Length);
        Assert.Equal(expected, parsed.ToInterchangeString());
    }

    [Theory]
    // libnvme test/psk.c test_data_identity (the RFC 8446 derivation, not --compat's).
    [InlineData(NvmeTlsPskHash.Sha256, "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=")]
    [InlineData(NvmeTlsPskHash.Sha384, "NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a")]
    public void Version1IdentityMatchesLibnvme(NvmeTlsPskHash hash, string expected)
    {
        var key = NvmeTlsKey.Create(hash == NvmeTlsPskHash.Sha256 ? Key32 : Key48, hash);
        Assert.Equal(expected, key.DeriveTlsPsk(Host, Subsystem, 1).Identity);
    }

    [Theory]
    // python: label(H, k, b"HostNQN", host, len(k)) with RFC 8446's HkdfLabel (see the class comment)
    [InlineData(NvmeTlsPskHash.Sha256, "073311dec37e219ff3acd43f130130c5bdd443c066e1cc3424e49030234ff7d5")]
    [InlineData(NvmeTlsPskHash.Sha384, "73973a1b51a9acdde29a0610ac6a3ef852cf45936cca6830a661d18f68502f1a4c7a8ecb37524e0b1f7087cb4d680ad9")]
    public void RetainedPskIsHkdfExpandLabelOfHostNqn(NvmeTlsPskHash hash, string expected)
    {
        var key = NvmeTlsKey.Create(hash == NvmeTlsPskHash.Sha256 ? Key32 : Key48, hash);
        Assert.Equal(expected, Convert.ToHexStringLower(key.DeriveRetainedPsk(Host)));
    }

    [Theory]
    // python: HKDF-Expand-Label(HKDF-Extract(0, retained), "nvme-tls-psk", identity (v0) or "hh digest" (v1), L)
    [InlineData(NvmeTlsPskHash.None, 32, 0, "NVMe0R01 nqn.psk-test-host nqn.psk-test-subsys", "ec85300ba827726bd3bc4fc07f3a34aec5fe7c8ccac05fefc2f021c74e0df9ef")]
    [InlineData(NvmeTlsPskHash.None, 32, 1, "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys quJVUJjp/BImWR0UQay/MjSfEgyAr6TyBOWybS/B404=", "a45d08ee4639c7570729bb3e57e905e466a49a15ece5401af906830c4d3bdb0b")]
    [InlineData(NvmeTlsPskHash.Sha256, 32, 0, "NVMe0R01 nqn.psk-test-host nqn.psk-test-subsys", "05c6503551ad136e6ee32e6eeb3f6d500b69701d84ec71e328f65c7f51566f68")]
    [InlineData(NvmeTlsPskHash.Sha256, 32, 1, "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=", "8fc3c0badfd4c0c66fa3ca33aadd0314f85536cc9bc47338b60f3e6e563786ca")]
    [InlineData(NvmeTlsPskHash.Sha384, 48, 0, "NVMe0R02 nqn.psk-test-host nqn.psk-test-subsys", "f42ba63824cdfe421914c582921f85b5b5b7e2d4df084caeedc9be20b212e8bb0fe8a23e9d59a1c8fc6449da4970a78d")]
    [InlineData(NvmeTlsPskHash.Sha384, 48, 1, "NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a", "a2b2f943f479fc682555cec89857c80ed004ce92f32a973d5764155bb7e36b17a85368a0666d250afac9282dda2e62ca")]
    [InlineData(NvmeTlsPskHash.None, 48, 0, "NVMe0R02 nqn.psk-test-host nqn.psk-test-subsys", "b5dd464067a9378ba2226d71f005d7ac90ed8696e4b2142084384365597201d33ba26f8aeeb529574d4267bd294a828e")]
    [InlineData(NvmeTlsPskHash.None, 48, 1, "NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys dyoPfSR5TBRaPMI5/FXUlJv2XMDtmQ7Q9Xrj89aBKbyRYkQeT5V1wNvIpnMDRTQW", "1569317890995e207ab4cf148bc53470561e148030cb019b1d87fb4bc5794a791ed5ee68676c952ce5f11f3786e900d4")]
    public void TlsPskAndIdentityMatchTheIndependentDerivation(NvmeTlsPskHash hash, int length, int version, string identity, string expected)
    {
        var key = NvmeTlsKey.Create(length == 32 ? Key32 : Key48, hash);
        var psk = key.DeriveTlsPsk(Host, Subsystem, version);
        Assert.Equal(identity, psk.Identity);
        Assert.Equal(length == 32 ? NvmeTlsPskHash.Sha256 : NvmeTlsPskHash.Sha384, psk.Hash);
        Assert.Equal(expected, Convert.ToHexStringLower(psk.CopyKey()));
    }

    [Fact]
    public void HkdfExpandLabelMatchesRfc8448()
    {
        // RFC 8448 section 3: early secret = HKDF-Extract(0, 0^32); "derived" = HKDF-Expand-Label(early, "derived", SHA-256(""), 32).
        var derived = NvmeTlsKeyDerivation.ExtractAndExpandLabel(NvmeTlsPskHash.Sha256, new byte[32], "derived", SHA256.HashData([]), 32);
        Assert.Equal("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba", Convert.ToHexStringLower(derived));
    }

    [Fact]
    public void GeneratedPskIsHmacOfTheChallenges()
    {
        // python: hmac.new(bytes(range(32)), b"\xaa"*32 + b"\x55"*32, hashlib.sha256).hexdigest()
        var psk = NvmeTlsKeyDerivation.GeneratedPsk(NvmeTlsPskHash.Sha256, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(),
            Enumerable.Repeat((byte)0xAA, 32).ToArray(), Enumerable.Repeat((byte)0x55, 32).ToArray());
        Assert.Equal("a3637581365b4608334ac37786daf0c4e81dcee9b4992ecc3c1bd251cfbe3a79", Convert.ToHexStringLower(psk));
    }

    [Fact]
    public void ConcatenationIdentityUsesG()
    {
        Assert.Equal("NVMe1G01 h s d=", NvmeTlsKeyDerivation.Identity(1, NvmeTlsPskHash.Sha256, "h", "s", "d=", generated: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => NvmeTlsKeyDerivation.Identity(0, NvmeTlsPskHash.Sha256, "h", "s", null, generated: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => NvmeTlsKeyDerivation.Identity(1, NvmeTlsPskHash.Sha256, "h", "s", null));
        Assert.Throws<ArgumentOutOfRangeException>(() => NvmeTlsKeyDerivation.Identity(2, NvmeTlsPskHash.Sha256, "h", "s", "d"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("DHHC-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:")]
    [InlineData("NVMeTLSkey-2:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:")]
    [InlineData("NVMeTLSkey-1:03:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:")]
    [InlineData("NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:")] // a 32-byte key with hh 02
    [InlineData("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:")] // 48 with hh 01
    [InlineData("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ")] // no trailing colon
    [InlineData("NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrA:")] // CRC off by one character
    [InlineData("NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:")] // 32 bytes, no CRC
    [InlineData("NVMeTLSkey-1:01:!!!!:")]
    [InlineData("NVMeTLSkey-1:xx:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:")]
    public void MalformedKeysAreRefusedWithoutQuotingThem(string? text)
    {
        Assert.False(NvmeTlsKey.TryParse(text, out var key, out var error));
        Assert.Null(key);
        Assert.NotNull(error);
        if (!string.IsNullOrEmpty(text))
        {
            Assert.DoesNotContain(text, error, StringComparison.Ordinal);
            Assert.DoesNotContain("VRLbtn", error, StringComparison.Ordinal);
            var ex = Assert.Throws<FormatException>(() => NvmeTlsKey.Parse(text));
            Assert.DoesNotContain("VRLbtn", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CreateRefusesLengthsThatDoNotFitTheHash()
    {
        Assert.Throws<ArgumentException>(() => NvmeTlsKey.Create(Key48, NvmeTlsPskHash.Sha256));
        Assert.Throws<ArgumentException>(() => NvmeTlsKey.Create(Key32, NvmeTlsPskHash.Sha384));
        Assert.Throws<ArgumentException>(() => NvmeTlsKey.Create(new byte[64], NvmeTlsPskHash.None));
        Assert.Throws<ArgumentException>(() => NvmeTlsKey.Create(Key32, (NvmeTlsPskHash)3));
    }

    [Fact]
    public void GeneratedKeysHaveTheHashLengthAndRoundTrip()
    {
        var a = NvmeTlsKey.Generate(NvmeTlsPskHash.Sha384);
        var b = NvmeTlsKey.Generate(NvmeTlsPskHash.Sha384);
        Assert.Equal(48, a.Length);
        Assert.NotEqual(a.ToInterchangeString(), b.ToInterchangeString());
        Assert.Equal(a.ToInterchangeString(), NvmeTlsKey.Parse(a.ToInterchangeString()).ToInterchangeString());
    }

    [Fact]
    public void TooLongAContextIsRefusedAsLinuxDoes()
    {
        // A version-0 identity is the HKDF context: two 223-byte NQNs do not fit its 255 bytes.
        var longNqn = "nqn.2014-08.org.nvmexpress:" + new string('x', 196);
        var key = NvmeTlsKey.Create(Key32, NvmeTlsPskHash.Sha256);
        Assert.Throws<ArgumentException>(() => key.DeriveTlsPsk(longNqn, longNqn, 0));
        Assert.StartsWith("NVMe1R01 ", key.DeriveTlsPsk(longNqn, longNqn, 1).Identity, StringComparison.Ordinal);
    }

    [Fact]
    public void ToStringNeverShowsTheKey()
    {
        var key = NvmeTlsKey.Create(Key48, NvmeTlsPskHash.Sha384);
        var psk = key.DeriveTlsPsk(Host, Subsystem, 1);
        var secrets = new[]
        {
            key.ToInterchangeString()[16..], Convert.ToBase64String(Key48), Convert.ToHexString(Key48), Convert.ToHexStringLower(Key48),
            Convert.ToBase64String(psk.CopyKey()), Convert.ToHexStringLower(psk.CopyKey()), Convert.ToHexString(psk.CopyKey()),
        };
        foreach (var text in new[] { key.ToString(), psk.ToString() })
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret[..16], text, StringComparison.Ordinal);
            }
        }

        Assert.Equal("NVMeTLSkey-1:02:<48-byte key>", key.ToString());
        Assert.Equal(psk.Identity + " <48-byte TLS PSK>", psk.ToString());
    }

    [Fact]
    public void SameAsComparesIdentityAndKey()
    {
        var key = NvmeTlsKey.Create(Key32, NvmeTlsPskHash.Sha256);
        Assert.True(key.DeriveTlsPsk(Host, Subsystem, 1).SameAs(key.DeriveTlsPsk(Host, Subsystem, 1)));
        Assert.False(key.DeriveTlsPsk(Host, Subsystem, 1).SameAs(key.DeriveTlsPsk(Host, Subsystem, 0)));
        Assert.False(key.DeriveTlsPsk(Host, Subsystem, 1).SameAs(key.DeriveTlsPsk(Host + "x", Subsystem, 1)));
    }
}
