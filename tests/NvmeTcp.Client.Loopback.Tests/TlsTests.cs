using System.Net;
using Microsoft.Extensions.Logging;
using NvmeTcp.Protocol.Tls;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;
using static NvmeTcp.Client.Loopback.Tests.TestWaits;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>
/// TLS 1.3 with a PSK between the client and the in-process target: every queue inside TLS with data moved (both
/// hashes, both identity versions, digests), a reconnect that stays in TLS, and every refusal typed and never in the
/// clear: a wrong key, an unknown identity, a plain host on a TLS-only port, a TLS host on a plain port, a discovery
/// entry that requires TLS without TLS configured. The target counts the ICReqs it got in the clear.
/// </summary>
public sealed class TlsTests
{
    private const string Host = "nqn.2014-08.org.nvmexpress:uuid:7e1a5000-0000-4000-8000-00000000f00d";

    // libnvme's test key (test/psk.c), as SECURITY.md's worked example.
    private static readonly byte[] Configured = Convert.FromHexString("5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03");

    private static NvmeTlsKey Key(NvmeTlsPskHash hash) =>
        NvmeTlsKey.Create(hash == NvmeTlsPskHash.Sha256 ? Configured : [.. Configured, .. Configured.AsSpan(0, 16)], hash);

    private static Task<NvmeTcpTarget> StartTlsAsync(NvmeTlsKey key, NvmeTargetTls tls = NvmeTargetTls.Required, int port = 0, ILogger? logger = null) =>
        StartAsync(
            o =>
            {
                o.Tls = tls;
                o.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, port);
                o.Logger = logger;
            },
            s => s.TlsKeys.Add(new NvmeHostTlsKey(Host, key)));

    private static NvmeTcpOptions Options(NvmeTcpTarget target, NvmeTlsKey? key, int identityVersion = 1, int queues = 2, bool digests = false)
    {
        var options = ClientOptions(target, queues, digests, digests);
        options.HostNqn = Host;
        options.Tls = key is null ? null : new NvmeTlsOptions { Key = key, IdentityVersion = identityVersion };
        return options;
    }

    [Theory]
    [InlineData(NvmeTlsPskHash.Sha256, 1, false)]
    [InlineData(NvmeTlsPskHash.Sha256, 0, true)]
    [InlineData(NvmeTlsPskHash.Sha384, 1, true)]
    [InlineData(NvmeTlsPskHash.Sha384, 0, false)]
    public async Task Admin_and_io_queues_run_inside_tls_and_move_data(NvmeTlsPskHash hash, int identityVersion, bool digests)
    {
        await using var target = await StartTlsAsync(Key(hash));
        await using var controller = await NvmeController.ConnectAsync(Options(target, Key(hash), identityVersion, digests: digests)).WaitAsync(Bound);
        var ns = controller.GetNamespace(2);
        foreach (var (queue, size) in new[] { (0, 4096), (1, 128 * 1024), (0, 64 * 1024) })
        {
            var data = Pattern(size, size + queue);
            var back = new byte[size];
            await controller.IoQueues[queue].WriteAsync(ns, 8, data).AsTask().WaitAsync(Bound);
            await controller.IoQueues[queue].ReadAsync(ns, 8, back).AsTask().WaitAsync(Bound);
            Assert.Equal(data, back);
        }

        Assert.Equal(3, target.Testing.TlsIcReqs);
        Assert.Equal(0, target.Testing.PlainIcReqs);
    }

    [Fact]
    public async Task A_reconnect_after_the_connections_drop_runs_inside_tls_again()
    {
        var key = Key(NvmeTlsPskHash.Sha256);
        await using var target = await StartTlsAsync(key);
        var endPoint = target.EndPoint;
        var options = Options(target, key);
        options.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        Assert.Equal(3, target.Testing.TlsIcReqs);

        // The port goes and comes back: every connection dropped, then listened for again.
        Assert.True(target.RemovePort(1));
        await WaitForStateAsync(controller, NvmeControllerState.Connecting);
        target.AddPort(new NvmeTargetPort(1, endPoint) { Tls = NvmeTargetTls.Required });
        await WaitForStateAsync(controller, NvmeControllerState.Live);

        var data = Pattern(8192, 7);
        var back = new byte[data.Length];
        await controller.IoQueues[1].WriteAsync(controller.GetNamespace(1), 0, data).AsTask().WaitAsync(Bound);
        await controller.IoQueues[1].ReadAsync(controller.GetNamespace(1), 0, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
        Assert.True(target.Testing.TlsIcReqs >= 6, $"{target.Testing.TlsIcReqs} ICReqs in TLS");
        Assert.Equal(0, target.Testing.PlainIcReqs);
    }

    [Fact]
    public async Task A_wrong_key_is_refused_typed_and_not_transient()
    {
        await using var target = await StartTlsAsync(Key(NvmeTlsPskHash.Sha256));
        var wrong = NvmeTlsKey.Create(new byte[32], NvmeTlsPskHash.Sha256);
        var e = await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeController.ConnectAsync(Options(target, wrong, identityVersion: 0)).WaitAsync(Bound));
        Assert.Equal(NvmeTlsFailure.KeyRejected, e.Failure);
        Assert.False(e.IsTransient);
        Assert.Equal(0, e.QueueId);
        Assert.Equal(0, target.Testing.PlainIcReqs + target.Testing.TlsIcReqs);
        await WaitUntilAsync(() => target.Testing.TlsHandshakeFailures == 1);
    }

    [Fact]
    public async Task A_version_1_key_with_another_digest_is_an_unknown_identity()
    {
        // Version 1 identities carry the key's digest: another key names another identity, which the target lacks.
        await using var target = await StartTlsAsync(Key(NvmeTlsPskHash.Sha256));
        var other = NvmeTlsKey.Generate(NvmeTlsPskHash.Sha256);
        var e = await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeController.ConnectAsync(Options(target, other)).WaitAsync(Bound));
        Assert.Equal(NvmeTlsFailure.IdentityUnknown, e.Failure);
        Assert.Equal("unknown_psk_identity", e.Alert);
        Assert.StartsWith("NVMe1R01 " + Host, e.Identity, StringComparison.Ordinal);
        Assert.Equal(0, target.Testing.PlainIcReqs);
    }

    [Fact]
    public async Task A_plain_host_on_a_port_that_requires_tls_is_closed_unanswered()
    {
        await using var target = await StartTlsAsync(Key(NvmeTlsPskHash.Sha256));
        var e = await Assert.ThrowsAsync<NvmeTransportException>(() => NvmeController.ConnectAsync(Options(target, null)).WaitAsync(Bound));
        Assert.Contains("before its ICResp", e.Message, StringComparison.Ordinal);
        Assert.Contains("TLS", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, target.Testing.PlainConnectionsRefused);
        Assert.Equal(0, target.Testing.PlainIcReqs);
    }

    [Fact]
    public async Task A_port_where_tls_is_optional_serves_both()
    {
        var key = Key(NvmeTlsPskHash.Sha256);
        await using var target = await StartTlsAsync(key, NvmeTargetTls.Optional);
        await using (await NvmeController.ConnectAsync(Options(target, key, queues: 1)).WaitAsync(Bound))
        {
        }

        await using (await NvmeController.ConnectAsync(Options(target, null, queues: 1)).WaitAsync(Bound))
        {
        }

        Assert.Equal(2, target.Testing.TlsIcReqs);
        Assert.Equal(2, target.Testing.PlainIcReqs);
    }

    [Fact]
    public async Task A_tls_host_on_a_plain_port_gets_NotOffered_and_sends_nothing_in_the_clear()
    {
        await using var target = await StartAsync();
        var e = await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeController.ConnectAsync(Options(target, Key(NvmeTlsPskHash.Sha256))).WaitAsync(Bound));
        Assert.Equal(NvmeTlsFailure.NotOffered, e.Failure);
        Assert.Equal(0, target.Testing.PlainIcReqs);

        // The target saw a ClientHello where an ICReq belongs: a bad PDU type, not an ICReq.
        Assert.Contains(target.Testing.Violations, v => v.PduType == 0x16);
    }

    [Fact]
    public async Task Tls_required_without_a_key_fails_before_connecting()
    {
        await using var target = await StartTlsAsync(Key(NvmeTlsPskHash.Sha256));
        var options = Options(target, null);
        options.Tls = new NvmeTlsOptions { KeyLookup = _ => null };
        var e = await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeController.ConnectAsync(options).WaitAsync(Bound));
        Assert.Equal(NvmeTlsFailure.NotConfigured, e.Failure);
        Assert.Equal(0, target.ConnectionCount + target.Testing.PlainIcReqs + target.Testing.TlsHandshakeFailures);
    }

    [Fact]
    public async Task A_key_lookup_is_asked_in_the_kernels_order_and_its_psk_is_used()
    {
        var key = Key(NvmeTlsPskHash.Sha256);
        await using var target = await StartTlsAsync(key);
        var v0 = key.DeriveTlsPsk(Host, Nqn, 0);
        var asked = new List<string>();
        var options = Options(target, null, queues: 1);
        options.Tls = new NvmeTlsOptions
        {
            KeyLookup = identity =>
            {
                lock (asked)
                {
                    asked.Add(identity);
                }

                return identity == v0.Identity ? v0 : null;
            },
        };
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        Assert.Equal(
            [$"NVMe1R02 {Host} {Nqn}", $"NVMe1R01 {Host} {Nqn}", $"NVMe0R02 {Host} {Nqn}", $"NVMe0R01 {Host} {Nqn}"],
            asked.Take(4));
        Assert.Equal(2, target.Testing.TlsIcReqs);
    }

    [Fact]
    public async Task Discovery_reports_treq_and_tsas_and_a_required_entry_is_never_tried_in_the_clear()
    {
        await using var target = await StartTlsAsync(Key(NvmeTlsPskHash.Sha256));
        var discovery = Options(target, Key(NvmeTlsPskHash.Sha256));
        discovery.SubsystemNqn = NvmeTcpOptions.DiscoveryNqn;
        var log = await NvmeDiscovery.GetLogAsync(discovery).WaitAsync(Bound);
        var entry = Assert.Single(log.Entries, e => e.SubsystemNqn == Nqn);
        Assert.Equal(NvmeSecureChannelRequirement.Required, entry.SecureChannel);
        Assert.Equal(NvmeTcpSecurityType.Tls13, entry.TcpSecurityType);
        var before = target.ConnectionCount;
        var plainBefore = target.Testing.PlainConnectionsRefused;

        var template = Options(target, null);
        var e = await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeDiscovery.ConnectAsync(entry, template, "127.0.0.1").WaitAsync(Bound));
        Assert.Equal(NvmeTlsFailure.NotConfigured, e.Failure);
        Assert.Contains("secure channel", e.Message, StringComparison.Ordinal);
        Assert.Equal(plainBefore, target.Testing.PlainConnectionsRefused);
        Assert.Equal(0, target.Testing.PlainIcReqs);

        // With TLS configured the same entry connects.
        await using var controller = await NvmeDiscovery.ConnectAsync(entry, Options(target, Key(NvmeTlsPskHash.Sha256), queues: 1), "127.0.0.1").WaitAsync(Bound);
        Assert.True(target.ConnectionCount > before);
    }

    [Fact]
    public async Task An_optional_port_is_reported_not_required_with_tls_1_3()
    {
        var key = Key(NvmeTlsPskHash.Sha384);
        await using var target = await StartTlsAsync(key, NvmeTargetTls.Optional);
        var discovery = Options(target, null);
        discovery.SubsystemNqn = NvmeTcpOptions.DiscoveryNqn;
        var log = await NvmeDiscovery.GetLogAsync(discovery).WaitAsync(Bound);
        var entry = Assert.Single(log.Entries, e => e.SubsystemNqn == Nqn);
        Assert.Equal(NvmeSecureChannelRequirement.NotRequired, entry.SecureChannel);
        Assert.Equal(NvmeTcpSecurityType.Tls13, entry.TcpSecurityType);
    }

    [Fact]
    public async Task A_hostile_client_hello_is_closed_promptly_by_the_target()
    {
        await using var target = await StartTlsAsync(Key(NvmeTlsPskHash.Sha256));
        using var timeout = new CancellationTokenSource(Bound);
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(target.EndPoint, timeout.Token);

        // A handshake record header announcing 300 bytes of a ClientHello that is garbage.
        var record = new byte[5 + 300];
        record[0] = 0x16;
        record[1] = 3;
        record[2] = 1;
        record[3] = 300 >> 8;
        record[4] = 300 & 0xFF;
        record[5] = 1;
        System.Security.Cryptography.RandomNumberGenerator.Fill(record.AsSpan(6));
        await socket.SendAsync(record, timeout.Token);

        // The target answers with an alert at most, then closes: read until the end, bounded by count and time.
        var buffer = new byte[4096];
        var reads = 0;
        try
        {
            while (reads++ < 100 && await socket.ReceiveAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (System.Net.Sockets.SocketException)
        {
            // A reset ends it as well.
        }

        Assert.False(timeout.IsCancellationRequested, "the target kept the connection open");
        Assert.Equal(1, target.Testing.TlsHandshakeFailures);
        Assert.Equal(0, target.Testing.PlainIcReqs + target.Testing.TlsIcReqs);
    }

    [Fact]
    public async Task A_subsystem_from_discovery_leaves_out_a_path_that_requires_tls_when_none_is_configured()
    {
        var key = Key(NvmeTlsPskHash.Sha256);
        await using var target = await StartAsync(
            o =>
            {
                o.Ports.Add(new NvmeTargetPort(1, new IPEndPoint(IPAddress.Loopback, 0)) { Tls = NvmeTargetTls.Optional });
                o.Ports.Add(new NvmeTargetPort(2, new IPEndPoint(IPAddress.Loopback, 0)) { Tls = NvmeTargetTls.Required });
            },
            s => s.TlsKeys.Add(new NvmeHostTlsKey(Host, key)));
        var plainPort = target.Ports.Single(p => p.PortId == 1).EndPoint.Port;
        var template = Options(target, null);
        var options = new NvmeMultipathOptions { Template = template };
        options.DiscoveryEndPoints.Add(new DnsEndPoint("127.0.0.1", plainPort));
        await using (var subsystem = await NvmeSubsystem.ConnectAsync(options).WaitAsync(Bound))
        {
            var path = Assert.Single(subsystem.Paths);
            Assert.Equal(plainPort, path.EndPoint.Port);
        }

        Assert.Equal(0, target.Testing.PlainConnectionsRefused);

        // With TLS configured both paths connect, both inside TLS (discovery too).
        template.Tls = new NvmeTlsOptions { Key = key };
        await using (var subsystem = await NvmeSubsystem.ConnectAsync(options).WaitAsync(Bound))
        {
            Assert.Equal(2, subsystem.Paths.Count);
        }

        Assert.Equal(4, target.Testing.PlainIcReqs); // the first round: discovery, then port 1's admin and two I/O queues
        Assert.True(target.Testing.TlsIcReqs >= 5, $"{target.Testing.TlsIcReqs} ICReqs in TLS");
    }

    [Fact]
    public async Task No_key_reaches_the_logs_at_trace_level()
    {
        var sink = new ListLogs();
        var key = Key(NvmeTlsPskHash.Sha256);
        await using var target = await StartTlsAsync(key, logger: sink.CreateLogger("target"));
        var options = Options(target, key);
        options.LoggerFactory = sink;
        await using (var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound))
        {
            await controller.IoQueues[0].FlushAsync(controller.GetNamespace(1)).AsTask().WaitAsync(Bound);
        }

        // A failed handshake logs on both sides too.
        var wrong = Options(target, NvmeTlsKey.Create(Configured.Reverse().ToArray(), NvmeTlsPskHash.Sha256), identityVersion: 0);
        var failure = await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeController.ConnectAsync(wrong).WaitAsync(Bound));

        // The client has its alert before the target has logged it: wait (bounded) for the target's side.
        await WaitUntilAsync(() => target.Testing.TlsHandshakeFailures == 1);

        Assert.Contains(sink.Lines, l => l.Contains("TLS 1.3 with PSK identity", StringComparison.Ordinal));
        Assert.Contains(sink.Lines, l => l.Contains("TLS handshake failed", StringComparison.Ordinal));

        var secrets = new List<byte[]> { Configured, key.DeriveRetainedPsk(Host) };
        foreach (var version in new[] { 0, 1 })
        {
            secrets.Add(key.DeriveTlsPsk(Host, Nqn, version).CopyKey());
        }

        var texts = new List<string> { key.ToInterchangeString(), key.ToInterchangeString()[16..^1] };
        foreach (var secret in secrets)
        {
            texts.AddRange([Convert.ToHexString(secret), Convert.ToHexStringLower(secret), Convert.ToBase64String(secret), BitConverter.ToString(secret)]);
        }

        foreach (var line in sink.Lines.Append(failure.ToString()).Append(options.Tls!.ToString()).Append(key.ToString()))
        {
            foreach (var needle in texts)
            {
                Assert.DoesNotContain(needle, line, StringComparison.Ordinal);
            }
        }
    }

    // The target counts a failed handshake after its alert has left: the client may see the alert first.
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 400 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition());
    }
}
