using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using NvmeTcp.Packaging.Tests;

namespace NvmeTcp.Bench.Tests;

/// <summary>
/// CI runs each benchmark once, briefly, to prove it still builds and runs end to end. The figures of such a run mean
/// nothing and nothing here asserts on them: performance is measured with the commands in bench/README.md.
/// </summary>
public sealed class BenchSmokeTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Micro_benchmarks_run_one_dry_iteration_each()
    {
        var (exit, output) = await RunAsync("NvmeTcp.Client.Benchmarks.dll", "--smoke", "--filter", "*");
        Assert.True(exit == 0, output);
        foreach (var method in new[] { "EncodeCapsuleCmd", "DecodeC2HDataHeader", "OneShot", "IncrementalIn4KiBPieces", "ReadAsync", "WriteAsync", "WriteZeroesAsync", "DeallocateAsync", "IoPassthruFlushAsync", "Read4KAsync", "Write4KAsync", "SealSendReceiveOpenAsync", "SealAndOpen" })
        {
            Assert.Contains($"| {method} ", output, StringComparison.Ordinal);
        }

        // What BenchmarkDotNet prints when a benchmark throws or a validator refuses to run.
        Assert.DoesNotContain("Benchmarks with issues", output, StringComparison.Ordinal);
        Assert.DoesNotContain("// ERROR", output, StringComparison.Ordinal);
    }

    // The client rows of every run (and of each half of a --compare-neighbour run).
    private static readonly string[] ClientRows =
    [
        "4 KiB randread QD1, 1 queue: mean latency", "4 KiB randread QD1, 1 queue: p50 latency", "4 KiB randread QD32, 1 queue ", "4 KiB randread QD32, 2 queues",
        "128 KiB sequential read QD8, 1 queue ", "128 KiB sequential read QD8, 1 queue, data digest",
        "128 KiB sequential write QD8, 1 queue ", "128 KiB sequential write QD8, 1 queue, data digest",
        "client CPU per 4 KiB read (QD32, 1 queue)", "client CPU per 4 KiB read (QD1, 1 queue)",
        "target CPU per 4 KiB read (QD1, 1 queue)", "target CPU per 4 KiB read (QD32, 1 queue)",
        "4 KiB randread QD32, 2 paths round-robin, 1 queue each",
        "4 KiB randread QD1, 1 queue, receive thread + inline: mean latency", "4 KiB randread QD32, 1 queue, receive thread + inline",
        "target CPU per 4 KiB read (QD1), serve --receive-thread", "target CPU per 4 KiB read (QD32), serve --receive-thread",
        "4 KiB randread QD1, rx threads both ends: mean latency", "client CPU per 4 KiB read (QD1), rx threads both ends",
        "4 KiB randread QD32, 1 queue, rx threads both ends", "client CPU per 4 KiB read (QD32, 1 queue), rx threads both ends",
        "4 KiB randread QD32, 2 queues, rx threads both ends", "128 KiB sequential read QD8, 1 queue, rx threads both ends",
        "128 KiB sequential read QD8, 1 queue, data digest, rx threads both ends",
        "4 KiB randread QD32, 1 queue, TLS", "128 KiB sequential read QD8, 1 queue, TLS ", "128 KiB sequential read QD8, 1 queue, TLS vs plain",
    ];

    [Fact]
    public async Task Macro_harness_smoke_run_measures_every_limit_and_figure()
    {
        var markdown = Path.Combine(Path.GetTempPath(), $"nvmetcp-bench-{Guid.NewGuid():N}.md");
        try
        {
            var (exit, output) = await RunAsync("nvmetcp-bench.dll", "run", "--smoke", "--markdown", markdown);
            Assert.True(exit == 0, output);
            foreach (var line in new[]
            {
                "one stream, unpinned (128 KiB writes, default buffers):", "one stream, pinned, large buffers:", "QD1, unpinned:", "pipelined at depth 32, unpinned:",
                "The 128 KiB rows' limit is the better of the two one-stream placements", "client CPU target CPU", "one stream, best placement",
            })
            {
                Assert.Contains(line, output, StringComparison.Ordinal);
            }

            // The pinned placement needs two CPUs; with them, what the kernel granted and the pinned QD1 RTT are shown.
            if (Environment.ProcessorCount >= 2)
            {
                Assert.Contains("granted: sender SO_SNDBUF", output, StringComparison.Ordinal);
                Assert.Contains("same, QD1, pinned, large buffers:", output, StringComparison.Ordinal);
                Assert.Matches(@"one stream, pinned, large buffers: +[0-9,]+ MiB/s", output);
            }

            // Every perf run (9 plain, 7 against serve --receive-thread and 2 TLS on one path, 1 on two) reports the target's
            // CPU beside the client's; every table row both.
            Assert.True(Regex.Count(output, @"CPU [0-9.,]+ µs/IO, target CPU [0-9.,]+ µs/IO") == 19, output);
            var table = await File.ReadAllTextAsync(markdown);
            Assert.Contains("| Client CPU/IO | Target CPU/IO |", table, StringComparison.Ordinal);
            foreach (var row in ClientRows)
            {
                Assert.Contains(row, output, StringComparison.Ordinal);
                Assert.Matches(@"\| " + Regex.Escape(row.TrimEnd()) + @" \|.* µs \| [0-9.,]+ µs \|\r?$", table.Split('\n').Single(l => l.StartsWith("| " + row.TrimEnd() + " |", StringComparison.Ordinal)));
            }

            Assert.DoesNotContain("noisy neighbour", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(markdown);
        }
    }

    [Fact]
    public async Task Macro_harness_neighbour_smoke_run_says_so_and_stops_its_neighbour()
    {
        var (exit, output) = await RunAsync("nvmetcp-bench.dll", "run", "--smoke", "--neighbour");
        Assert.True(exit == 0, output);
        Assert.Contains("runs beside the whole run, limits included", output, StringComparison.Ordinal);
        foreach (var row in ClientRows)
        {
            Assert.Contains(row, output, StringComparison.Ordinal);
        }

        AssertNeighbourGone(output);
    }

    [Fact]
    public async Task Macro_harness_compare_neighbour_smoke_run_prints_loaded_over_idle_for_every_row()
    {
        var (exit, output) = await RunAsync("nvmetcp-bench.dll", "run", "--smoke", "--compare-neighbour");
        Assert.True(exit == 0, output);
        Assert.Contains("(c) the same client rows again, with a noisy neighbour", output, StringComparison.Ordinal);
        var comparison = output[output.IndexOf("Beside the noisy neighbour: kept = loaded/idle", StringComparison.Ordinal)..];
        foreach (var row in ClientRows)
        {
            Assert.Matches(Regex.Escape(row.TrimEnd()) + @" .* +[0-9.]+ >= 0\.75  (yes|no)", comparison);
        }

        AssertNeighbourGone(output);
    }

    [Fact]
    public async Task Harness_refuses_neighbour_and_compare_neighbour_together()
    {
        var (exit, output) = await RunAsync("nvmetcp-bench.dll", "run", "--smoke", "--neighbour", "--compare-neighbour");
        Assert.Equal(1, exit);
        Assert.Contains("exclude each other", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spin_neighbour_stops_when_its_standard_input_closes()
    {
        using var spin = StartSpin(maxSeconds: 600);
        try
        {
            Assert.StartsWith("spinning", await spin.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)), StringComparison.Ordinal);
            spin.StandardInput.Close();
            await spin.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, spin.ExitCode);
        }
        finally
        {
            Stop(spin);
        }
    }

    [Fact]
    public async Task Spin_neighbour_stops_by_itself_at_its_bound()
    {
        using var spin = StartSpin(maxSeconds: 1);
        try
        {
            // Its standard input stays open: only the bound can stop it.
            await spin.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, spin.ExitCode);
        }
        finally
        {
            Stop(spin);
        }
    }

    // The harness stops its neighbour by PID before it exits: the PID it printed is no longer a process.
    private static void AssertNeighbourGone(string output)
    {
        var pids = Regex.Matches(output, @"nvmetcp-bench spin, PID (\d+)").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().ToArray();
        Assert.Single(pids);
        foreach (var pid in pids)
        {
            Assert.False(File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("spin", StringComparison.Ordinal), $"the neighbour {pid} still runs");
        }
    }

    private static Process StartSpin(int maxSeconds)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nvmetcp-bench.dll"));
        info.ArgumentList.Add("spin");
        info.ArgumentList.Add(maxSeconds.ToString(CultureInfo.InvariantCulture));
        return Process.Start(info) ?? throw new InvalidOperationException("could not start the spin process");
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    private static Task<(int ExitCode, string Output)> RunAsync(string dll, params string[] args) =>
        ProcessRunner.RunAsync("dotnet", AppContext.BaseDirectory, Deadline, [Path.Combine(AppContext.BaseDirectory, dll), .. args]);
}
