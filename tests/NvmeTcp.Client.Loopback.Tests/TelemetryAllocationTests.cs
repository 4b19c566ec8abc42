using System.Diagnostics;
using System.Diagnostics.Metrics;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>
/// What the instrumented path of each I/O command allocates, measured over many commands against the in-process target
/// (process-wide bytes, so the class runs alone): with metrics listening, nothing more than with nothing listening; with
/// traces sampled, write-zeroes, dsm and io-passthru cost no more than a read does (its activity and tags), no closure.
/// </summary>
[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryAllocationTests
{
    private const int Warmup = 64;
    private const int Operations = 512;

    // Bytes per operation of noise allowed (timers, the thread pool) over the difference of two measurements.
    private const double Slack = 16;

    // In a Debug build of the client the compiler makes every async state machine a class, allocated per call, so the
    // instrumented path may cost one of its own beyond a read's (130 to 190 bytes here, against 240 and more for the
    // closure, delegate and unpooled state machine it had): Debug checks that bound, Release (-c Release) the strict one.
    private static readonly bool Optimized =
        typeof(NvmeController).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is not [DebuggableAttribute { IsJITOptimizerDisabled: true }];

    private delegate ValueTask Io(NvmeQueuePair queue, NvmeNamespace ns);

    private static readonly (string Name, Io Run)[] Commands =
    [
        ("read", static (q, ns) => q.ReadAsync(ns, 0, Buffer)),
        ("write_zeroes", static (q, ns) => q.WriteZeroesAsync(ns, 0, 8)),
        ("dsm", static (q, ns) => q.DeallocateAsync(ns, [(8ul, 8u)])),
        ("io_passthru", static async (q, ns) => await q.IoPassthruAsync(new NvmeCommand { Opcode = 0x00, NamespaceId = ns.Id })),
    ];

    private static readonly byte[] Buffer = GC.AllocateArray<byte>(4096, pinned: true);

    private static async Task<double> BytesPerOperationAsync(NvmeQueuePair queue, NvmeNamespace ns, Io run)
    {
        for (var i = 0; i < Warmup; i++)
        {
            await run(queue, ns);
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < Operations; i++)
        {
            await run(queue, ns);
        }

        return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)Operations;
    }

    private static MeterListener ListenToMetrics()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == NvmeTcpTelemetry.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        listener.SetMeasurementEventCallback<int>(static (_, _, _, _) => { });
        listener.Start();
        return listener;
    }

    private static ActivityListener SampleTraces()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == NvmeTcpTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [Fact]
    public async Task Instrumented_io_commands_allocate_no_closure_with_metrics_or_sampled_traces()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target, queues: 1)).WaitAsync(Bound);
        var queue = controller.IoQueues[0];
        var ns = controller.GetNamespace(2);
        var token = TestContext.Current.CancellationToken;

        var plain = new Dictionary<string, double>();
        var metrics = new Dictionary<string, double>();
        var traced = new Dictionary<string, double>();
        foreach (var (name, run) in Commands)
        {
            plain[name] = await BytesPerOperationAsync(queue, ns, run).WaitAsync(Bound, token);
        }

        using (ListenToMetrics())
        {
            foreach (var (name, run) in Commands)
            {
                metrics[name] = await BytesPerOperationAsync(queue, ns, run).WaitAsync(Bound, token);
            }

            using (SampleTraces())
            {
                foreach (var (name, run) in Commands)
                {
                    traced[name] = await BytesPerOperationAsync(queue, ns, run).WaitAsync(Bound, token);
                }
            }
        }

        var report = string.Join("; ", Commands.Select(c => $"{c.Name}: {plain[c.Name]:F0} / {metrics[c.Name]:F0} / {traced[c.Name]:F0} B"));
        TestContext.Current.TestOutputHelper?.WriteLine($"bytes per operation, nothing / metrics / metrics and sampled traces: {report}");
        var readActivity = traced["read"] - metrics["read"];
        Assert.True(readActivity > 0, $"A sampled read allocates its activity: {report}");
        foreach (var (name, _) in Commands)
        {
            var bound = Optimized ? Slack : Math.Max(0, metrics["read"] - plain["read"]) + 64 + Slack;
            Assert.True(metrics[name] - plain[name] <= bound, $"{name} with metrics listening allocates per I/O (optimized: {Optimized}): {report}");
            Assert.True(traced[name] - metrics[name] <= readActivity + Slack, $"{name} sampled allocates more than a read's activity: {report}");
        }
    }
}
