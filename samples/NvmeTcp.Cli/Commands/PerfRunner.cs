using System.Diagnostics;
using System.Runtime.ExceptionServices;
using HdrHistogram;
using NvmeTcp.Client;
using Spectre.Console;

namespace NvmeTcp.Cli.Commands;

/// <summary>The I/O pattern of a perf run (fio's rw=).</summary>
internal enum PerfPattern
{
    Read,
    Write,
    RandRead,
    RandWrite,
    RandRw,
}

/// <summary>
/// What a perf run does: <paramref name="QueueDepth"/> I/Os in flight over all queues, each <paramref name="IoSize"/>
/// bytes, measured for <paramref name="Duration"/> after <see cref="Warmup"/>.
/// </summary>
internal sealed record PerfSettings(PerfPattern Pattern, int QueueDepth, int IoSize, TimeSpan Duration)
{
    /// <summary>Percent of reads for <see cref="PerfPattern.RandRw"/>.</summary>
    public int RwMixRead { get; init; } = 50;

    /// <summary>Run this long first, unmeasured (caches, TCP windows, JIT).</summary>
    public TimeSpan Warmup { get; init; }

    /// <summary>Stamp every written block and check every block read that this run wrote.</summary>
    public bool Verify { get; init; }

    /// <summary>Bytes of the namespace used, from LBA 0; null for all of it.</summary>
    public long? RegionBytes { get; init; }

    public string PatternName => Pattern.ToString().ToLowerInvariant();

    public bool ReadsOnly => Pattern is PerfPattern.Read or PerfPattern.RandRead;
}

/// <summary>Latency figures in microseconds.</summary>
internal sealed record PerfLatency(double Min, double Mean, double P50, double P99, double P999, double Max);

/// <summary>What a perf run measured.</summary>
internal sealed record PerfResult(long Reads, long Writes, long Bytes, TimeSpan Elapsed, PerfLatency Latency, int IoQueues, TimeSpan CpuTime)
{
    public long Ios => Reads + Writes;

    public double Iops => Ios / Elapsed.TotalSeconds;

    public double MiBPerSecond => Bytes / Elapsed.TotalSeconds / (1 << 20);

    public double AverageLatencyMicroseconds => Latency.Mean;

    public double CpuMicrosecondsPerIo => Ios == 0 ? 0 : CpuTime.TotalMicroseconds / Ios;

    /// <summary>Process CPU time over wall time: 100 is one core busy all along.</summary>
    public double CpuUtilizationPercent => CpuTime.TotalSeconds / Elapsed.TotalSeconds * 100;

    /// <summary>Blocks read back and compared (with --verify).</summary>
    public long BlocksVerified { get; init; }

    /// <summary>Blocks that did not read back as written (with --verify).</summary>
    public long VerifyErrors { get; init; }

    /// <summary>The first few of them.</summary>
    public IReadOnlyList<PerfMismatch> FirstMismatches { get; init; } = [];

    /// <summary>IOPS over time: one point per progress tick (about 4 a second) of the measured part.</summary>
    public IReadOnlyList<(double Seconds, double Iops)> Timeline { get; init; } = [];

    /// <summary>Latency (µs) at percentiles from 0 to 99.99, from the run's histogram.</summary>
    public IReadOnlyList<(double Percentile, double Microseconds)> Percentiles { get; init; } = [];

    /// <summary>I/Os per latency bucket (upper bound in µs, doubling), for the terminal histogram.</summary>
    public IReadOnlyList<(double UpToMicroseconds, long Count)> Buckets { get; init; } = [];

    /// <summary>Over a subsystem: the I/Os each path completed while the run was measured; empty over one controller.</summary>
    public IReadOnlyList<PerfPathIos> Paths { get; init; } = [];
}

/// <summary>How far a run is, for the live progress line. Negative elapsed: still warming up.</summary>
internal readonly record struct PerfProgress(TimeSpan Elapsed, long Ios, long Bytes);

/// <summary>
/// A closed-loop load generator in the manner of fio and spdk_nvme_perf: QueueDepth workers spread over the I/O
/// queues, each issuing one I/O after the other until the time is up. Worker i owns the I/O-sized slots with
/// slot % QueueDepth == i, so with --verify no two I/Os ever touch the same blocks at once. It measures what the host
/// sees (submission to completion) into one histogram per worker, merged at the end; the loop allocates nothing per I/O.
/// </summary>
internal static class PerfRunner
{
    /// <summary>Mismatches kept per worker for the report.</summary>
    public const int MismatchesKept = 4;

