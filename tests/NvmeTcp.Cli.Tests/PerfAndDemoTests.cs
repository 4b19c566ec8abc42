namespace NvmeTcp.Cli.Tests;

public sealed class PerfAndDemoTests(TargetFixture target) : IClassFixture<TargetFixture>
{
    [Theory]
    [InlineData("randread", "4k")]
    [InlineData("write", "8k")]
    [InlineData("randwrite", "4096")]
    [InlineData("read", "64k")]
    public async Task Perf_reports_iops_throughput_and_latency(string pattern, string size)
    {
        var result = await Cli.RunAsync(target, "perf", "--pattern", pattern, "--io-size", size, "--queue-depth", "4", "--time", "0.5", "-i", "2", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(pattern, json.GetProperty("pattern").GetString());
        Assert.True(json.GetProperty("ios").GetInt64() > 0);
        Assert.True(json.GetProperty("iops").GetDouble() > 0);
        Assert.True(json.GetProperty("mib_per_sec").GetDouble() > 0);
        Assert.True(json.GetProperty("avg_latency_us").GetDouble() > 0);
        Assert.Equal(2, json.GetProperty("io_queues").GetInt32());
    }

    [Fact]
    public async Task Perf_normal_prints_a_table()
    {
        var result = await Cli.RunAsync(target, "perf", "--time", "0.3", "-D", "2");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("IOPS", result.Out, StringComparison.Ordinal);
        Assert.Contains("avg latency", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Perf_io_size_not_a_multiple_of_the_block_is_a_usage_error()
    {
        var result = await Cli.RunAsync(target, "perf", "--namespace-id", "2", "--io-size", "512", "--time", "0.2");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not a multiple of the block size 4096", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_c_cancels_perf_with_exit_130_and_an_orderly_shutdown()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var started = DateTime.UtcNow;
        var result = await Cli.RunAsync([.. new[] { "perf" }, .. target.Connection, "--time", "60", "-D", "4"], cancel.Token);
        Assert.Equal(130, result.ExitCode);
        Assert.Equal($"nvmetcp perf: cancelled{Environment.NewLine}", result.Error);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));

        // The controller was shut down and its connections closed.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (target.Target.ControllerCount > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(0, target.Target.ControllerCount);
    }

    [Fact]
    public async Task Demo_walks_through_every_step_and_exits_zero()
    {
        var result = await Cli.RunAsync(["demo", "--time", "0.5"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var text = result.Out;
        foreach (var step in new[] { "1. Start a target", "2. Discover", "3. Connect", "4. Identify", "5. Write", "6. Read back and verify", "7. Perf", "8. Shut down" })
        {
            Assert.Contains(step, text, StringComparison.Ordinal);
        }

        foreach (var word in new[] { "ICReq/ICResp", "Connect", "CC.EN", "Identify", "R2T", "H2CData", "in-capsule", "C2HData", "CC.SHN", "Verified", "IOPS" })
        {
            Assert.Contains(word, text, StringComparison.Ordinal);
        }

        Assert.Equal(string.Empty, result.Error);
    }
}
