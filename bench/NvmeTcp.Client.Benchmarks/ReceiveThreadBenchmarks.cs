using BenchmarkDotNet.Attributes;
using NvmeTcp.Target;

namespace NvmeTcp.Client.Benchmarks;

/// <summary>
/// As <see cref="RoundTripBenchmarks"/>, with the opt-in receive modes at both ends: the client's
/// <see cref="NvmeTcpOptions.DedicatedReceiveThreads"/> and <see cref="NvmeTcpOptions.InlineCompletions"/> (blocking
/// reads, the receive loop parking while callers' continuations run) and the target's
/// <see cref="NvmeTargetOptions.DedicatedReceiveThreads"/>. The allocation column counts every thread of the process.
/// </summary>
[MemoryDiagnoser]
public class ReceiveThreadBenchmarks : QueueBenchmarks
{
    [Params(4096, 131072)]
    public int Size { get; set; }

    [GlobalSetup]
    public Task SetupAsync() => ConnectAsync(Size, dataDigest: false, receiveThreads: true);

    [GlobalCleanup]
    public Task CleanupAsync() => DisconnectAsync();
}
