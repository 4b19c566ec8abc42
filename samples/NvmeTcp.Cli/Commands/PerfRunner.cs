using System.Diagnostics;
using NvmeTcp.Client;
using Spectre.Console;

namespace NvmeTcp.Cli.Commands;

/// <summary>The I/O pattern of a perf run.</summary>
internal enum PerfPattern
{
    Read,
    Write,
    RandRead,
    RandWrite,
}

/// <summary>What a perf run does: <paramref name="QueueDepth"/> I/Os in flight over all queues, each <paramref name="IoSize"/> bytes.</summary>
internal sealed record PerfSettings(PerfPattern Pattern, int QueueDepth, int IoSize, TimeSpan Duration);

/// <summary>What a perf run measured.</summary>
internal sealed record PerfResult(long Ios, long Bytes, TimeSpan Elapsed, double AverageLatencyMicroseconds, int IoQueues)
{
    public double Iops => Ios / Elapsed.TotalSeconds;

    public double MiBPerSecond => Bytes / Elapsed.TotalSeconds / (1 << 20);
}

/// <summary>
/// A simple closed-loop load generator: QueueDepth workers spread over the I/O queues, each issuing one I/O after the
/// other until the time is up. It measures what the host sees (submission to completion), averaged; percentiles and
/// mixed workloads are for a later version.
/// </summary>
internal static class PerfRunner
{
    public static async Task<PerfResult> RunAsync(NvmeController controller, NvmeNamespace ns, PerfSettings settings, Action<TimeSpan, long>? tick, CancellationToken cancellationToken)
    {
        if (settings.IoSize % ns.BlockSize != 0)
        {
            throw new CliException($"--io-size {settings.IoSize} is not a multiple of the block size {ns.BlockSize}");
        }

        var blocksPerIo = (ulong)(settings.IoSize / ns.BlockSize);
        var slots = ns.BlockCount / blocksPerIo;
        if (slots == 0)
        {
            throw new CliException($"--io-size {settings.IoSize} is larger than the namespace");
        }

        var queues = controller.IoQueues;
        long ios = 0;
        long latencyTicks = 0;
        long nextSequential = -1;
        var write = settings.Pattern is PerfPattern.Write or PerfPattern.RandWrite;
        var random = settings.Pattern is PerfPattern.RandRead or PerfPattern.RandWrite;
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(settings.Duration.TotalSeconds * Stopwatch.Frequency);

        async Task WorkerAsync(int index)
        {
            var queue = queues[index % queues.Count];
            var buffer = new byte[settings.IoSize];
            var rng = new Random(index);
            if (write)
            {
                rng.NextBytes(buffer);
            }

            while (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < deadline)
            {
                var slot = random ? (ulong)rng.NextInt64((long)Math.Min(slots, long.MaxValue)) : (ulong)Interlocked.Increment(ref nextSequential) % slots;
                var lba = slot * blocksPerIo;
                var before = Stopwatch.GetTimestamp();
                if (write)
                {
                    await queue.WriteAsync(ns, lba, buffer, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await queue.ReadAsync(ns, lba, buffer, cancellationToken).ConfigureAwait(false);
                }

                Interlocked.Add(ref latencyTicks, Stopwatch.GetTimestamp() - before);
                Interlocked.Increment(ref ios);
            }
        }

        var workers = Task.WhenAll(Enumerable.Range(0, settings.QueueDepth).Select(i => Task.Run(() => WorkerAsync(i), CancellationToken.None)));
        while (!workers.IsCompleted)
        {
            await Task.WhenAny(workers, Task.Delay(250, CancellationToken.None)).ConfigureAwait(false);
            tick?.Invoke(Stopwatch.GetElapsedTime(started), Interlocked.Read(ref ios));
        }

        await workers.ConfigureAwait(false);

        // A run cut short by Ctrl+C is not a measurement: report the cancellation, not partial numbers.
        cancellationToken.ThrowIfCancellationRequested();
        var elapsed = Stopwatch.GetElapsedTime(started);
        var count = Interlocked.Read(ref ios);
        var average = count == 0 ? 0 : latencyTicks * 1_000_000.0 / Stopwatch.Frequency / count;
        return new PerfResult(count, count * settings.IoSize, elapsed, average, queues.Count);
    }

    /// <summary>Runs under a live Spectre.Console progress bar on a terminal (elapsed time and IOPS so far), silently otherwise.</summary>
    public static async Task<PerfResult> RunWithProgressAsync(IAnsiConsole console, NvmeController controller, NvmeNamespace ns, PerfSettings settings, CancellationToken cancellationToken)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            return await RunAsync(controller, ns, settings, null, cancellationToken).ConfigureAwait(false);
        }

        PerfResult? result = null;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask(Describe(settings, 0), maxValue: settings.Duration.TotalSeconds);
                result = await RunAsync(controller, ns, settings, (elapsed, ios) =>
                {
                    task.Value = Math.Min(elapsed.TotalSeconds, settings.Duration.TotalSeconds);
                    task.Description = Describe(settings, elapsed.TotalSeconds > 0 ? ios / elapsed.TotalSeconds : 0);
                }, cancellationToken).ConfigureAwait(false);
                task.Value = settings.Duration.TotalSeconds;
            }).ConfigureAwait(false);
        return result!;
    }

    private static string Describe(PerfSettings settings, double iops) =>
        $"{settings.Pattern.ToString().ToLowerInvariant()} {settings.IoSize / 1024} KiB QD{settings.QueueDepth}: {iops,9:N0} IOPS";
}
