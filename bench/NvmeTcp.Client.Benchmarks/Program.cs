using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point: BenchmarkSwitcher picks benchmarks from the command line (e.g. --filter "*Pdu*").</summary>
public partial class Program;
