using System.Globalization;
using System.Text.Json;
using NvmeTcp.Cli.Commands;
using NvmeTcp.Target;

namespace NvmeTcp.Cli.Tests;

public sealed class PerfAndDemoTests(TargetFixture target) : IClassFixture<TargetFixture>
{
    [Theory]
    [InlineData("randread", "4k")]
    [InlineData("write", "8k")]
    [InlineData("randwrite", "4096")]
    [InlineData("read", "64k")]
    [InlineData("randrw", "4k")]
    public async Task Perf_reports_iops_throughput_latency_and_cpu(string pattern, string size)
    {
        var result = await Cli.RunAsync(target, "perf", "--pattern", pattern, "--io-size", size, "--queue-depth", "4", "--time", "0.3", "-i", "2", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        AssertConsistent(json);
        Assert.Equal(pattern, json.GetProperty("pattern").GetString());
        Assert.Equal(PerfSize(size), json.GetProperty("io_size").GetInt32());
        Assert.Equal(4, json.GetProperty("queue_depth").GetInt32());
        Assert.Equal(2, json.GetProperty("io_queues").GetInt32());
        Assert.True(json.GetProperty("ios").GetInt64() > 0);
        Assert.Equal(pattern == "randrw", json.TryGetProperty("rwmix_read", out _));
        Assert.False(json.TryGetProperty("verify_errors", out _));
        var reads = json.GetProperty("reads").GetInt64();
        var writes = json.GetProperty("writes").GetInt64();
        switch (pattern)
        {
            case "read" or "randread":
                Assert.Equal(0, writes);
                break;
            case "write" or "randwrite":
                Assert.Equal(0, reads);
                break;
            default:
                // 50% reads over hundreds of I/Os: both kinds, with overwhelming probability.
                Assert.Equal(50, json.GetProperty("rwmix_read").GetInt32());
                Assert.True(reads > 0 && writes > 0, result.Out);
                break;
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public async Task Perf_randrw_mix_edges_are_all_writes_or_all_reads(int readPercent)
    {
        var result = await Cli.RunAsync(target, "perf", "--pattern", "randrw", "--rwmix-read", readPercent.ToString(CultureInfo.InvariantCulture), "-D", "2", "--time", "0.2", "-i", "1", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        AssertConsistent(json);
        Assert.Equal(readPercent, json.GetProperty("rwmix_read").GetInt32());
        var ios = json.GetProperty("ios").GetInt64();
        Assert.True(ios > 0);
        Assert.Equal(readPercent == 100 ? ios : 0, json.GetProperty("reads").GetInt64());
        Assert.Equal(readPercent == 0 ? ios : 0, json.GetProperty("writes").GetInt64());
    }

    [Theory]
    [InlineData("--receive-thread")]
    [InlineData("--inline-completions")]
    [InlineData("--receive-thread --inline-completions")]
    public async Task Perf_with_the_receive_settings_verifies_its_data(string flags)
    {
        string[] arguments = ["perf", "--pattern", "randrw", "--verify", "--size", "1m", "--io-size", "8k", "-D", "8", "--time", "0.3", "-i", "2", "-o", "json", .. flags.Split(' ')];
        var result = await Cli.RunAsync(target, arguments);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        AssertConsistent(json);
        Assert.True(json.GetProperty("ios").GetInt64() > 0);
        Assert.Equal(0, json.GetProperty("verify_errors").GetInt64());
    }

    [Fact]
    public async Task Perf_normal_prints_a_table_with_latency_percentiles_and_cpu()
    {
        var result = await Cli.RunAsync(target, "perf", "--time", "0.3", "-D", "2", "--pattern", "randrw", "-M", "70");
        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var text in new[] { "IOPS", "avg latency", "randrw 70% reads 4 KiB", "lat (µs): min=", "p50=", "p99=", "p99.9=", "max=", "reads=", "writes=", "cpu (whole process)", "µs/IO" })
        {
            Assert.Contains(text, result.Out, StringComparison.Ordinal);
        }

        Assert.Equal(string.Empty, result.Error);
    }

    [Fact]
    public async Task Perf_draws_a_latency_histogram_and_plots_iops_and_percentiles_to_svg()
    {
        var directory = Directory.CreateTempSubdirectory("nvmetcp-plot-").FullName;
        try
        {
            var svg = Path.Combine(directory, "perf.svg");
            var result = await Cli.RunAsync(target, "perf", "--time", "1", "-D", "2", "-i", "1", "--plot", svg);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("latency histogram (I/Os per bucket)", result.Out, StringComparison.Ordinal);
            Assert.Matches(@"<= \d+ µs\s+█", result.Out);

            // Well-formed SVG holding both charts, with their titles, axis titles and a line each.
            var document = System.Xml.Linq.XDocument.Load(svg);
            Assert.Equal("svg", document.Root!.Name.LocalName);
            var charts = document.Root.Elements().Where(e => e.Name.LocalName == "svg").ToList();
            Assert.Equal(2, charts.Count);
            var text = string.Concat(document.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value + "|"));
            foreach (var title in new[] { "IOPS over time", "time (s)", "Latency by percentile", "latency (µs)", "p99.9" })
            {
                Assert.Contains(title, text, StringComparison.Ordinal);
            }

            Assert.All(charts, c => Assert.Contains(c.Descendants(), e => e.Name.LocalName == "polyline"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Perf_warmup_is_excluded_and_the_run_still_measures()
    {
        var result = await Cli.RunAsync(target, "perf", "--warmup", "0.2", "--time", "0.2", "-D", "2", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        AssertConsistent(json);
        Assert.True(json.GetProperty("ios").GetInt64() > 0);

        // Measured from the end of the warmup: the run covers its 0.2 s, and a warmed-up run is not counted twice.
        Assert.True(json.GetProperty("seconds").GetDouble() >= 0.2, result.Out);
    }

    [Theory]
    [InlineData("randrw")]
    [InlineData("randread")]
    [InlineData("read")]
    [InlineData("randwrite")]
    [InlineData("write")]
    public async Task Perf_verify_passes_on_a_memory_namespace(string pattern)
    {
        var result = await Cli.RunAsync(target, "perf", "--pattern", pattern, "--verify", "--size", "1m", "-D", "4", "-i", "2", "--time", "0.3", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        AssertConsistent(json);
        Assert.Equal(0, json.GetProperty("verify_errors").GetInt64());
        Assert.Equal(string.Empty, result.Error);
    }

    [Fact]
    public async Task Perf_verify_of_a_read_pattern_checks_every_read()
    {
        // 4 KiB blocks, 8 KiB I/Os: every block of every read is checked, after the region was written first.
        var result = await Cli.RunAsync(target, "perf", "--namespace-id", "2", "--pattern", "randread", "--io-size", "8k", "--verify", "--size", "512k", "-D", "3", "--time", "0.2");
        Assert.True(result.ExitCode == 0, result.ToString());
        var line = result.Out.Split('\n').Single(l => l.Contains("verify:", StringComparison.Ordinal));
        Assert.EndsWith("blocks read back, all as written", line.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("verify: 0 blocks", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Perf_verify_detects_data_damaged_on_the_wire()
    {
        // Every C2HData on I/O queue 1 gets bytes 40..47 overwritten: inside the data, after the PDU header.
        var fault = target.Target.Testing.Faults.Add(new NvmeTargetFault
        {
            Pdu = NvmeFaultPdu.C2HData,
            QueueId = 1,
            Action = NvmeFaultAction.Patch,
            Offset = 40,
            Bytes = new byte[] { 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5, 0xA5 },
            Count = int.MaxValue,
        });
        try
        {
            var result = await Cli.RunAsync(target, "perf", "--pattern", "randread", "--verify", "--size", "256k", "-D", "2", "-i", "1", "--time", "0.2", "-o", "json");
            Assert.True(result.ExitCode == 6, result.ToString());
            Assert.True(fault.Applied > 0);
            var json = result.Json();
            Assert.True(json.GetProperty("verify_errors").GetInt64() > 0, result.Out);
            Assert.Contains("blocks read back differ from what this run wrote", result.Error, StringComparison.Ordinal);
            Assert.Matches(@"verify: LBA \d+: expected lba \d+ seed [0-9a-f]{16} seq \d+, found lba", result.Error);
        }
        finally
        {
            target.Target.Testing.Faults.Remove(fault);
        }
    }

    [Theory]
    [InlineData("--pattern", "sequential")]
    [InlineData("--rwmix-read", "101")]
    [InlineData("--rwmix-read", "-1")]
    [InlineData("--queue-depth", "0")]
    [InlineData("--time", "0")]
    [InlineData("--warmup", "-1")]
    [InlineData("--io-size", "3x")]
    [InlineData("--size", "0")]
    [InlineData("--size", "1t")]
    [InlineData("--io-size", "16m", "--queue-depth", "4096")]
    public async Task Perf_invalid_options_are_usage_errors(params string[] options)
    {
        // Short, should one of them be accepted after all.
        string[] time = options.Contains("--time") ? [] : ["--time", "0.2"];
        var result = await Cli.RunAsync(target, ["perf", .. options, .. time]);
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.NotEqual(string.Empty, result.Error);
    }

    [Fact]
    public void Verify_blocks_round_trip_and_any_damage_is_found()
    {
        var buffer = new byte[4 * 512];
        var scratch = new byte[512];
        PerfVerify.Stamp(buffer, 512, 100, 0x1234, 7);
        Assert.Equal(0, PerfVerify.Check(buffer, scratch, 100, 0x1234, 7, out _));

        // Wrong place, older write, other run: all found, with what the header says.
        Assert.Equal(4, PerfVerify.Check(buffer, scratch, 101, 0x1234, 7, out var misplaced));
        Assert.Equal((101UL, 100UL), (misplaced.Lba, misplaced.FoundLba));
        Assert.Equal(4, PerfVerify.Check(buffer, scratch, 100, 0x1234, 8, out var stale));
        Assert.Equal((8u, 7u), (stale.ExpectedSequence, stale.FoundSequence));
        Assert.Equal(4, PerfVerify.Check(buffer, scratch, 100, 0x4321, 7, out _));

        // One flipped bit in the pattern of the third block.
        buffer[(2 * 512) + 300] ^= 1;
        Assert.Equal(1, PerfVerify.Check(buffer, scratch, 100, 0x1234, 7, out var flipped));
        Assert.Equal((102UL, 102UL, 300), (flipped.Lba, flipped.FoundLba, flipped.FirstBadByte));
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
    public async Task Ctrl_c_while_verify_writes_the_region_first_exits_130()
    {
        // 512-byte I/Os at QD 1 over 16 MiB: the writes before a verified read run take far longer than the cancel.
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(0.5));
        var result = await Cli.RunAsync([.. new[] { "perf" }, .. target.Connection, "--pattern", "read", "--verify", "--io-size", "512", "-D", "1", "--time", "60"], cancel.Token);
        Assert.Equal(130, result.ExitCode);
        Assert.Equal($"nvmetcp perf: cancelled{Environment.NewLine}", result.Error);
    }

    [Fact]
    public async Task Demo_walks_through_every_step_and_exits_zero()
    {
        var result = await Cli.RunAsync(["demo", "--time", "0.5"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var text = result.Out;
        foreach (var step in new[] { "1. Start a target", "2. Discover", "3. Connect", "4. Identify", "5. Write", "6. Read back and verify", "7. Perf", "8. Multipath", "9. Shut down" })
        {
            Assert.Contains(step, text, StringComparison.Ordinal);
        }

        foreach (var word in new[] { "ICReq/ICResp", "Connect", "CC.EN", "Identify", "R2T", "H2CData", "in-capsule", "C2HData", "CC.SHN", "Verified", "IOPS" })
        {
            Assert.Contains(word, text, StringComparison.Ordinal);
        }

        // The multipath act: I/O on both paths, then on port 1 only, then on port 2 only; nothing failed, all verified.
        var phases = text.Split('\n').Where(l => l.Contains(" s  ", StringComparison.Ordinal)).Select(l => l.Split('│', StringSplitOptions.TrimEntries)).ToList();
        Assert.Equal(3, phases.Count);
        long Ios(string[] row, int path) => long.Parse(row[2 + path], NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.Contains("both optimized", phases[0][1], StringComparison.Ordinal);
        Assert.True(Ios(phases[0], 0) > 0 && Ios(phases[0], 1) > 0, text);
        Assert.Contains("port 1 removed, port 2 optimized", phases[2][1], StringComparison.Ordinal);
        // At most the 8 I/Os in flight can still complete through port 1 as it goes.
        Assert.InRange(Ios(phases[2], 0), 0, 8);
        Assert.True(Ios(phases[2], 1) > 0, text);
        Assert.Matches(@"I/Os \([0-9,]+ reads, [0-9,]+ writes\): not one failed", text);
        Assert.Matches(@"Verified: [0-9,]+ blocks read back, every one as written", text);
        Assert.Equal(string.Empty, result.Error);
    }

    private static int PerfSize(string size) => PerfCommand.ParseSize(size, out var bytes) ? bytes : throw new ArgumentException(size);

    // The keys another harness parses, and the relations between them.
    private static void AssertConsistent(JsonElement json)
    {
        var ios = json.GetProperty("ios").GetInt64();
        Assert.Equal(ios, json.GetProperty("reads").GetInt64() + json.GetProperty("writes").GetInt64());
        Assert.True(json.GetProperty("seconds").GetDouble() > 0);
        var iops = json.GetProperty("iops").GetDouble();
        Assert.Equal(ios / json.GetProperty("seconds").GetDouble(), iops, iops * 0.01 + 0.1);
        Assert.Equal(iops * json.GetProperty("io_size").GetInt32() / (1 << 20), json.GetProperty("mib_per_sec").GetDouble(), iops * 0.01 + 0.1);
        var latency = json.GetProperty("latency_us");
        double L(string name) => latency.GetProperty(name).GetDouble();
        Assert.True(L("min") > 0, json.ToString());
        Assert.True(L("min") <= L("p50") && L("p50") <= L("p99") && L("p99") <= L("p99_9") && L("p99_9") <= L("max"), json.ToString());
        Assert.InRange(L("mean"), L("min"), L("max"));
        Assert.Equal(L("mean"), json.GetProperty("avg_latency_us").GetDouble());
        Assert.True(json.GetProperty("cpu_seconds").GetDouble() >= 0);
        Assert.True(json.GetProperty("cpu_us_per_io").GetDouble() >= 0);
        Assert.True(json.GetProperty("cpu_utilization_pct").GetDouble() >= 0);
    }
}
