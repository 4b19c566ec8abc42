using System.Net;
using Microsoft.Extensions.Logging;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;
using static NvmeTcp.Client.Loopback.Tests.TestWaits;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>
/// Secure channel concatenation between the client and the in-process target: the DH-HMAC-CHAP exchange in the clear
/// generates the TLS PSK, and every way it can be refused gives a typed error before anything reaches TLS.
/// </summary>
public sealed class ConcatenationTests
{
    private const string Host = "nqn.2014-08.org.nvmexpress:uuid:c0c0c0c0-bbbb-cccc-dddd-eeeeeeeeeeee";

    private static readonly DhchapSecret HostSecret = DhchapSecret.Generate(32, 1);
    private static readonly DhchapSecret ControllerSecret = DhchapSecret.Generate(48, 2);

    private static Task<NvmeTcpTarget> StartConcatAsync(Action<NvmeHostAuthentication>? configure = null, NvmeTargetTls tls = NvmeTargetTls.Optional, ILogger? logger = null) =>
        StartAsync(
            o =>
            {
                o.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0);
                o.Tls = tls; // the exchange runs in the clear, the queues after it in TLS: optional TLS, as nvmet needs
                o.Logger = logger;
            },
            s =>
            {
                var auth = new NvmeHostAuthentication(Host, HostSecret) { Concatenation = true };
                auth.Groups.Clear();
                auth.Groups.Add(DhchapDhGroup.Ffdhe2048);
                configure?.Invoke(auth);
                s.HostAuthentication.Add(auth);
            });

    private static NvmeTcpOptions Options(NvmeTcpTarget target, DhchapSecret? host = null, int queues = 1)
    {
        var options = ClientOptions(target, queues);
        options.HostNqn = Host;
        options.DhchapSecret = host ?? HostSecret;
        options.Concatenation = true;
        return options;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Admin_and_io_queues_move_data_inside_tls_with_the_generated_psk(bool bidirectional)
    {
        await using var target = await StartConcatAsync(a => a.ControllerSecret = bidirectional ? ControllerSecret : null);
        var options = Options(target, queues: 2);
        options.DhchapControllerSecret = bidirectional ? ControllerSecret : null;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);

        // One admin queue in the clear (Connect and the exchange only), then the admin queue and both I/O queues in TLS.
        Assert.Equal(1, target.Testing.PlainIcReqs);
        Assert.Equal(3, target.Testing.TlsIcReqs);
        Assert.Equal(1, target.Testing.AuthenticatedQueues); // the TLS queues authenticate with the PSK alone, as nvmet
        Assert.Equal(1, target.Testing.GeneratedTlsPsks);
        var identity = controller.GeneratedTlsPskIdentity;
        Assert.NotNull(identity);
        Assert.StartsWith($"NVMe1G01 {Host} {Nqn} ", identity, StringComparison.Ordinal);
        Assert.Equal(identity, target.Testing.GeneratedTlsPskIdentity(Host, Nqn));
        Assert.True(target.Testing.IsGeneratedTlsPsk(Host, Nqn, controller.Current.GeneratedTlsPsk!));
        Assert.All(controller.Current.Connections, c => Assert.Equal(identity, c.Tls?.Identity));

        var ns = controller.GetNamespace(1);
        for (var q = 0; q < 2; q++)
        {
            var data = Pattern(64 * 1024, 40 + q);
            var back = new byte[data.Length];
            await controller.IoQueues[q].WriteAsync(ns, (ulong)q * 256, data).AsTask().WaitAsync(Bound);
            await controller.IoQueues[q].ReadAsync(ns, (ulong)q * 256, back).AsTask().WaitAsync(Bound);
            Assert.Equal(data, back);
        }

        // Admin commands after the exchange run in TLS too.
        await controller.IdentifyNamespaceAsync(1).WaitAsync(Bound);
        Assert.Equal(1, target.Testing.PlainIcReqs);
    }

    [Fact]
    public async Task A_reconnect_starts_in_the_clear_and_generates_a_different_psk()
    {
        await using var target = await StartConcatAsync();
        var options = Options(target, queues: 1);
        options.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var first = controller.GeneratedTlsPskIdentity;
        Assert.NotNull(first);

        // The target deletes the association (as nvmet on a fatal error); the host reconnects.
        target.Testing.SetControllersFatal(Nqn, true);
        await WaitForStateAsync(controller, NvmeControllerState.Connecting);
        target.Testing.SetControllersFatal(Nqn, false);
        await WaitForStateAsync(controller, NvmeControllerState.Live);

        var second = controller.GeneratedTlsPskIdentity;
        Assert.NotNull(second);
        Assert.NotEqual(first, second);
        Assert.Equal(second, target.Testing.GeneratedTlsPskIdentity(Host, Nqn));
        Assert.True(target.Testing.GeneratedTlsPsks >= 2);
        Assert.True(target.Testing.PlainIcReqs >= 2); // each bring-up begins with an admin queue in the clear
        await controller.IoQueues[0].FlushAsync(controller.GetNamespace(1)).AsTask().WaitAsync(Bound);
    }

    [Fact]
    public async Task A_generated_psk_opens_tls_only_for_its_own_host_and_subsystem()
    {
        await using var target = await StartConcatAsync();
        await using var controller = await NvmeController.ConnectAsync(Options(target, queues: 1)).WaitAsync(Bound);
        var generated = controller.Current.GeneratedTlsPsk!;

        // Another host presenting that PSK gets through the handshake (the identity is known) but not past Connect.
        var other = ClientOptions(target, 1);
        other.HostNqn = "nqn.2014-08.org.nvmexpress:uuid:0badc0de-bbbb-cccc-dddd-eeeeeeeeeeee";
        other.Tls = new NvmeTlsOptions { KeyLookup = _ => generated };
        var e = await Assert.ThrowsAsync<NvmeStatusException>(() => NvmeController.ConnectAsync(other).WaitAsync(Bound));
        Assert.Equal(NvmeTcp.Protocol.StatusCodes.ConnectInvalidHost, (ushort)(((int)e.Status.CodeType << 8) | e.Status.Code));
        Assert.Equal(0, target.Testing.TlsHandshakeFailures);
    }

    [Fact]
    public async Task Re_authentication_replaces_the_psk_and_the_old_one_opens_nothing_more()
    {
        await using var target = await StartConcatAsync();
        await using var controller = await NvmeController.ConnectAsync(Options(target, queues: 1)).WaitAsync(Bound);
        var old = controller.Current.GeneratedTlsPsk!;

        await controller.ReauthenticateAsync().WaitAsync(Bound);
        var identity = controller.GeneratedTlsPskIdentity;
        Assert.NotEqual(old.Identity, identity);
        Assert.Equal(identity, target.Testing.GeneratedTlsPskIdentity(Host, Nqn));
        Assert.Equal(2, target.Testing.GeneratedTlsPsks);
        Assert.Equal(1, target.Testing.PlainIcReqs); // REPLACETLSPSK ran on the admin queue inside TLS
        await controller.IoQueues[0].FlushAsync(controller.GetNamespace(1)).AsTask().WaitAsync(Bound);
        await controller.IdentifyNamespaceAsync(1).WaitAsync(Bound);

        // The replaced PSK no longer opens a TLS connection; the new one does (for this host only).
        var stale = ClientOptions(target, 1);
        stale.HostNqn = Host;
        stale.Tls = new NvmeTlsOptions { KeyLookup = _ => old };
        await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeController.ConnectAsync(stale).WaitAsync(Bound));
        var fresh = ClientOptions(target, 1);
        fresh.HostNqn = Host;
        fresh.Tls = new NvmeTlsOptions { KeyLookup = _ => controller.Current.GeneratedTlsPsk };
        await using var second = await NvmeController.ConnectAsync(fresh).WaitAsync(Bound);
        await second.IoQueues[0].FlushAsync(second.GetNamespace(1)).AsTask().WaitAsync(Bound);
    }

    [Fact]
    public async Task A_port_without_tls_refuses_concatenation_typed()
    {
        await using var target = await StartConcatAsync(tls: NvmeTargetTls.None);
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target)).WaitAsync(Bound));
        Assert.Equal((NvmeAuthenticationFailure.Unsupported, AuthFailureReason.ConcatenationMismatch), (e.Failure, e.Reason));
        Assert.Equal(0, target.Testing.GeneratedTlsPsks);
    }

    [Fact]
    public async Task No_secret_or_generated_key_reaches_trace_logs_or_exceptions()
    {
        var sink = new ListLogs();
        await using var target = await StartConcatAsync(logger: sink.CreateLogger("target"));
        var options = Options(target, queues: 1);
        options.LoggerFactory = sink;
        byte[] key;
        await using (var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound))
        {
            key = controller.Current.GeneratedTlsPsk!.CopyKey();
            await controller.IoQueues[0].FlushAsync(controller.GetNamespace(1)).AsTask().WaitAsync(Bound);
        }

        var failure = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target, host: DhchapSecret.Generate(32, 1))).WaitAsync(Bound));
        Assert.Contains(sink.Lines, l => l.Contains("NVMe1G01", StringComparison.Ordinal)); // the identity is logged, it is public

        var secret = HostSecret.ToInterchangeString();
        var secretKey = Convert.FromBase64String(secret[10..^1])[..HostSecret.Length];
        var needles = new[]
        {
            secret, secret[10..^1], Convert.ToHexString(secretKey), Convert.ToHexStringLower(secretKey), Convert.ToBase64String(secretKey),
            Convert.ToHexString(key), Convert.ToHexStringLower(key), Convert.ToBase64String(key), BitConverter.ToString(key),
        };
        foreach (var line in sink.Lines.Append(failure.ToString()).Append(options.ToString()!))
        {
            foreach (var needle in needles)
            {
                Assert.DoesNotContain(needle, line, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Concatenation_without_a_dhchap_secret_is_refused_by_validation()
    {
        var options = new NvmeTcpOptions { SubsystemNqn = "nqn.2026-12.test:x", Concatenation = true };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(NvmeTcpOptions.Concatenation), e.ParamName);
    }

    [Fact]
    public async Task A_wrong_host_secret_fails_typed_and_generates_nothing()
    {
        await using var target = await StartConcatAsync();
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target, host: DhchapSecret.Generate(32, 1))).WaitAsync(Bound));
        Assert.Equal((NvmeAuthenticationFailure.HostRejected, AuthFailureReason.Failed, (ushort)0), (e.Failure, e.Reason, e.QueueId));
        Assert.False(e.IsTransient);
        Assert.Equal(0, target.Testing.GeneratedTlsPsks);
        Assert.Null(target.Testing.GeneratedTlsPskIdentity(Host, Nqn));
        Assert.Equal(0, target.Testing.TlsIcReqs); // never reached TLS
    }

    [Fact]
    public async Task The_null_dh_group_is_refused_as_a_concatenation_mismatch()
    {
        await using var target = await StartConcatAsync(a =>
        {
            a.Groups.Clear();
            a.Groups.Add(DhchapDhGroup.Null);
        });
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target)).WaitAsync(Bound));
        Assert.Equal((NvmeAuthenticationFailure.Unsupported, AuthFailureReason.ConcatenationMismatch), (e.Failure, e.Reason));
        Assert.Equal(0, target.Testing.GeneratedTlsPsks);
    }

    [Fact]
    public async Task A_target_that_does_not_allow_concatenation_refuses_it_typed()
    {
        await using var target = await StartConcatAsync(a => a.Concatenation = false);
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target)).WaitAsync(Bound));
        Assert.Equal((NvmeAuthenticationFailure.Unsupported, AuthFailureReason.ConcatenationMismatch), (e.Failure, e.Reason));
        Assert.Contains("concatenation", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_target_that_does_not_authenticate_cannot_generate_a_psk()
    {
        await using var target = await StartAsync(o => o.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0));
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target)).WaitAsync(Bound));
        Assert.Equal(NvmeAuthenticationFailure.Unsupported, e.Failure);
        Assert.Contains("concatenation", e.Message, StringComparison.Ordinal);
    }
}