    // Latencies above this are clamped in the histogram (the exact max is kept aside); a minute covers any I/O
    // timeout, and a wider range would cost memory in every worker's histogram (about 170 KiB each as it is).
    private static readonly long HighestTrackable = Stopwatch.Frequency * 60;

    // 0.1 µs is all the report shows; a coarser bottom unit makes each histogram a fifth smaller.
    private static readonly long LowestDiscernible = Math.Max(1, Stopwatch.Frequency / 10_000_000);

    // --verify keeps a sequence number per slot; beyond this the user should narrow the region with --size.
    private const ulong MaxVerifySlots = 1UL << 26;

    public static Task<PerfResult> RunAsync(NvmeController controller, NvmeNamespace ns, PerfSettings settings, Action<PerfProgress>? tick, CancellationToken cancellationToken) =>
        RunAsync(new QueuePerfTarget(controller, ns), settings, tick, cancellationToken);

    public static async Task<PerfResult> RunAsync(PerfTarget ns, PerfSettings settings, Action<PerfProgress>? tick, CancellationToken cancellationToken)
    {
        if (settings.IoSize % ns.BlockSize != 0)
        {
            throw new CliException($"--io-size {settings.IoSize} is not a multiple of the block size {ns.BlockSize}");
        }

        var blocksPerIo = (ulong)(settings.IoSize / ns.BlockSize);
        var regionBlocks = ns.BlockCount;
        if (settings.RegionBytes is { } regionBytes)
        {
            if ((ulong)regionBytes > ns.SizeInBytes)
            {
                throw new CliException($"--size {regionBytes} is larger than the namespace ({ns.SizeInBytes} bytes)");
            }

            regionBlocks = (ulong)regionBytes / (ulong)ns.BlockSize;
        }

        var slots = regionBlocks / blocksPerIo;
        if (slots == 0)
        {
            throw new CliException($"--io-size {settings.IoSize} is larger than the region used ({regionBlocks * (ulong)ns.BlockSize} bytes)");
        }

        if (settings.Verify && slots > MaxVerifySlots)
        {
            throw new CliException($"--verify keeps state per I/O-sized slot and the namespace has {slots} of them; use --size to verify at most {MaxVerifySlots} slots");
        }

        var seed = (ulong)Random.Shared.NextInt64() | 1;
        var workers = new Worker[settings.QueueDepth];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = new Worker(i, ns, settings, slots, blocksPerIo, seed);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? failure = null;

        async Task RunAllAsync(Func<Worker, CancellationToken, Task> body)
        {
            async Task GuardedAsync(Worker worker)
            {
                try
                {
                    await body(worker, stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
                {
                    // The first failure ends the run for every worker, and is what the user sees.
                    Interlocked.CompareExchange(ref failure, e, null);
                    await stop.CancelAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Cancelled because of Ctrl+C or another worker's failure, reported below.
                }
            }

            await Task.WhenAll(workers.Select(w => Task.Run(() => GuardedAsync(w), CancellationToken.None))).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (failure is not null)
            {
                ExceptionDispatchInfo.Throw(failure);
            }
        }

        if (settings.Verify && settings.ReadsOnly)
        {
            // A read can only be checked against data this run wrote: write the region first, unmeasured.
            await RunAllAsync((w, ct) => w.PrefillAsync(ct)).ConfigureAwait(false);
        }

        var started = Stopwatch.GetTimestamp();
        var measureStart = started + (long)(settings.Warmup.TotalSeconds * Stopwatch.Frequency);
        var deadline = measureStart + (long)(settings.Duration.TotalSeconds * Stopwatch.Frequency);
        var cpuAtStart = settings.Warmup > TimeSpan.Zero ? (TimeSpan?)null : Environment.CpuUsage.TotalTime;
        if (cpuAtStart is not null)
        {
            ns.MeasureStarted();
        }

        foreach (var worker in workers)
        {
            worker.MeasureStart = measureStart;
            worker.Deadline = deadline;
        }

        var run = RunAllAsync((w, ct) => w.RunAsync(ct));
        var timeline = new List<(double Seconds, double Iops)>();
        var lastSeconds = 0.0;
        long lastIos = 0;
        while (!run.IsCompleted)
        {
            var now = Stopwatch.GetTimestamp();
            var wait = TimeSpan.FromMilliseconds(250);
            if (cpuAtStart is null)
            {
                if (now >= measureStart)
                {
                    cpuAtStart = Environment.CpuUsage.TotalTime;
                    ns.MeasureStarted();
                }
                else
                {
                    // Wake up when the warmup ends, to take the CPU figure then.
                    wait = TimeSpan.FromTicks(Math.Clamp(Stopwatch.GetElapsedTime(now, measureStart).Ticks, 1, wait.Ticks));
                }
            }

            await Task.WhenAny(run, Task.Delay(wait, CancellationToken.None)).ConfigureAwait(false);
            long ios = 0;
            foreach (var worker in workers)
            {
                ios += Volatile.Read(ref worker.Reads) + Volatile.Read(ref worker.Writes);
            }

            // IOPS over the last tick, for perf --plot: the workers count only measured I/Os.
            var elapsed = Stopwatch.GetElapsedTime(measureStart);
            if (elapsed > TimeSpan.Zero && elapsed.TotalSeconds - lastSeconds > 0.05 && !run.IsCompleted)
            {
                timeline.Add((elapsed.TotalSeconds, (ios - lastIos) / (elapsed.TotalSeconds - lastSeconds)));
                lastSeconds = elapsed.TotalSeconds;
                lastIos = ios;
            }

            tick?.Invoke(new PerfProgress(elapsed, ios, ios * settings.IoSize));
        }

        await run.ConfigureAwait(false);
        var ended = Stopwatch.GetTimestamp();
        var cpu = Environment.CpuUsage.TotalTime - (cpuAtStart ?? Environment.CpuUsage.TotalTime);
        return Summarize(workers, settings, TimeSpan.FromSeconds((ended - measureStart) / (double)Stopwatch.Frequency), cpu, ns.IoQueues) with { Timeline = timeline, Paths = ns.PathIos() };
    }

    private static PerfResult Summarize(Worker[] workers, PerfSettings settings, TimeSpan elapsed, TimeSpan cpu, int ioQueues)
    {
        var histogram = new LongHistogram(LowestDiscernible, HighestTrackable, 3);
        long reads = 0, writes = 0, sum = 0, min = long.MaxValue, max = 0, verified = 0, errors = 0;
        var mismatches = new List<PerfMismatch>();
        foreach (var w in workers)
        {
            histogram.Add(w.Histogram);
            reads += w.Reads;
            writes += w.Writes;
            sum += w.LatencySum;
            min = Math.Min(min, w.LatencyMin);
            max = Math.Max(max, w.LatencyMax);
            verified += w.BlocksVerified;
            errors += w.VerifyErrors;
            mismatches.AddRange(w.Mismatches.AsSpan(0, w.MismatchCount));
        }

        var count = reads + writes;
        PerfLatency latency;
        if (count == 0)
        {
            latency = new PerfLatency(0, 0, 0, 0, 0, 0);
        }
        else
        {
            // Histogram percentiles are bucket edges; clamping them to the exact min and max keeps the order honest.
            double Us(long ticks) => Math.Round(ticks * 1_000_000.0 / Stopwatch.Frequency, 1);
            double At(double percentile) => Us(Math.Clamp(histogram.GetValueAtPercentile(percentile), min, max));
            latency = new PerfLatency(Us(min), Math.Round(sum * 1_000_000.0 / Stopwatch.Frequency / count, 1), At(50), At(99), At(99.9), Us(max));
        }

        return new PerfResult(reads, writes, count * settings.IoSize, elapsed, latency, ioQueues, cpu)
        {
            BlocksVerified = verified,
            VerifyErrors = errors,
            FirstMismatches = mismatches.OrderBy(m => m.Lba).Take(MismatchesKept).ToArray(),
            Percentiles = count == 0 ? [] : PercentileCurve(histogram, min, max),
            Buckets = count == 0 ? [] : Buckets(histogram, max),
        };
    }

    // 0, 50, 90, 99, 99.9, 99.99 and steps between them: even on a log scale of (100 - percentile).
    private static (double, double)[] PercentileCurve(LongHistogram histogram, long min, long max)
    {
        var points = new List<(double, double)>();
        foreach (var nines in Enumerable.Range(0, 41).Select(i => i / 10.0))
        {
            var percentile = 100 - (100 / Math.Pow(10, nines));
            var ticks = Math.Clamp(histogram.GetValueAtPercentile(percentile), min, max);
            points.Add((percentile, Math.Round(ticks * 1_000_000.0 / Stopwatch.Frequency, 1)));
        }

        return [.. points];
    }

    // Buckets doubling from 1 µs up to the maximum.
    private static (double, long)[] Buckets(LongHistogram histogram, long max)
    {
        var ticksPerMicrosecond = Stopwatch.Frequency / 1_000_000.0;
        var buckets = new List<(double, long)>();
        var upper = 1.0;
        long below = 0;
        while (true)
        {
            var bound = (long)(upper * ticksPerMicrosecond);
            var atOrBelow = histogram.RecordedValues().Where(v => v.ValueIteratedTo <= bound).Sum(v => v.CountAddedInThisIterationStep);
            if (atOrBelow > below || buckets.Count > 0)
            {
                buckets.Add((upper, atOrBelow - below));
            }

            below = atOrBelow;
            if (bound >= max || upper > 1e8)
            {
                return [.. buckets];
            }

            upper *= 2;
        }
    }

    /// <summary>Over the I/O queues of one controller: see the overload for a <see cref="PerfTarget"/>.</summary>
    public static Task<PerfResult> RunWithProgressAsync(IAnsiConsole console, NvmeController controller, NvmeNamespace ns, PerfSettings settings, CancellationToken cancellationToken) =>
        RunWithProgressAsync(console, new QueuePerfTarget(controller, ns), settings, cancellationToken);

    /// <summary>Runs under a live progress line on a terminal (elapsed, IOPS and MiB/s so far), silently otherwise.</summary>
    public static async Task<PerfResult> RunWithProgressAsync(IAnsiConsole console, PerfTarget ns, PerfSettings settings, CancellationToken cancellationToken)
    {
        if (!console.Profile.Capabilities.Interactive || (ReferenceEquals(console, AnsiConsole.Console) && Console.IsOutputRedirected))
        {
            return await RunAsync(ns, settings, null, cancellationToken).ConfigureAwait(false);
        }

        PerfResult? result = null;
        var total = (settings.Warmup + settings.Duration).TotalSeconds;
        await console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask(Markup.Escape(Describe(settings, null)), maxValue: total);
                result = await RunAsync(ns, settings, p =>
                {
                    task.Value = Math.Min(total, settings.Warmup.TotalSeconds + p.Elapsed.TotalSeconds);
                    task.Description = Markup.Escape(Describe(settings, p));
                }, cancellationToken).ConfigureAwait(false);
                task.Value = total;
            }).ConfigureAwait(false);
        return result!;
    }

