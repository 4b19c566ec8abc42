using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using NvmeTcp.Target;

namespace NvmeTcp.Client.Benchmarks;

/// <summary>
/// Commands submitted and completed against the in-process target's null namespace over loopback TCP: one at a time,
/// and 32 at a time (32 callers on one queue, so completions arrive and are dispatched in batches).
/// The allocation column is the proof that the I/O path allocates nothing per operation in steady state; it counts
/// every thread of the process, so it includes the target, which runs in the same process.
/// <c>Listeners</c>: <c>none</c>, or <c>metrics</c> with a <see cref="MeterListener"/> enabling every instrument of the
/// library's meter (as an OpenTelemetry SDK would), so both paths of an I/O are measured, or <c>traces</c>: metrics and
/// an <see cref="ActivityListener"/> sampling every activity (each I/O then allocates its activity and tags, and no more:
/// write-zeroes, dsm and io-passthru carry no closure).
/// </summary>
[MemoryDiagnoser]
public class RoundTripBenchmarks : IDisposable
{
    private NvmeTcpTarget _target = null!;
    private NvmeController _controller = null!;
    private NvmeQueuePair _queue = null!;
    private NvmeNamespace _namespace = null!;
    private byte[] _buffer = [];
    private byte[][] _buffers = [];
    private readonly ValueTask[] _workers = new ValueTask[Depth];
    private readonly (ulong, uint)[] _ranges = [(0, 8)];

    [Params(4096, 131072)]
    public int Size { get; set; }

    [Params(false, true)]
    public bool DataDigest { get; set; }

    [Params("none", "metrics", "traces")]
    public string Listeners { get; set; } = "none";

    private MeterListener? _listener;
    private ActivityListener? _activityListener;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        if (Listeners is "metrics" or "traces")
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter.Name == NvmeTcpTelemetry.MeterName)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
            _listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
            _listener.SetMeasurementEventCallback<int>(static (_, _, _, _) => { });
            _listener.Start();
        }

        if (Listeners == "traces")
        {
            _activityListener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == NvmeTcpTelemetry.ActivitySourceName,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(_activityListener);
        }

        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        var subsystem = new NvmeSubsystemOptions("nqn.2026-11.dev.nvmetcp:bench");
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1L << 30, 4096, NvmeNamespaceBacking.Null));
        options.Subsystems.Add(subsystem);
        _target = await NvmeTcpTarget.StartAsync(options);
        _controller = await NvmeController.ConnectAsync(new NvmeTcpOptions
        {
            Port = _target.EndPoint.Port,
            SubsystemNqn = subsystem.Nqn,
            IoQueueCount = 1,
            DataDigest = DataDigest,
            KeepAliveTimeout = TimeSpan.Zero,
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
        Dispose();
    }

    /// <summary>Stops the meter listener, if any.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Stops the meter listener, if any.</summary>
    /// <param name="disposing">Called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        _listener?.Dispose();
        _listener = null;
        _activityListener?.Dispose();
        _activityListener = null;
    }

    // Many I/Os per invocation: the harness's own wait on each invocation (which allocates) is spread over them, so
    // the allocation column shows what one I/O costs.
    private const int Operations = 1024;
    private const int Depth = 32;

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

    // The commands without data in the caller's buffer; their figures do not depend on Size. Deallocate's own range
    // array (and the caller's list) are the bytes it allocates whatever listens.
    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteZeroesAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await _queue.WriteZeroesAsync(_namespace, 0, 8);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DeallocateAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await _queue.DeallocateAsync(_namespace, _ranges);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask IoPassthruFlushAsync()
    {
        var flush = new NvmeCommand { Opcode = 0x00, NamespaceId = _namespace.Id };
        for (var i = 0; i < Operations; i++)
        {
            await _queue.IoPassthruAsync(flush);
        }
    }

    // The 32 callers' own state machines are new each invocation (~4 KiB): enough I/Os per invocation to spread them.
    private const int DepthOperations = 32 * 1024;

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
