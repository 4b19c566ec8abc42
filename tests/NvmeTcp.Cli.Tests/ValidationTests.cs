using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace NvmeTcp.Cli.Tests;

/// <summary>
/// Bad input is refused while the command line is parsed: exit 1 and a message naming the option. The verbs are
/// pointed at a port where nothing listens, so a verb that got as far as connecting would exit 2 instead.
/// </summary>
public sealed class ValidationTests
{
    private static readonly string[] Nowhere = ["-a", "127.0.0.1", "-s", UnusedPort(), "-n", "nqn.2026-01.io.nvmetcp:nowhere"];

    [Fact]
    public async Task Good_input_at_the_same_address_gets_as_far_as_connecting()
    {
        var result = await Cli.RunAsync(["get-feature", .. Nowhere, "--feature-id", "7"]);
        Assert.True(result.ExitCode == 2, result.ToString());
    }

    [Theory]
    [InlineData("--feature-id must be 1 to 0xff, not 256", "get-feature", "--feature-id", "0x100")]
    [InlineData("--feature-id must be 1 to 0xff, not 0", "set-feature", "-f", "0", "-V", "1")]
    [InlineData("--log-id must be 0 to 0xff, not 0x100", "get-log", "--log-id", "0x100", "-l", "4")]
    [InlineData("--log-len must be a non-zero multiple of 4 up to 16 MiB, not 6", "get-log", "--log-id", "2", "-l", "6")]
    [InlineData("--log-entries must be 1 to 256, not 257", "error-log", "-e", "257")]
    [InlineData("--ranges: '0-8' is not a range SLBA:COUNT", "dsm", "-d", "--ranges", "0:8,0-8")]
    [InlineData("--ranges: a range's block count must be 1 to 4294967295, not 0", "dsm", "-d", "--ranges", "0:0")]
    [InlineData("--blocks: a range's block count must be 1 to 4294967295, not 0", "dsm", "-d", "--slbs", "0,8", "--blocks", "8,0")]
    [InlineData("--slbs has 2 values but --blocks has 1", "dsm", "-d", "--slbs", "0,1", "--blocks", "8")]
    [InlineData("give 1 to 256 ranges, not 0", "dsm", "-d")]
    [InlineData("give --deallocate", "dsm", "--ranges", "0:8")]
    [InlineData("--block-count must be at least 1, not 0", "write-zeroes", "--block-count", "0")]
    [InlineData("--block-count must be at least 1, not -1", "read", "--block-count", "-1")]
    [InlineData("--data file '/nonexistent/nvmetcp' does not exist", "compare", "--data", "/nonexistent/nvmetcp")]
    [InlineData("--opcode must be 0 to 0xff, not 0x100", "admin-passthru", "--opcode", "0x100")]
    [InlineData("say which way the data goes: --read or --write", "io-passthru", "--opcode", "0x03", "--data-len", "512")]
    [InlineData("--queue-depth must be 1 to 4096", "perf", "--queue-depth", "0")]
    [InlineData("--time must be 0 to 86400 seconds", "perf", "--time", "NaN")]
    [InlineData("--queue-depth x --io-size needs more than 2 GiB of buffers", "perf", "--pattern", "randrw", "--io-size", "1m", "-D", "1025")]
    [InlineData("bad connection option: IoQueueSize must be 2 to 4096", "id-ctrl", "--queue-size", "1")]
    public async Task Bad_values_are_usage_errors_before_connecting(string message, params string[] args)
    {
        var result = await Cli.RunAsync([args[0], .. Nowhere, .. args[1..]]);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("'six' is not a number", "admin-passthru", "--opcode", "six", "--data-len", "16")]
    [InlineData("--opcode", "admin-passthru", "--data-len", "16")]
    [InlineData("sequential", "perf", "--pattern", "sequential", "--verify")]
    [InlineData("3x", "perf", "--io-size", "3x")]
    [InlineData("--trsvcid", "discover", "-s", "port")]
    public async Task A_value_a_check_of_several_options_needs_is_reported_by_its_own_error(string named, params string[] args)
    {
        // The checks of several options together (dsm, passthru, perf, the connection) read values that may not parse.
        string[] connection = args.Contains("-s") ? ["-a", "127.0.0.1"] : Nowhere;
        var result = await Cli.RunAsync([args[0], .. connection, .. args[1..]]);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(named, result.Error, StringComparison.Ordinal);
    }

    private static string UnusedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port.ToString(CultureInfo.InvariantCulture);
    }
}