    private static string Describe(PerfSettings settings, PerfProgress? progress)
    {
        var workload = $"{settings.PatternName} {Size(settings.IoSize)} QD{settings.QueueDepth}";
        if (progress is not { } p)
        {
            return $"{workload}: {(settings.Verify && settings.ReadsOnly ? "writing the region to verify" : "starting")}";
        }

        if (p.Elapsed <= TimeSpan.Zero)
        {
            return $"{workload}: warming up";
        }

        var seconds = p.Elapsed.TotalSeconds;
        return $"{workload}: {seconds,5:0.0} s {p.Ios / seconds,10:N0} IOPS {p.Bytes / seconds / (1 << 20),9:N1} MiB/s";
    }

    /// <summary>A byte count as fio writes it: 4096 as 4 KiB, 1048576 as 1 MiB, else bytes.</summary>
    public static string Size(int bytes) => bytes switch
    {
        _ when bytes % (1 << 20) == 0 => $"{bytes >> 20} MiB",
        _ when bytes % 1024 == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };

    /// <summary>One of the QueueDepth closed loops, with all it needs allocated before the run.</summary>
    private sealed class Worker
    {
        public readonly LongHistogram Histogram = new(LowestDiscernible, HighestTrackable, 3);
        public readonly PerfMismatch[] Mismatches = new PerfMismatch[MismatchesKept];
        public long MeasureStart;
        public long Deadline;

