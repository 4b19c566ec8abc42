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

    [Fact]
    public async Task Macro_harness_smoke_run_measures_every_limit_and_figure()
    {
        var (exit, output) = await RunAsync("nvmetcp-bench.dll", "run", "--smoke");
        Assert.True(exit == 0, output);
        foreach (var line in new[]
        {
            "one stream of 128 KiB writes:", "QD1:", "pipelined at depth 32:",
            "4 KiB randread QD1, 1 queue: mean latency", "4 KiB randread QD32, 1 queue", "4 KiB randread QD32, 2 queues", "4 KiB randread QD32, 2 paths round-robin, 1 queue each",
            "128 KiB sequential read QD8, 1 queue ", "128 KiB sequential read QD8, 1 queue, data digest",
            "128 KiB sequential write QD8, 1 queue ", "128 KiB sequential write QD8, 1 queue, data digest",
            "client CPU per 4 KiB read (QD32, 1 queue)",
            "4 KiB randread QD32, 1 queue, TLS", "128 KiB sequential read QD8, 1 queue, TLS ", "128 KiB sequential read QD8, 1 queue, TLS vs plain",
        })
        {
            Assert.Contains(line, output, StringComparison.Ordinal);
        }
    }

    private static Task<(int ExitCode, string Output)> RunAsync(string dll, params string[] args) =>
        ProcessRunner.RunAsync("dotnet", AppContext.BaseDirectory, Deadline, [Path.Combine(AppContext.BaseDirectory, dll), .. args]);
}
