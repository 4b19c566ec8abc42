using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using NvmeTcp.Client.Transport;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Client.Tests.Tls;

/// <summary>
/// The TLS session under a queue (<see cref="TlsPskChannel"/>, <see cref="TlsTransport"/>) over loopback sockets: the
/// handshake, data both ways at once, gathered sends, a wrong key and an unknown identity mapped to typed errors, and
/// a hostile record stream failing the connection promptly.
/// </summary>
public sealed class TlsPskChannelTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private static readonly byte[] Configured = Convert.FromHexString("5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03");

    private static NvmeTlsPsk Psk(NvmeTlsPskHash hash, int version = 1, string host = "nqn.psk-test-host")
    {
        var key = hash == NvmeTlsPskHash.Sha256 ? Configured : [.. Configured, .. Configured.AsSpan(0, 16)];
        return NvmeTlsKey.Create(key, hash).DeriveTlsPsk(host, "nqn.psk-test-subsys", version);
    }

    // The last two: one end seals with .NET's AesGcm, the other opens with BouncyCastle's GCM, and back.
    [Theory]
    [InlineData(NvmeTlsPskHash.Sha256, "TLS_AES_128_GCM_SHA256", true, true)]
    [InlineData(NvmeTlsPskHash.Sha384, "TLS_AES_256_GCM_SHA384", true, true)]
    [InlineData(NvmeTlsPskHash.Sha256, "TLS_AES_128_GCM_SHA256", false, false)]
    [InlineData(NvmeTlsPskHash.Sha256, "TLS_AES_128_GCM_SHA256", true, false)]
    [InlineData(NvmeTlsPskHash.Sha384, "TLS_AES_256_GCM_SHA384", false, true)]
    public async Task Handshake_selects_the_psks_suite_and_data_flows_both_ways_at_once(NvmeTlsPskHash hash, string suite, bool clientAesGcm, bool serverAesGcm)
    {
        var psk = Psk(hash);
        var (client, server) = await PairAsync(psk, id => id == psk.Identity ? psk : null, clientAesGcm, serverAesGcm);
        using (client)
        using (server)
        {
            Assert.Equal(suite, client.CipherSuiteName);
            Assert.Equal(suite, server.CipherSuiteName);
            Assert.Equal(psk.Identity, server.Identity);

            using var timeout = new CancellationTokenSource(Bound);
            var up = RandomNumberGenerator.GetBytes(200_000);
            var down = RandomNumberGenerator.GetBytes(150_000);
            var sendUp = client.SendAsync(up.AsMemory(0, 8), up.AsMemory(8, up.Length - 12), up.AsMemory(up.Length - 4), timeout.Token).AsTask();
            var sendDown = server.SendAsync(down, timeout.Token).AsTask();
            var receivedUp = ReceiveExactlyAsync(server, up.Length, timeout.Token);
            var receivedDown = ReceiveExactlyAsync(client, down.Length, timeout.Token);
            await Task.WhenAll(sendUp, sendDown, receivedUp, receivedDown);
            Assert.Equal(up, await receivedUp);
            Assert.Equal(down, await receivedDown);
        }
    }

    // A PDU's header, data and digest leave as full records (RFC 8446 5.2: application_data, the plaintext, one byte of
    // inner content type and a 16-byte tag): 4 KiB of data as one record of 4,124 bytes rather than three; 128 KiB as
    // eight full records (the header shares the first with data) and one with the data's last 24 bytes and the digest.
    [Theory]
    [InlineData(4096, new[] { 4124 })]
    [InlineData(131072, new[] { 16384, 16384, 16384, 16384, 16384, 16384, 16384, 16384, 28 })]
    public async Task A_pdus_pieces_leave_as_full_records(int dataLength, int[] plaintexts)
    {
        var psk = Psk(NvmeTlsPskHash.Sha256);
        var (client, server) = await PairAsync(psk, _ => psk);
        using (client)
        using (server)
        {
            using var timeout = new CancellationTokenSource(Bound);
            await client.SendAsync(new byte[24], RandomNumberGenerator.GetBytes(dataLength), new byte[4], timeout.Token);

            // The wire under the server's session.
            var wire = new byte[plaintexts.Sum(p => 5 + p + 17)];
            var received = 0;
            for (var reads = 0; received < wire.Length && reads < 10_000; reads++)
            {
                var read = await server.Socket.ReceiveAsync(wire.AsMemory(received), timeout.Token);
                Assert.NotEqual(0, read);
                received += read;
            }

            var lengths = new List<int>();
            for (var at = 0; at < wire.Length; at += 5 + ((wire[at + 3] << 8) | wire[at + 4]))
            {
                Assert.Equal(23, wire[at]);
                lengths.Add((wire[at + 3] << 8) | wire[at + 4]);
            }

            Assert.Equal(plaintexts.Select(p => p + 17), lengths);
        }
    }

    [Fact]
    public async Task A_large_pdu_sent_in_pieces_arrives_whole()
    {
        var psk = Psk(NvmeTlsPskHash.Sha384);
        var (client, server) = await PairAsync(psk, _ => psk);
        using (client)
        using (server)
        {
            using var timeout = new CancellationTokenSource(Bound);
            var sizes = new[] { (24, 131_072, 4), (8, 16_384, 0), (16_383, 16_385, 1), (0, 300_001, 0), (72, 0, 0) };
            var expected = new List<byte>();
            var sends = new List<(byte[], byte[], byte[])>();
            foreach (var (a, b, c) in sizes)
            {
                var pieces = (RandomNumberGenerator.GetBytes(a), RandomNumberGenerator.GetBytes(b), RandomNumberGenerator.GetBytes(c));
                sends.Add(pieces);
                expected.AddRange(pieces.Item1);
                expected.AddRange(pieces.Item2);
                expected.AddRange(pieces.Item3);
            }

            var receive = ReceiveExactlyAsync(server, expected.Count, timeout.Token);
            foreach (var (a, b, c) in sends)
            {
                await client.SendAsync(a, b, c, timeout.Token);
            }

            Assert.Equal(expected.ToArray(), await receive);
        }
    }

    [Fact]
    public async Task A_wrong_key_is_KeyRejected_and_names_no_key()
    {
        var psk = Psk(NvmeTlsPskHash.Sha256);
        var wrong = new NvmeTlsPsk(psk.Identity, NvmeTlsPskHash.Sha256, new byte[32]);
        var error = await ConnectTransportAsync(psk, _ => wrong);
        Assert.Equal(NvmeTlsFailure.KeyRejected, error.Failure);
        Assert.Equal("decrypt_error", error.Alert);
        Assert.False(error.IsTransient);
        Assert.Contains(psk.Identity, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(psk.CopyKey()), error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_unknown_identity_is_IdentityUnknown()
    {
        var error = await ConnectTransportAsync(Psk(NvmeTlsPskHash.Sha256), _ => null);
        Assert.Equal(NvmeTlsFailure.IdentityUnknown, error.Failure);
    }

    [Fact]
    public async Task A_plain_nvme_tcp_answer_is_NotOffered()
    {
        // A plain port answers the ClientHello as a bad PDU: a C2HTermReq (type 02h, 24 bytes + the header) and a close.
        using var listener = Listen();
        using var timeout = new CancellationTokenSource(Bound);
        var plain = Task.Run(
            async () =>
            {
                using var s = await listener.AcceptAsync(timeout.Token);
                var buffer = new byte[512];
                _ = await s.ReceiveAsync(buffer, timeout.Token);
                var term = new byte[24 + 128];
                term[0] = 0x03;
                term[2] = 24;
                term[4] = (byte)term.Length;
                await s.SendAsync(term, timeout.Token);
                s.Shutdown(SocketShutdown.Both);
            },
            timeout.Token);
        var error = await Assert.ThrowsAsync<NvmeTlsException>(() => TlsTransport.ConnectAsync(listener.LocalEndPoint!, Psk(NvmeTlsPskHash.Sha256), 0, timeout.Token));
        Assert.Equal(NvmeTlsFailure.NotOffered, error.Failure);
        await plain;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_hostile_record_after_the_handshake_fails_the_receive_promptly(bool netAesGcm)
    {
        var psk = Psk(NvmeTlsPskHash.Sha256);
        var (client, server) = await PairAsync(psk, _ => psk, netAesGcm, netAesGcm);
        using (client)
        using (server)
        {
            using var timeout = new CancellationTokenSource(Bound);

            // An application_data record whose ciphertext is garbage: its AEAD tag cannot verify.
            var record = new byte[5 + 64];
            record[0] = 23;
            record[1] = 3;
            record[2] = 3;
            record[4] = 64;
            RandomNumberGenerator.Fill(record.AsSpan(5));
            await server.Socket.SendAsync(record, timeout.Token);
            var error = await Assert.ThrowsAsync<TlsChannelException>(async () => await client.ReceiveAsync(new byte[100], timeout.Token));
            Assert.Equal("bad_record_mac", error.AlertName);
        }
    }

    [Fact]
    public async Task A_record_longer_than_tls_allows_fails_promptly()
    {
        var psk = Psk(NvmeTlsPskHash.Sha256);
        var (client, server) = await PairAsync(psk, _ => psk);
        using (client)
        using (server)
        {
            using var timeout = new CancellationTokenSource(Bound);
            var header = new byte[] { 23, 3, 3, 0xFF, 0xFF };
            await server.Socket.SendAsync(header, timeout.Token);
            await Assert.ThrowsAsync<TlsChannelException>(async () => await client.ReceiveAsync(new byte[100], timeout.Token));
        }
    }

    [Fact]
    public async Task Records_cut_anywhere_by_the_network_and_data_right_behind_the_handshake_arrive_whole()
    {
        // A relay between the ends coalesces what each sends (it waits before forwarding) and forwards it in pieces of
        // 1 to 3,000 bytes: records arrive cut at every offset, the client's Finished shares a segment with the data
        // sent after it, and 1.2 MB each way wraps the 256 KiB receive buffer several times.
        var psk = Psk(NvmeTlsPskHash.Sha256);
        using var timeout = new CancellationTokenSource(Bound);
        using var listener = Listen();
        using var front = Listen();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepted = front.AcceptAsync(timeout.Token).AsTask();
        await raw.ConnectAsync(front.LocalEndPoint!, timeout.Token);
        using var relayIn = await accepted;
        using var relayOut = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var serverAccepted = listener.AcceptAsync(timeout.Token).AsTask();
        await relayOut.ConnectAsync(listener.LocalEndPoint!, timeout.Token);
        using var serverSocket = await serverAccepted;
        var relays = Task.WhenAll(RelayAsync(relayIn, relayOut, 1, timeout.Token), RelayAsync(relayOut, relayIn, 2, timeout.Token));

        var up = RandomNumberGenerator.GetBytes(1_200_000);
        var down = RandomNumberGenerator.GetBytes(1_200_001);
        var serverTask = Task.Run(
            async () =>
            {
                using var server = await TlsPskChannel.AcceptAsync(serverSocket, _ => psk, timeout.Token);
                var received = ReceiveExactlyAsync(server, up.Length, timeout.Token);
                await server.SendAsync(down, timeout.Token);
                Assert.Equal(up, await received);
            },
            timeout.Token);
        using (var client = await TlsPskChannel.ConnectAsync(raw, psk, timeout.Token))
        {
            // Sent at once, so that it follows the client's Finished closely.
            var send = client.SendAsync(up.AsMemory(0, 100), up.AsMemory(100, 65_000), up.AsMemory(65_100), timeout.Token).AsTask();
            Assert.Equal(down, await ReceiveExactlyAsync(client, down.Length, timeout.Token));
            await send;
            await serverTask;
        }

        // Both channels are disposed, their sockets closed: the relays see the ends go.
        await relays;
    }

    // Forwards from one socket to the other until the source closes: what has arrived after a short wait, in pieces of
    // 1 to 3,000 bytes.
    private static async Task RelayAsync(Socket from, Socket to, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var count = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (count == 0)
                {
                    break;
                }

                await Task.Delay(5, cancellationToken);
                while (from.Available > 0 && count < buffer.Length)
                {
                    count += from.Receive(buffer, count, Math.Min(from.Available, buffer.Length - count), SocketFlags.None);
                }

                for (var offset = 0; offset < count;)
                {
                    var piece = Math.Min(random.Next(1, 3001), count - offset);
                    await to.SendAsync(buffer.AsMemory(offset, piece), SocketFlags.None, cancellationToken);
                    offset += piece;
                }
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The other end went first.
        }
    }

    private static async Task<NvmeTlsException> ConnectTransportAsync(NvmeTlsPsk psk, Func<string, NvmeTlsPsk?> lookup)
    {
        using var listener = Listen();
        using var timeout = new CancellationTokenSource(Bound);
        var serverSide = Task.Run(
            async () =>
            {
                using var s = await listener.AcceptAsync(timeout.Token);
                await Assert.ThrowsAsync<TlsChannelException>(() => TlsPskChannel.AcceptAsync(s, lookup, timeout.Token));
            },
            timeout.Token);
        var error = await Assert.ThrowsAsync<NvmeTlsException>(() => TlsTransport.ConnectAsync(listener.LocalEndPoint!, psk, 3, timeout.Token));
        Assert.Equal(3, error.QueueId);
        await serverSide;
        return error;
    }

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        return listener;
    }

    private static async Task<(TlsPskChannel Client, TlsPskChannel Server)> PairAsync(NvmeTlsPsk psk, Func<string, NvmeTlsPsk?> lookup, bool? clientAesGcm = null, bool? serverAesGcm = null)
    {
        using var listener = Listen();
        using var timeout = new CancellationTokenSource(Bound);
        var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = listener.AcceptAsync(timeout.Token).AsTask();
        await raw.ConnectAsync(listener.LocalEndPoint!, timeout.Token);
        var serverSocket = await accept;
        var server = TlsPskChannel.AcceptAsync(serverSocket, lookup, timeout.Token, serverAesGcm);
        var client = await TlsPskChannel.ConnectAsync(raw, psk, timeout.Token, clientAesGcm);
        return (client, await server);
    }

    private static async Task<byte[]> ReceiveExactlyAsync(TlsPskChannel channel, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        var received = 0;
        while (received < length)
        {
            var read = await channel.ReceiveAsync(buffer.AsMemory(received), cancellationToken);
            Assert.NotEqual(0, read);
            received += read;
        }

        return buffer;
    }
}