        // Written only by this worker; the progress line reads them racily, which is fine for a display.
        public long Reads;
        public long Writes;
        public long LatencySum;
        public long LatencyMin = long.MaxValue;
        public long LatencyMax;
        public long BlocksVerified;
        public long VerifyErrors;
        public int MismatchCount;

        private readonly int _index;
        private readonly PerfTarget _ns;
        private readonly PerfSettings _settings;
        private readonly ulong _stride;
        private readonly ulong _owned;
        private readonly ulong _blocksPerIo;
        private readonly ulong _seed;
        private readonly byte[] _readBuffer;
        private readonly byte[] _writeBuffer;
        private readonly byte[] _scratch;
        private readonly uint[] _written;
        private readonly Random _random = new();
        private uint _sequence;

        public Worker(int index, PerfTarget ns, PerfSettings settings, ulong slots, ulong blocksPerIo, ulong seed)
        {
            _index = index;
            _ns = ns;
            _settings = settings;
            _stride = (ulong)settings.QueueDepth;
            _owned = (ulong)index < slots ? (slots - (ulong)index + _stride - 1) / _stride : 0;
            _blocksPerIo = blocksPerIo;
            _seed = seed;

            // Pinned, so the socket layer never has to pin them per I/O.
            var reads = settings.Pattern is not (PerfPattern.Write or PerfPattern.RandWrite);
            var writes = settings.Pattern is not (PerfPattern.Read or PerfPattern.RandRead) || settings.Verify;
            _readBuffer = reads ? GC.AllocateUninitializedArray<byte>(settings.IoSize, pinned: true) : [];
            _writeBuffer = writes ? GC.AllocateArray<byte>(settings.IoSize, pinned: true) : [];
            _scratch = settings.Verify ? new byte[ns.BlockSize] : [];
            _written = settings.Verify ? new uint[_owned] : [];
            if (writes && !settings.Verify)
            {
                _random.NextBytes(_writeBuffer);
            }
        }

