using System.Net;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>
/// Secure channel concatenation between the client and the in-process target: the DH-HMAC-CHAP exchange in the clear
/// generates the TLS PSK, and every way it can be refused gives a typed error before anything reaches TLS.
/// </summary>
public sealed class ConcatenationTests
{
    private const string Host = "nqn.2014-08.org.nvmexpress:uuid:c0c0c0c0-bbbb-cccc-dddd-eeeeeeeeeeee";

    private static readonly DhchapSecret HostSecret = DhchapSecret.Generate(32, 1);

    private static Task<NvmeTcpTarget> StartConcatAsync(Action<NvmeHostAuthentication>? configure = null) =>
        StartAsync(
            o => o.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
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
