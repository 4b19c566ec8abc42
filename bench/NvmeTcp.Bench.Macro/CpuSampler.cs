using System.Diagnostics;

namespace NvmeTcp.Bench.Macro;

/// <summary>
/// Samples a child process's CPU time every few milliseconds while a perf run goes on, so that the harness can read
/// how much CPU it used over a window it learns only afterwards.
/// </summary>
/// <remarks>
/// `nvmetcp perf` counts its own CPU from the end of its warm-up to the end of its run (when the last I/O completed),
/// then prints its JSON before it disconnects. The harness can only see that window from outside: it ends when the
/// JSON's first line arrives and lasts the JSON's "seconds". The target's CPU over it is interpolated between the
/// samples either side of each edge. What the process boundary leaves: the pipe's latency (well under a millisecond)
/// and the granularity of utime + stime (a clock tick, usually 10 ms).
/// </remarks>
internal sealed class CpuSampler : IAsyncDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);

    private readonly ChildProcess process;
    private readonly List<(long Timestamp, TimeSpan Cpu)> samples = [];
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    private CpuSampler(ChildProcess process)
    {
        this.process = process;
        Sample();
        loop = Task.Run(SampleAsync);
    }

    public static CpuSampler Start(ChildProcess process) => new(process);

    /// <summary>Stops sampling (after one last sample) and returns the CPU time used between two timestamps.</summary>
    public async Task<TimeSpan> CpuBetweenAsync(long from, long to)
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        Sample();
        lock (samples)
        {
            return At(to) - At(from);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        stop.Dispose();
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                Sample();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Sample()
    {
        var cpu = process.TotalProcessorTime;
        var now = Stopwatch.GetTimestamp();
        lock (samples)
        {
            samples.Add((now, cpu));
        }
    }

    private TimeSpan At(long timestamp) => Interpolate(samples, timestamp);

    /// <summary>
    /// The CPU time at <paramref name="timestamp"/>: linear between the samples around it, clamped to the first and
    /// last sample. <paramref name="samples"/> are in time order.
    /// </summary>
    internal static TimeSpan Interpolate(IReadOnlyList<(long Timestamp, TimeSpan Cpu)> samples, long timestamp)
    {
        if (timestamp <= samples[0].Timestamp)
        {
            return samples[0].Cpu;
        }

        for (var i = 1; i < samples.Count; i++)
        {
            var (t1, c1) = samples[i];
            if (timestamp <= t1)
            {
                var (t0, c0) = samples[i - 1];
                var share = t1 == t0 ? 1.0 : (timestamp - t0) / (double)(t1 - t0);
                return c0 + ((c1 - c0) * share);
            }
        }

        return samples[^1].Cpu;
    }
}
