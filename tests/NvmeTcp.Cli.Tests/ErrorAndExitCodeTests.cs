using System.Net;
using System.Net.Sockets;

namespace NvmeTcp.Cli.Tests;

public sealed class ErrorAndExitCodeTests(TargetFixture target) : IClassFixture<TargetFixture>
{
    [Fact]
    public async Task Unreachable_target_is_the_transport_exit_code_with_one_line()
    {
        // A port that was just free: nothing listens on it.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await Cli.RunAsync(["id-ctrl", "-a", "127.0.0.1", "-s", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", TargetFixture.Nqn]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(string.Empty, result.Out);
        var line = Assert.Single(result.Error.Trim().Split('\n'));
        Assert.StartsWith("nvmetcp id-ctrl: target unreachable", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_nqn_is_the_nvme_status_exit_code_with_the_status_name()
    {
        var result = await Cli.RunAsync(["id-ctrl", "-a", "127.0.0.1", "-s", target.Target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", "nqn.2026-01.io.nvmetcp:nobody"]);
        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Contains("Connect Invalid Parameters", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Timeout_option_in_milliseconds_gives_the_timeout_exit_code()
    {
        // A target of its own whose I/O completions on queue 1 are held back for 3 s.
        var subsystem = new NvmeTcp.Target.NvmeSubsystemOptions(TargetFixture.Nqn);
        subsystem.Namespaces.Add(new NvmeTcp.Target.NvmeNamespaceOptions(1, 1 << 20, 512));
        var options = new NvmeTcp.Target.NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options.Subsystems.Add(subsystem);
        await using var slow = await NvmeTcp.Target.NvmeTcpTarget.StartAsync(options);
        slow.Testing.Faults.Add(new NvmeTcp.Target.NvmeTargetFault { QueueId = 1, Pdu = NvmeTcp.Target.NvmeFaultPdu.CapsuleResp, Action = NvmeTcp.Target.NvmeFaultAction.Delay, Delay = TimeSpan.FromSeconds(3) });
        var port = slow.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var result = await Cli.RunAsync(["flush", "-a", "127.0.0.1", "-s", port, "-n", TargetFixture.Nqn, "--namespace-id", "1", "-t", "200", "-l", "0"]);
        Assert.True(result.ExitCode == 5, result.ToString());
        var line = Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Contains("0.2 s", line, StringComparison.Ordinal);
    }

    // AUTHREQ is DW0 bits 16-31 of the Connect CQE, byte 10 of the CapsuleResp: the admin Connect demands DH-HMAC-CHAP.
    [Fact]
    public async Task Authentication_demanded_is_its_own_exit_code()
    {
        await using var demanding = await StartOwnTargetAsync();
        demanding.Testing.Faults.Add(new NvmeTcp.Target.NvmeTargetFault { QueueId = 0, Pdu = NvmeTcp.Target.NvmeFaultPdu.CapsuleResp, Action = NvmeTcp.Target.NvmeFaultAction.Patch, Offset = 10, Bytes = new byte[] { 0x02 } });
        var result = await Cli.RunAsync(["id-ctrl", "-a", "127.0.0.1", "-s", Port(demanding), "-n", TargetFixture.Nqn]);
        Assert.True(result.ExitCode == 7, result.ToString());
        var line = Assert.Single(result.Error.Trim().Split('\n'));
        Assert.StartsWith("nvmetcp id-ctrl: authentication:", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Controller_fatal_status_is_its_own_exit_code()
    {
        await using var fatal = await StartOwnTargetAsync();
        fatal.Testing.SetControllersFatal(TargetFixture.Nqn, fatal: true);
        var result = await Cli.RunAsync(["id-ctrl", "-a", "127.0.0.1", "-s", Port(fatal), "-n", TargetFixture.Nqn]);
        Assert.True(result.ExitCode == 8, result.ToString());
        Assert.Contains("CSTS.CFS", result.Error, StringComparison.Ordinal);
    }

    private static Task<NvmeTcp.Target.NvmeTcpTarget> StartOwnTargetAsync()
    {
        var subsystem = new NvmeTcp.Target.NvmeSubsystemOptions(TargetFixture.Nqn);
        subsystem.Namespaces.Add(new NvmeTcp.Target.NvmeNamespaceOptions(1, 1 << 20, 512));
        var options = new NvmeTcp.Target.NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options.Subsystems.Add(subsystem);
        return NvmeTcp.Target.NvmeTcpTarget.StartAsync(options);
    }

    private static string Port(NvmeTcp.Target.NvmeTcpTarget target) => target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Verbose_adds_the_stack_trace()
    {
        var result = await Cli.RunAsync(["id-ctrl", "-a", "127.0.0.1", "-s", target.Target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", "nqn.2026-01.io.nvmetcp:nobody", "--verbose"]);
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("NvmeStatusException", result.Error, StringComparison.Ordinal);
        Assert.Contains("   at ", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("id-ctrl")]
    [InlineData("id-ctrl", "-a", "127.0.0.1", "-o", "yaml")]
    [InlineData("read", "-a", "127.0.0.1", "--start-block", "minus-one")]
    [InlineData("admin-passthru", "-a", "127.0.0.1")]
    [InlineData("no-such-verb")]
    public async Task Bad_command_lines_are_usage_errors(params string[] args)
    {
        var result = await Cli.RunAsync(args);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Help_lists_every_verb_and_the_exit_codes()
    {
        var result = await Cli.RunAsync(["--help"]);
        Assert.Equal(0, result.ExitCode);
        foreach (var verb in new[] { "demo", "discover", "list", "id-ctrl", "id-ns", "list-ns", "get-log", "smart-log", "error-log", "get-feature", "set-feature", "read", "write", "compare", "flush", "write-zeroes", "dsm", "admin-passthru", "io-passthru", "perf" })
        {
            Assert.Contains($"  {verb} ", result.Out, StringComparison.Ordinal);
        }

        Assert.Contains("130  cancelled", result.Out, StringComparison.Ordinal);
        Assert.Contains("3    the controller returned an NVMe error status", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Block_count_help_says_it_is_not_zero_based()
    {
        var result = await Cli.RunAsync(["read", "--help"]);
        Assert.Contains("unlike nvme-cli's zero-based -c", result.Out, StringComparison.Ordinal);
    }
}