        /// <summary>Writes every slot this worker owns once, so that each later read has something to check.</summary>
        public async Task PrefillAsync(CancellationToken cancellationToken)
        {
            for (ulong own = 0; own < _owned; own++)
            {
                var sequence = PrepareWrite(own);
                await _ns.WriteAsync(_index, Lba(own), _writeBuffer, cancellationToken).ConfigureAwait(false);
                _written[own] = sequence;
            }
        }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            if (_owned == 0)
            {
                return;
            }

            var pattern = _settings.Pattern;
            var random = pattern is PerfPattern.RandRead or PerfPattern.RandWrite or PerfPattern.RandRw;
            var mix = _settings.RwMixRead;
            var owned = (long)_owned;
            ulong next = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                if (start >= Deadline)
                {
                    break;
                }

                ulong own;
                if (random)
                {
                    own = (ulong)_random.NextInt64(owned);
                }
                else
                {
                    own = next;
                    next = next + 1 == _owned ? 0 : next + 1;
                }

                var read = pattern switch
                {
                    PerfPattern.Read or PerfPattern.RandRead => true,
                    PerfPattern.RandRw => _random.Next(100) < mix,
                    _ => false,
                };
                if (read)
                {
                    await _ns.ReadAsync(_index, Lba(own), _readBuffer, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // Awaited here rather than in a helper: an async ValueTask helper would box its state per I/O.
                    var sequence = PrepareWrite(own);
                    await _ns.WriteAsync(_index, Lba(own), _writeBuffer, cancellationToken).ConfigureAwait(false);
                    if (sequence != 0)
                    {
                        _written[own] = sequence;
                    }
                }

                var latency = Stopwatch.GetTimestamp() - start;
                if (read && _settings.Verify && _written[own] != 0)
                {
                    CheckRead(own);
                }

                if (start >= MeasureStart)
                {
                    Record(latency, read);
                }
            }
        }

        private ulong Lba(ulong own) => ((own * _stride) + (ulong)_index) * _blocksPerIo;

        // With --verify, stamps the write buffer for slot own and returns the write's sequence number (0 without).
        private uint PrepareWrite(ulong own)
        {
            if (!_settings.Verify)
            {
                return 0;
            }

            // Sequence 0 means "never written by this run".
            var sequence = ++_sequence == 0 ? ++_sequence : _sequence;
            PerfVerify.Stamp(_writeBuffer, _scratch.Length, Lba(own), _seed, sequence);
            return sequence;
        }

        private void CheckRead(ulong own)
        {
            var bad = PerfVerify.Check(_readBuffer, _scratch, Lba(own), _seed, _written[own], out var first);
            BlocksVerified += (long)_blocksPerIo;
            if (bad != 0)
            {
                if (MismatchCount < MismatchesKept)
                {
                    Mismatches[MismatchCount++] = first;
                }

                VerifyErrors += bad;
            }
        }

        private void Record(long latency, bool read)
        {
            Histogram.RecordValue(Math.Min(latency, HighestTrackable));
            LatencySum += latency;
            LatencyMin = Math.Min(LatencyMin, latency);
            LatencyMax = Math.Max(LatencyMax, latency);
            if (read)
            {
                Volatile.Write(ref Reads, Reads + 1);
            }
            else
            {
                Volatile.Write(ref Writes, Writes + 1);
            }
        }
    }
}
