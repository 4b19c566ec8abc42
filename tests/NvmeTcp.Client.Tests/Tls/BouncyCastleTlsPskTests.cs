using System.Security.Cryptography;
using System.Text;
using NvmeTcp.Protocol.Tls;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace NvmeTcp.Client.Tests.Tls;

/// <summary>
/// Pins what the TLS transport (issue 19, not built yet) will rely on in BouncyCastle.Cryptography 2.7: a TLS 1.3
/// handshake with an external PSK only (no certificate on either side), TLS 1.3 alone, the cipher suite of the PSK's
/// hash (TLS_AES_128_GCM_SHA256 / TLS_AES_256_GCM_SHA384, as tlshd negotiates for 01/02 keys), the server choosing
/// the PSK by identity, and a wrong key or unknown identity failing the handshake. Client and server run in
/// BouncyCastle's non-blocking mode, their records passed by hand: no sockets, no threads.
/// </summary>
public sealed class BouncyCastleTlsPskTests
{
    private static readonly byte[] Configured = Convert.FromHexString("5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03");

    private static NvmeTlsPsk Psk(NvmeTlsPskHash hash, string host = "nqn.psk-test-host")
    {
        var key = hash == NvmeTlsPskHash.Sha256 ? Configured : [.. Configured, .. Configured.AsSpan(0, 16)];
        return NvmeTlsKey.Create(key, hash).DeriveTlsPsk(host, "nqn.psk-test-subsys", 1);
    }

    [Theory]
    [InlineData(NvmeTlsPskHash.Sha256, CipherSuite.TLS_AES_128_GCM_SHA256)]
    [InlineData(NvmeTlsPskHash.Sha384, CipherSuite.TLS_AES_256_GCM_SHA384)]
    public void Tls13_external_psk_handshake_selects_the_psks_suite_and_moves_data(NvmeTlsPskHash hash, int suite)
    {
        var psk = Psk(hash);
        var (client, server, peer) = Start(psk, [psk]);
        Handshake(client, server);
        Assert.Equal(suite, peer.SelectedSuite);
        Assert.Equal(psk.Identity, peer.SelectedIdentity);

        var data = RandomNumberGenerator.GetBytes(4096);
        client.WriteApplicationData(data, 0, data.Length);
        Pass(client, server);
        var received = new byte[data.Length];
        Assert.Equal(data.Length, server.GetAvailableInputBytes());
        server.ReadInput(received, 0, received.Length);
        Assert.Equal(data, received);
    }

    [Fact]
    public void The_client_offers_psk_dhe_ke_only()
    {
        TlsClient client = new PskClient(new BcTlsCrypto(new SecureRandom()), Psk(NvmeTlsPskHash.Sha256));
        Assert.Equal([PskKeyExchangeMode.psk_dhe_ke], client.GetPskKeyExchangeModes());
    }

    [Fact]
    public void A_wrong_key_fails_the_handshake_with_a_fatal_alert()
    {
        var psk = Psk(NvmeTlsPskHash.Sha256);
        var wrong = new NvmeTlsPsk(psk.Identity, NvmeTlsPskHash.Sha256, new byte[32]);
        var (client, server, _) = Start(psk, [wrong]);
        var alert = Assert.Throws<TlsFatalAlert>(() => Handshake(client, server));
        Assert.Equal(AlertDescription.decrypt_error, alert.AlertDescription);
    }

    [Fact]
    public void An_unknown_identity_fails_the_handshake()
    {
        var (client, server, _) = Start(Psk(NvmeTlsPskHash.Sha256, "nqn.other-host"), [Psk(NvmeTlsPskHash.Sha256)]);
        Assert.ThrowsAny<TlsException>(() => Handshake(client, server));
    }

    private static (TlsClientProtocol Client, TlsServerProtocol Server, PskServer Peer) Start(NvmeTlsPsk clientPsk, NvmeTlsPsk[] serverPsks)
    {
        var crypto = new BcTlsCrypto(new SecureRandom());
        var client = new TlsClientProtocol();
        var server = new TlsServerProtocol();
        var peer = new PskServer(crypto, serverPsks);
        client.Connect(new PskClient(crypto, clientPsk));
        server.Accept(peer);
        return (client, server, peer);
    }

    private static void Handshake(TlsClientProtocol client, TlsServerProtocol server)
    {
        // A TLS 1.3 PSK handshake takes two flights each way; ten rounds bound the loop.
        for (var round = 0; round < 10 && (client.IsHandshaking || server.IsHandshaking); round++)
        {
            Pass(client, server);
            Pass(server, client);
        }

        Assert.False(client.IsHandshaking || server.IsHandshaking, "the handshake did not finish in ten rounds");
    }

    private static void Pass(TlsProtocol from, TlsProtocol to)
    {
        var length = from.GetAvailableOutputBytes();
        if (length > 0)
        {
            var records = new byte[length];
            from.ReadOutput(records, 0, length);
            to.OfferInput(records);
        }
    }

    private static int Suite(NvmeTlsPskHash hash) =>
        hash == NvmeTlsPskHash.Sha256 ? CipherSuite.TLS_AES_128_GCM_SHA256 : CipherSuite.TLS_AES_256_GCM_SHA384;

    private static int Prf(NvmeTlsPskHash hash) =>
        hash == NvmeTlsPskHash.Sha256 ? PrfAlgorithm.tls13_hkdf_sha256 : PrfAlgorithm.tls13_hkdf_sha384;

    private static BasicTlsPskExternal External(TlsCrypto crypto, NvmeTlsPsk psk) =>
        new(Encoding.UTF8.GetBytes(psk.Identity), crypto.CreateSecret(psk.CopyKey()), Prf(psk.Hash));

    private sealed class PskClient(TlsCrypto crypto, NvmeTlsPsk psk) : AbstractTlsClient(crypto)
    {
        public override IList<TlsPskExternal> GetExternalPsks() => [External(Crypto, psk)];

        public override TlsAuthentication GetAuthentication() => throw new TlsFatalAlert(AlertDescription.internal_error);

        protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.TLSv13.Only();

        protected override int[] GetSupportedCipherSuites() => [Suite(psk.Hash)];
    }

    private sealed class PskServer(TlsCrypto crypto, NvmeTlsPsk[] psks) : AbstractTlsServer(crypto)
    {
        public int SelectedSuite { get; private set; } = -1;

        public string? SelectedIdentity { get; private set; }

        public override TlsCredentials GetCredentials() => null!;

        public override TlsPskExternal? GetExternalPsk(IList<PskIdentity> identities)
        {
            foreach (var offered in identities)
            {
                var text = Encoding.UTF8.GetString(offered.Identity);
                if (psks.FirstOrDefault(p => p.Identity == text) is { } psk)
                {
                    SelectedIdentity = text;
                    return External(Crypto, psk);
                }
            }

            return null;
        }

        public override int GetSelectedCipherSuite() => SelectedSuite = base.GetSelectedCipherSuite();

        protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.TLSv13.Only();

        protected override int[] GetSupportedCipherSuites() => [.. psks.Select(p => Suite(p.Hash)).Distinct()];
    }
}
