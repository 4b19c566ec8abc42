using System.Net;
using Microsoft.Extensions.Logging;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;
using static NvmeTcp.Client.Loopback.Tests.TestWaits;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>DH-HMAC-CHAP between the client and the in-process target: every hash, group and direction, and every failure.</summary>
public sealed class AuthenticationTests
{
    private const string Host = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    private static readonly DhchapSecret HostSecret = DhchapSecret.Generate(32, 1);
    private static readonly DhchapSecret ControllerSecret = DhchapSecret.Generate(48, 2);

    public static MatrixTheoryData<DhchapHashFunction, DhchapDhGroup, bool> Matrix => new(
        [DhchapHashFunction.Sha256, DhchapHashFunction.Sha384, DhchapHashFunction.Sha512],
        [DhchapDhGroup.Null, DhchapDhGroup.Ffdhe2048, DhchapDhGroup.Ffdhe3072, DhchapDhGroup.Ffdhe4096, DhchapDhGroup.Ffdhe6144, DhchapDhGroup.Ffdhe8192],
        [false, true]);

    private static Task<NvmeTcpTarget> StartAuthAsync(Action<NvmeHostAuthentication>? configure = null, int port = 0, ILogger? logger = null)
    {
        return StartAsync(
            o =>
            {
                o.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, port);
                o.Logger = logger;
            },
            s =>
            {
                var auth = new NvmeHostAuthentication(Host, HostSecret) { ControllerSecret = ControllerSecret };
                configure?.Invoke(auth);
                s.HostAuthentication.Add(auth);
            });
    }

    private static NvmeTcpOptions Options(NvmeTcpTarget target, DhchapSecret? host = null, DhchapSecret? controller = null, int queues = 1)
    {
        var options = ClientOptions(target, queues);
        options.HostNqn = Host;
        options.DhchapSecret = host ?? HostSecret;
        options.DhchapControllerSecret = controller;
        return options;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Every_hash_group_and_direction_authenticates_every_queue(DhchapHashFunction hash, DhchapDhGroup group, bool bidirectional)
    {
        await using var target = await StartAuthAsync(a =>
        {
            a.Hashes.Clear();
            a.Hashes.Add(hash);
            a.Groups.Clear();
            a.Groups.Add(group);
        });
        await using var controller = await NvmeController.ConnectAsync(Options(target, controller: bidirectional ? ControllerSecret : null)).WaitAsync(Bound);
        Assert.Equal(2, target.Testing.AuthenticatedQueues);
        var ns = controller.GetNamespace(1);
        var data = Pattern(8192, (int)hash * 10 + (int)group);
        var back = new byte[data.Length];
        await controller.IoQueues[0].WriteAsync(ns, 0, data).AsTask().WaitAsync(Bound);
        await controller.IoQueues[0].ReadAsync(ns, 0, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
    }

    [Fact]
    public async Task A_wrong_host_secret_is_rejected_by_the_controller_with_its_reason()
    {
        await using var target = await StartAuthAsync();
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target, host: DhchapSecret.Generate(32, 1))).WaitAsync(Bound));
        Assert.Equal(NvmeAuthenticationFailure.HostRejected, e.Failure);
        Assert.Equal(AuthFailureReason.Failed, e.Reason);
        Assert.Equal(0, e.QueueId);
        Assert.False(e.IsTransient);
        Assert.Equal(0, target.Testing.AuthenticatedQueues);
        Assert.Equal(1, target.Testing.AuthenticationFailures);
    }

    [Fact]
    public async Task A_wrong_controller_secret_makes_the_host_reject_the_controller()
    {
        await using var target = await StartAuthAsync();
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target, controller: DhchapSecret.Generate(48, 2))).WaitAsync(Bound));
        Assert.Equal(NvmeAuthenticationFailure.ControllerRejected, e.Failure);
        Assert.Equal(AuthFailureReason.Failed, e.Reason);
        Assert.False(e.IsTransient);
    }

    [Fact]
    public async Task A_host_without_a_secret_is_told_authentication_is_required()
    {
        await using var target = await StartAuthAsync();
        var options = Options(target);
        options.DhchapSecret = null;
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(options).WaitAsync(Bound));
        Assert.Equal(NvmeAuthenticationFailure.Required, e.Failure);
        Assert.Equal(0x2, e.Requirements & 0x6);
    }

    [Fact]
    public async Task A_host_not_allowed_is_refused_at_connect()
    {
        await using var target = await StartAsync(subsystem: s =>
        {
            s.AllowedHosts.Add(AllowedHost);
            s.HostAuthentication.Add(new NvmeHostAuthentication(AllowedHost, HostSecret));
        });
        var e = await Assert.ThrowsAsync<NvmeStatusException>(() => NvmeController.ConnectAsync(Options(target)).WaitAsync(Bound));
        Assert.Equal(StatusCodes.ConnectInvalidHost, (ushort)(((int)e.Status.CodeType << 8) | e.Status.Code));
        Assert.False(e.IsTransient);
    }

    [Fact]
    public async Task A_controller_that_does_not_authenticate_fails_a_host_that_wants_it_to()
    {
        await using var target = await StartAsync();
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target, controller: ControllerSecret)).WaitAsync(Bound));
        Assert.Equal(NvmeAuthenticationFailure.ControllerRejected, e.Failure);
    }

    [Theory]
    [InlineData(NvmeAuthenticationFault.RejectHost, false, NvmeAuthenticationFailure.HostRejected, AuthFailureReason.Failed)]
    [InlineData(NvmeAuthenticationFault.WrongControllerResponse, true, NvmeAuthenticationFailure.ControllerRejected, AuthFailureReason.Failed)]
    [InlineData(NvmeAuthenticationFault.OmitControllerResponse, true, NvmeAuthenticationFailure.ControllerRejected, AuthFailureReason.Failed)]
    [InlineData(NvmeAuthenticationFault.UnknownHash, false, NvmeAuthenticationFailure.Unsupported, AuthFailureReason.HashUnusable)]
    [InlineData(NvmeAuthenticationFault.UnknownGroup, false, NvmeAuthenticationFailure.Unsupported, AuthFailureReason.DhGroupUnusable)]
    [InlineData(NvmeAuthenticationFault.WrongTransactionId, false, NvmeAuthenticationFailure.Failed, AuthFailureReason.IncorrectMessage)]
    [InlineData(NvmeAuthenticationFault.RefuseReceive, false, NvmeAuthenticationFailure.Failed, AuthFailureReason.None)]
    [InlineData(NvmeAuthenticationFault.CloseAfterReply, false, NvmeAuthenticationFailure.HostRejected, AuthFailureReason.None)]
    public async Task Each_way_a_controller_fails_gives_a_typed_error(NvmeAuthenticationFault fault, bool bidirectional, NvmeAuthenticationFailure failure, AuthFailureReason reason)
    {
        await using var target = await StartAuthAsync();
        target.Testing.AuthenticationFault = fault;
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target, controller: bidirectional ? ControllerSecret : null)).WaitAsync(Bound));
        Assert.Equal(failure, e.Failure);
        Assert.Equal(reason, e.Reason);
        Assert.False(e.IsTransient);
    }

    [Fact]
    public async Task Unknown_hash_error_names_what_the_controller_chose()
    {
        await using var target = await StartAuthAsync();
        target.Testing.AuthenticationFault = NvmeAuthenticationFault.UnknownHash;
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(Options(target)).WaitAsync(Bound));
        Assert.Contains("hash 0xFE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reconnect_after_a_target_restart_authenticates_again()
    {
        var first = await StartAuthAsync();
        var port = first.EndPoint.Port;
        var options = Options(first, controller: ControllerSecret, queues: 2);
        options.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        Assert.Equal(3, first.Testing.AuthenticatedQueues);
        await first.DisposeAsync();
        await WaitForStateAsync(controller, NvmeControllerState.Connecting);

        await using var second = await StartAuthAsync(port: port);
        await WaitForStateAsync(controller, NvmeControllerState.Live);
        Assert.Equal(3, second.Testing.AuthenticatedQueues);
        await controller.IoQueues[1].FlushAsync(controller.GetNamespace(1)).AsTask().WaitAsync(Bound);
    }

    [Fact]
    public async Task A_reconnect_meeting_a_changed_secret_deletes_the_controller_without_retrying()
    {
        var first = await StartAuthAsync();
        var port = first.EndPoint.Port;
        var options = Options(first);
        options.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        await first.DisposeAsync();
        await WaitForStateAsync(controller, NvmeControllerState.Connecting);

        await using var second = await StartAsync(
            o => o.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, port),
            s => s.HostAuthentication.Add(new NvmeHostAuthentication(Host, DhchapSecret.Generate(32, 1))));
        await WaitForStateAsync(controller, NvmeControllerState.Deleted);

        // One attempt met the new secret; a retry would have made a second controller.
        Assert.Equal(0, second.Testing.AuthenticatedQueues);
        Assert.Equal(0, second.ControllerCount);
    }

    [Fact]
    public async Task No_secret_reaches_the_logs_at_trace_level()
    {
        var sink = new ListLogs();
        var targetLogger = sink.CreateLogger("target");
        await using var target = await StartAuthAsync(logger: targetLogger);
        var options = Options(target, controller: ControllerSecret, queues: 2);
        options.LoggerFactory = sink;
        await using (var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound))
        {
            await controller.IoQueues[0].FlushAsync(controller.GetNamespace(1)).AsTask().WaitAsync(Bound);
        }

        // A failed exchange logs too: its messages must not carry the secret either.
        target.Testing.AuthenticationFault = NvmeAuthenticationFault.WrongControllerResponse;
        var failure = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(options).WaitAsync(Bound));
        Assert.NotEmpty(sink.Lines);
        Assert.Contains(sink.Lines, l => l.Contains("authenticated", StringComparison.Ordinal));

        foreach (var secret in new[] { HostSecret, ControllerSecret })
        {
            var text = secret.ToInterchangeString();
            var base64 = text[10..^1];
            var key = Convert.FromBase64String(base64)[..secret.Length];
            var needles = new[] { text, base64, Convert.ToHexString(key), Convert.ToHexStringLower(key), Convert.ToBase64String(key), BitConverter.ToString(key) };
            foreach (var line in sink.Lines.Append(failure.ToString()).Append(options.ToString()!))
            {
                foreach (var needle in needles)
                {
                    Assert.DoesNotContain(needle, line, StringComparison.Ordinal);
                }
            }
        }
    }
}
