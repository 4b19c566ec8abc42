using System.Net;
using System.Runtime.CompilerServices;
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
public class ReceiveThreadBenchmarks
{
    private const int Operations = 1024;
    private const int Depth = 32;
    private const int DepthOperations = 32 * 1024;

    private readonly ValueTask[] _workers = new ValueTask[Depth];
    private NvmeTcpTarget _target = null!;
    private NvmeController _controller = null!;
    private NvmeQueuePair _queue = null!;
    private NvmeNamespace _namespace = null!;
    private byte[] _buffer = [];
    private byte[][] _buffers = [];

    [Params(4096, 131072)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), DedicatedReceiveThreads = true };
        var subsystem = new NvmeSubsystemOptions("nqn.2026-11.dev.nvmetcp:bench");
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1L << 30, 4096, NvmeNamespaceBacking.Null));
        options.Subsystems.Add(subsystem);
        _target = await NvmeTcpTarget.StartAsync(options);
        _controller = await NvmeController.ConnectAsync(new NvmeTcpOptions
        {
            Port = _target.EndPoint.Port,
            SubsystemNqn = subsystem.Nqn,
            IoQueueCount = 1,
            KeepAliveTimeout = TimeSpan.Zero,
            DedicatedReceiveThreads = true,
            InlineCompletions = true,
        });
        _queue = _controller.IoQueues[0];
        _namespace = _controller.GetNamespace(1);
        _buffer = GC.AllocateArray<byte>(Size, pinned: true);
        _buffers = Enumerable.Range(0, Depth).Select(_ => GC.AllocateArray<byte>(Size, pinned: true)).ToArray();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _controller.DisposeAsync();
        await _target.DisposeAsync();
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await _queue.ReadAsync(_namespace, 0, _buffer);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await _queue.WriteAsync(_namespace, 0, _buffer);
        }
    }

    [Benchmark(OperationsPerInvoke = DepthOperations)]
    public async Task ReadAsyncQd32()
    {
        for (var w = 0; w < Depth; w++)
        {
            // Each stored ValueTask is awaited exactly once, below.
#pragma warning disable CA2012
            _workers[w] = ReadLoopAsync(_buffers[w], (ulong)w, DepthOperations / Depth);
#pragma warning restore CA2012
        }

        for (var w = 0; w < Depth; w++)
        {
            await _workers[w];
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadLoopAsync(byte[] buffer, ulong lba, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await _queue.ReadAsync(_namespace, lba, buffer);
        }
    }
}
