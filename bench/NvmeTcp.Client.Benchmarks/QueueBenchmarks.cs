using System.Net;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using NvmeTcp.Target;

namespace NvmeTcp.Client.Benchmarks;

/// <summary>
/// Reads and writes on one I/O queue pair, one at a time and 32 at a time (32 callers on one queue, so completions
/// arrive and are dispatched in batches), against an in-process target that a derived class starts with
/// <see cref="ConnectAsync"/> as it measures it.
/// </summary>
public abstract class QueueBenchmarks
{
    // Many I/Os per invocation: the harness's own wait on each invocation (which allocates) is spread over them, so
    // the allocation column shows what one I/O costs.
    protected const int Operations = 1024;
    private const int Depth = 32;

    // The 32 callers' own state machines are new each invocation (~4 KiB): enough I/Os per invocation to spread them.
    private const int DepthOperations = 32 * 1024;

    private readonly ValueTask[] _workers = new ValueTask[Depth];
    private NvmeTcpTarget _target = null!;
    private NvmeController _controller = null!;
    private byte[] _buffer = [];
    private byte[][] _buffers = [];

    /// <summary>The queue measured.</summary>
    protected NvmeQueuePair Queue { get; private set; } = null!;

    /// <summary>The namespace read and written.</summary>
    protected NvmeNamespace Namespace { get; private set; } = null!;

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await Queue.ReadAsync(Namespace, 0, _buffer);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await Queue.WriteAsync(Namespace, 0, _buffer);
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

    /// <summary>
    /// Starts an in-process target with a null namespace, connects one I/O queue to it and uses that queue, with
    /// pinned buffers of <paramref name="size"/> bytes. <paramref name="receiveThreads"/>: the opt-in receive modes at
    /// both ends (the client's receive threads with inline completions, the target's receive threads).
    /// </summary>
    protected async Task ConnectAsync(int size, bool dataDigest, bool receiveThreads)
    {
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), DedicatedReceiveThreads = receiveThreads };
        var subsystem = new NvmeSubsystemOptions("nqn.2026-11.dev.nvmetcp:bench");
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1L << 30, 4096, NvmeNamespaceBacking.Null));
        options.Subsystems.Add(subsystem);
        _target = await NvmeTcpTarget.StartAsync(options);
        _controller = await NvmeController.ConnectAsync(new NvmeTcpOptions
        {
            Port = _target.EndPoint.Port,
            SubsystemNqn = subsystem.Nqn,
            IoQueueCount = 1,
            DataDigest = dataDigest,
            KeepAliveTimeout = TimeSpan.Zero,
            DedicatedReceiveThreads = receiveThreads,
            InlineCompletions = receiveThreads,
        });
        Use(_controller.IoQueues[0], _controller.GetNamespace(1), size);
    }

    /// <summary>Closes what <see cref="ConnectAsync"/> opened.</summary>
    protected async Task DisconnectAsync()
    {
        await _controller.DisposeAsync();
        await _target.DisposeAsync();
    }

    private void Use(NvmeQueuePair queue, NvmeNamespace ns, int size)
    {
        Queue = queue;
        Namespace = ns;
        _buffer = GC.AllocateArray<byte>(size, pinned: true);
        _buffers = Enumerable.Range(0, Depth).Select(_ => GC.AllocateArray<byte>(size, pinned: true)).ToArray();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadLoopAsync(byte[] buffer, ulong lba, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Queue.ReadAsync(Namespace, lba, buffer);
        }
    }
}
