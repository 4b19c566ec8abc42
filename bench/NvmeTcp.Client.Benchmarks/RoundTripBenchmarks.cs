using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

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
public class RoundTripBenchmarks : QueueBenchmarks, IDisposable
{
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

        await ConnectAsync(Size, DataDigest, receiveThreads: false);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await DisconnectAsync();
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

    // The commands without data in the caller's buffer; their figures do not depend on Size. Deallocate's own range
    // array (and the caller's list) are the bytes it allocates whatever listens.
    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteZeroesAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await Queue.WriteZeroesAsync(Namespace, 0, 8);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DeallocateAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await Queue.DeallocateAsync(Namespace, _ranges);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask IoPassthruFlushAsync()
    {
        var flush = new NvmeCommand { Opcode = 0x00, NamespaceId = Namespace.Id };
        for (var i = 0; i < Operations; i++)
        {
            await Queue.IoPassthruAsync(flush);
        }
    }
}
