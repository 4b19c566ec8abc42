using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// "--smoke" (used by tests/NvmeTcp.Bench.Tests): every benchmark once, in process, from whatever build the test run
// made (Debug included) and wherever it lives; the figures of such a run mean nothing. Otherwise BenchmarkSwitcher
// picks benchmarks from the command line (e.g. --filter "*Pdu*").
var smoke = args.Contains("--smoke");
IConfig? config = smoke
    ? ManualConfig.CreateMinimumViable()
        .AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance))
        .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
        .WithOptions(ConfigOptions.DisableOptimizationsValidator)
    : null;
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args.Where(a => a != "--smoke").ToArray(), config);

/// <summary>Entry point: BenchmarkSwitcher picks benchmarks from the command line (e.g. --filter "*Pdu*").</summary>
public partial class Program;
