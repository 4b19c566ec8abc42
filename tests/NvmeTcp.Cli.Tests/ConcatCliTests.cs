using System.Net;
using NvmeTcp.Cli.Commands;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Target;

namespace NvmeTcp.Cli.Tests;

/// <summary>--concat on the connecting verbs (nvme-cli's name) and on serve.</summary>
public sealed class ConcatCliTests
{
    private const string Nqn = "nqn.2026-01.io.nvmetcp:cli-concat";
    private const string Host = "nqn.2014-08.org.nvmexpress:uuid:12345678-1234-1234-1234-c0c0c0c0c0c0";

    private static async Task<NvmeTcpTarget> StartAsync(DhchapSecret secret, bool concatenation)
    {
        var subsystem = new NvmeSubsystemOptions(Nqn);
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1L << 20, 512));
        subsystem.AllowedHosts.Add(Host);
        var auth = new NvmeHostAuthentication(Host, secret) { Concatenation = concatenation };
        auth.Groups.Clear();
        auth.Groups.Add(DhchapDhGroup.Ffdhe3072);
        subsystem.HostAuthentication.Add(auth);
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), Tls = NvmeTargetTls.Optional };
        options.Subsystems.Add(subsystem);
        return await NvmeTcpTarget.StartAsync(options);
    }

    private static string[] Connection(NvmeTcpTarget target) =>
        ["-a", "127.0.0.1", "-s", target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", Nqn, "-q", Host];

    [Fact]
    public async Task Connecting_verbs_with_concat_run_inside_tls_with_the_generated_psk()
    {
        var secret = DhchapSecret.Generate(32, 1);
        var s = secret.ToInterchangeString();
        await using var target = await StartAsync(secret, concatenation: true);
        var idCtrl = await Cli.RunAsync(["id-ctrl", .. Connection(target), "-S", s, "--concat", "--verbose"]);
        Assert.True(idCtrl.ExitCode == 0, idCtrl.ToString());
        var perf = await Cli.RunAsync(["perf", .. Connection(target), "--dhchap-secret", s, "--concat", "-t", "0.2", "-S", "4096", "-i", "1"]);
        Assert.True(perf.ExitCode == 0, perf.ToString());
        Assert.Equal(2, target.Testing.GeneratedTlsPsks);
        Assert.Equal(2, target.Testing.PlainIcReqs); // one exchange in the clear per connection
        Assert.True(target.Testing.TlsIcReqs >= 3, $"{target.Testing.TlsIcReqs} TLS ICReqs");
        foreach (var run in new[] { idCtrl, perf })
        {
            Assert.DoesNotContain(s[10..^1], run.Out + run.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Concat_refusals_exit_with_the_authentication_code_or_as_usage()
    {
        var secret = DhchapSecret.Generate(32, 1);
        await using var target = await StartAsync(secret, concatenation: false);
        var refused = await Cli.RunAsync(["id-ctrl", .. Connection(target), "-S", secret.ToInterchangeString(), "--concat"]);
        Assert.Equal(ExitCodes.Authentication, refused.ExitCode);
        Assert.Contains("concatenation", refused.Error, StringComparison.Ordinal);
        var noSecret = await Cli.RunAsync(["id-ctrl", .. Connection(target), "--concat"]);
        Assert.NotEqual(0, noSecret.ExitCode);
        Assert.Contains("Concatenation", noSecret.Error, StringComparison.Ordinal);
        Assert.Equal(0, target.Testing.GeneratedTlsPsks);
    }

    [Fact]
    public void A_controller_demanding_a_secure_channel_is_answered_with_the_cli_flag()
    {
        // The library's message when AUTHREQ has ASCR and the connection was not set up for concatenation.
        var demanded = new NvmeTcp.Client.NvmeAuthenticationException(
            "The controller requires authentication followed by a secure channel (AUTHREQ 0x6) on queue 0, which this connection was not configured for (NvmeTcpOptions.Concatenation).");
        var (code, reason) = CommandRunner.Classify(demanded, CancellationToken.None);
        Assert.Equal(ExitCodes.Authentication, code);
        Assert.Contains("(--concat with --dhchap-secret)", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("NvmeTcpOptions", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_concat_allows_it_per_host_on_optional_tls_ports()
    {
        var secret = DhchapSecret.Generate(32, 1).ToInterchangeString();
        var options = ServeCommand.ToOptions(ServeCommand.Create().Parse(["--allow-host", Host, "--dhchap-secret", secret, "--dhchap-dhgroup", "ffdhe2048", "--concat"]));
        Assert.True(options.Subsystems[0].HostAuthentication.Single().Concatenation);
        Assert.Equal(NvmeTargetTls.Optional, options.Tls);
        Assert.Throws<FormatException>(() => ServeCommand.ToOptions(ServeCommand.Create().Parse(["--allow-host", Host, "--dhchap-secret", secret, "--concat"])));
        Assert.Throws<FormatException>(() => ServeCommand.ToOptions(ServeCommand.Create().Parse(["--allow-host", Host, "--concat"])));
        Assert.Throws<FormatException>(() => ServeCommand.ToOptions(ServeCommand.Create().Parse(["--allow-host", Host, "--dhchap-secret", secret, "--dhchap-dhgroup", "ffdhe2048", "--concat", "--tls-required"])));
    }
}
