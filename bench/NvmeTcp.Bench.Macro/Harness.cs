using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace NvmeTcp.Bench.Macro;

/// <summary>What one harness run does.</summary>
/// <param name="Neighbour">Run one CPU-bound process beside the whole run.</param>
/// <param name="CompareNeighbour">Measure the client rows idle, then again beside a CPU-bound process, and compare.</param>
internal sealed record HarnessSettings(double Seconds, double Warmup, int Repeat, bool Smoke, string? Markdown, bool Neighbour = false, bool CompareNeighbour = false)
{
    public static HarnessSettings Parse(string[] args)
    {
        var settings = new HarnessSettings(10, 2, 3, false, null);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new HarnessException($"{args[i]} needs a value");
            settings = args[i] switch
            {
                "--time" => settings with { Seconds = ParsePositive(Next()) },
                "--warmup" => settings with { Warmup = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--repeat" => settings with { Repeat = (int)ParsePositive(Next()) },
                "--smoke" => settings with { Smoke = true, Seconds = 0.5, Warmup = 0.2, Repeat = 1 },
                "--markdown" => settings with { Markdown = Next() },
                "--neighbour" => settings with { Neighbour = true },
                "--compare-neighbour" => settings with { CompareNeighbour = true },
                _ => throw new HarnessException($"unknown option {args[i]}"),
            };
        }

        return settings.Neighbour && settings.CompareNeighbour
            ? throw new HarnessException("--neighbour and --compare-neighbour exclude each other: the comparison needs an idle half")
            : settings;
    }

    private static double ParsePositive(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new HarnessException($"'{text}' is not a positive number");
}

/// <summary>One line of the result: a client figure, the limit it is compared with, and the goal for their ratio.</summary>
internal sealed record Row(string Measure, double Value, string Unit, string Limit, double LimitValue, string LimitUnit, double Ratio, string Goal, bool? Met)
{
    /// <summary>The client's CPU per I/O in the perf run this row comes from.</summary>
    public double ClientCpu { get; init; }

    /// <summary>The target's CPU per I/O over the same window.</summary>
    public double TargetCpu { get; init; }

    /// <summary>Every µs row (latency, CPU per I/O) is better lower; the others (IOPS, MiB/s) higher.</summary>
    public bool LowerIsBetter => Unit == "µs";
}

/// <summary>One perf run: its JSON, and the target's CPU per I/O over the run's measured window.</summary>
internal sealed record PerfRun(JsonElement Json, double TargetCpuUsPerIo)
{
    public double ClientCpuUsPerIo => Json.GetProperty("cpu_us_per_io").GetDouble();

    public double Iops => Json.GetProperty("iops").GetDouble();

    public double MiBPerSecond => Json.GetProperty("mib_per_sec").GetDouble();

    public double Latency(string name) => Json.GetProperty("latency_us").GetProperty(name).GetDouble();
}

/// <summary>A client row measured idle and beside the noisy neighbour.</summary>
/// <param name="Kept">loaded/idle for rows better higher, idle/loaded for rows better lower: 1 is unchanged, below 1 worse.</param>
internal sealed record Comparison(Row Idle, Row Loaded, double Kept)
{
    public const double Goal = 0.75;

    public static Comparison Of(Row idle, Row loaded) =>
        new(idle, loaded, idle.LowerIsBetter ? idle.Value / loaded.Value : loaded.Value / idle.Value);
}

/// <summary>
/// Measures (a) this machine's loopback limits with our plain TCP programs and (b) our client (`nvmetcp perf`) against
/// `nvmetcp serve` with a null namespace, both out of process, and prints (b) as ratios of (a).
/// </summary>
internal static class Harness
{
    private const string Nqn = "nqn.2026-11.dev.nvmetcp:bench";

    // Asked for both sides of the best placement's stream (what SPDK's posix sock asks for is 2 MiB).
    private const int LargeBuffers = 4 << 20;

    private const double TargetCpuGoal = 15;

    // Issue 18's budgets for the client's CPU per 4 KiB read (the whole nvmetcp perf process).
    private const double ClientCpuGoalQd1 = 15;
    private const double ClientCpuGoalQd32 = 2;

    // TLS rows: a fixed host and key (not a secret: a benchmark's), TLS_AES_128_GCM_SHA256.
    // `nvmetcp serve` with the harness's namespace (1 TiB, null, 4 KiB blocks) and queue limits, plus what a row adds.
    private static string[] Serve(string[] more) =>
        ["serve", .. more, "--nqn", Nqn, "-n", "1:1TiB:4096:null", "--no-discovery", "--max-io-queues", "8", "--max-queue-size", "128"];

    private const string TlsHost = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-0000000be7c4";
    private const string TlsKey = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static string Self => Path.Combine(AppContext.BaseDirectory, "nvmetcp-bench.dll");

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "nvmetcp.dll");

    public static async Task<int> RunAsync(HarnessSettings settings)
    {
        Console.WriteLine(Invariant($"nvmetcp-bench: {Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        Console.WriteLine(Invariant($"{settings.Seconds} s per measurement, {settings.Warmup} s warm-up per client run, best of {settings.Repeat} runs for each figure{(settings.Smoke ? " (smoke run: the figures mean nothing)" : "")}"));
        await using var neighbour = settings.Neighbour ? await Neighbour.StartAsync(settings, StartTimeout).ConfigureAwait(false) : null;
        if (neighbour is not null)
        {
            Console.WriteLine(Invariant($"noisy neighbour: {Neighbour.Describe(neighbour)} runs beside the whole run, limits included"));
        }

        // (a) The limits.
        Console.WriteLine();
        Console.WriteLine("(a) loopback limits (two processes of ours, no NVMe):");
        var limits = await MeasureLimitsAsync(settings).ConfigureAwait(false);
        PrintLimits(limits);

        // (b) Our client against nvmetcp serve.
        Console.WriteLine();
        Console.WriteLine("(b) nvmetcp perf against nvmetcp serve (null namespace, 4096-byte blocks); CPU per I/O of the client and of the target:");
        var rows = await MeasureClientAsync(settings, limits).ConfigureAwait(false);

        List<Comparison>? comparisons = null;
        if (settings.CompareNeighbour)
        {
            Console.WriteLine();
            await using var spin = await Neighbour.StartAsync(settings, StartTimeout).ConfigureAwait(false);
            Console.WriteLine(Invariant($"(c) the same client rows again, with a noisy neighbour: {Neighbour.Describe(spin)} (the limits stay the idle ones):"));
            var loaded = await MeasureClientAsync(settings, limits).ConfigureAwait(false);
            comparisons = [.. rows.Zip(loaded, Comparison.Of)];
        }

        Console.WriteLine();
        Console.WriteLine(Format(rows, limits));
        if (comparisons is not null)
        {
            Console.WriteLine(FormatComparisons(comparisons));
        }

        if (settings.Markdown is not null)
        {
            await File.WriteAllTextAsync(settings.Markdown, Markdown(settings, limits, rows, comparisons)).ConfigureAwait(false);
            Console.WriteLine($"written to {settings.Markdown}");
        }

        return 0;
    }

    private static void PrintLimits(Dictionary<string, Dictionary<string, double>> limits)
    {
        Console.WriteLine(Invariant($"  one stream, unpinned (128 KiB writes, default buffers): {limits["stream"]["bytes_per_sec"] / (1 << 20),10:N0} MiB/s"));
        if (limits.TryGetValue("stream-pinned", out var pinned))
        {
            var server = limits["pinned-server"];
            Console.WriteLine(Invariant($"  one stream, pinned, large buffers:                       {pinned["bytes_per_sec"] / (1 << 20),10:N0} MiB/s ({PinnedPlacement(limits)})"));
            Console.WriteLine(Invariant($"    {LargeBuffers >> 20} MiB asked on each side, granted: sender SO_SNDBUF {pinned["sndbuf_granted"] / 1024:N0} KiB, receiver SO_RCVBUF {server["rcvbuf_granted"] / 1024:N0} KiB"));
        }
        else
        {
            Console.WriteLine("  one stream, pinned, large buffers:                       n/a (needs 2 CPUs this process may use)");
        }

        Console.WriteLine(Invariant($"  72 B request / 4144 B reply, QD1, unpinned:   {limits["qd1"]["rtt_mean_us"],10:N1} µs mean RTT (p50 {limits["qd1"]["rtt_p50_us"]:N1}, p99 {limits["qd1"]["rtt_p99_us"]:N1}); blocking client: {limits["qd1-sync"]["rtt_mean_us"]:N1} µs"));
        if (limits.TryGetValue("qd1-pinned", out var qd1Pinned))
        {
            Console.WriteLine(Invariant($"  same, QD1, pinned, large buffers:             {qd1Pinned["rtt_mean_us"],10:N1} µs mean RTT (p50 {qd1Pinned["rtt_p50_us"]:N1}, p99 {qd1Pinned["rtt_p99_us"]:N1})"));
        }

        Console.WriteLine(Invariant($"  same, pipelined at depth 32, unpinned:        {limits["qd32"]["messages_per_sec"],10:N0} msg/s"));
    }

    private static string PinnedPlacement(Dictionary<string, Dictionary<string, double>> limits) =>
        Invariant($"receiver on CPU {limits["pinned-server"]["cpu"]}, sender on CPU {limits["stream-pinned"]["cpu"]}");

    // The one-stream limit the 128 KiB rows are compared with: the better of the two placements.
    private static double StreamMiB(Dictionary<string, Dictionary<string, double>> limits) =>
        Math.Max(limits["stream"]["bytes_per_sec"], limits.TryGetValue("stream-pinned", out var pinned) ? pinned["bytes_per_sec"] : 0) / (1 << 20);

    private static async Task<List<Row>> MeasureClientAsync(HarnessSettings settings, Dictionary<string, Dictionary<string, double>> limits)
    {
        var streamMiB = StreamMiB(limits);
        var rtt = limits["qd1"]["rtt_mean_us"];
        var rttP50 = limits["qd1"]["rtt_p50_us"];
        var pipelined = limits["qd32"]["messages_per_sec"];
        var rows = new List<Row>();
        double plainQd32 = 0;
        double plainRead = 0;
        await using (var target = ChildProcess.Start(Cli, Serve(["--listen", "127.0.0.1:0"])))
        {
            var port = ParsePort(await target.FirstLineAsync(StartTimeout).ConfigureAwait(false));
            Console.WriteLine(Invariant($"  target: nvmetcp serve, PID {target.Id}, port {port}"));

            var qd1 = await BestOfAsync(settings, target, port, "randread", "4k", depth: 1, queues: 1, digest: false, r => -r.Latency("mean")).ConfigureAwait(false);
            rows.Add(WithCpu(new("4 KiB randread QD1, 1 queue: mean latency", qd1.Latency("mean"), "µs", "QD1 mean RTT", rtt, "µs", qd1.Latency("mean") / rtt, "<= 2.0", qd1.Latency("mean") / rtt <= 2.0), qd1));
            rows.Add(WithCpu(new("4 KiB randread QD1, 1 queue: p50 latency", qd1.Latency("p50"), "µs", "QD1 p50 RTT", rttP50, "µs", qd1.Latency("p50") / rttP50, "<= 2.0", qd1.Latency("p50") / rttP50 <= 2.0), qd1));

            var qd32 = await BestOfAsync(settings, target, port, "randread", "4k", depth: 32, queues: 1, digest: false, Iops).ConfigureAwait(false);
            plainQd32 = qd32.Iops;
            rows.Add(Throughput("4 KiB randread QD32, 1 queue", qd32, qd32.Iops, "IOPS", "pipelined depth 32", pipelined, "msg/s", 0.5));
            var qd32x2 = await BestOfAsync(settings, target, port, "randread", "4k", depth: 32, queues: 2, digest: false, Iops).ConfigureAwait(false);
            rows.Add(Throughput("4 KiB randread QD32, 2 queues", qd32x2, qd32x2.Iops, "IOPS", "pipelined depth 32", pipelined, "msg/s", 0.5));

            foreach (var (pattern, digest) in new[] { ("read", false), ("read", true), ("write", false), ("write", true) })
            {
                var run = await BestOfAsync(settings, target, port, pattern, "128k", depth: 8, queues: 1, digest, r => r.MiBPerSecond).ConfigureAwait(false);
                var goal = pattern == "read" ? (digest ? 0.5 : 0.6) : (double?)null;
                if (pattern == "read" && !digest)
                {
                    plainRead = run.MiBPerSecond;
                }

                rows.Add(Throughput(Invariant($"128 KiB sequential {pattern} QD8, 1 queue{(digest ? ", data digest" : "")}"), run, run.MiBPerSecond, "MiB/s", "one stream, best placement", streamMiB, "MiB/s", goal));
            }

            // The same with the client's opt-in receive settings (a receive thread per queue, completions on it):
            // NvmeTcpOptions.DedicatedReceiveThreads and InlineCompletions, off by default.
            string[] receive = ["--receive-thread", "--inline-completions"];
            var qd1Thread = await BestOfAsync(settings, target, [port], "randread", "4k", depth: 1, queues: 1, digest: false, r => -r.Latency("mean"), null, receive).ConfigureAwait(false);
            rows.Add(WithCpu(new("4 KiB randread QD1, 1 queue, receive thread + inline: mean latency", qd1Thread.Latency("mean"), "µs", "QD1 mean RTT", rtt, "µs", qd1Thread.Latency("mean") / rtt, "<= 1.2", qd1Thread.Latency("mean") / rtt <= 1.2), qd1Thread));
            var qd32Thread = await BestOfAsync(settings, target, [port], "randread", "4k", depth: 32, queues: 1, digest: false, Iops, null, receive).ConfigureAwait(false);
            rows.Add(Throughput("4 KiB randread QD32, 1 queue, receive thread + inline", qd32Thread, qd32Thread.Iops, "IOPS", "pipelined depth 32", pipelined, "msg/s", 0.9));

            var cpu = qd32.ClientCpuUsPerIo;
            rows.Add(WithCpu(new("client CPU per 4 KiB read (QD32, 1 queue)", cpu, "µs", "Linux host driver budget", 4.3, "µs", cpu / 4.3, "<= 1.0", cpu <= 4.3), qd32));
            var cpuQd1 = qd1.ClientCpuUsPerIo;
            rows.Add(WithCpu(new("client CPU per 4 KiB read (QD1, 1 queue)", cpuQd1, "µs", "Linux host driver budget", 4.3, "µs", cpuQd1 / 4.3, "", null), qd1));

            // The target's rows: at QD1 against issue 18's budget; at QD32 against the time one core has per I/O at
            // the IOPS reached, so that the ratio is the cores the target used (near 1 or above: the target limits).
            var targetQd1 = qd1.TargetCpuUsPerIo;
            rows.Add(WithCpu(new("target CPU per 4 KiB read (QD1, 1 queue)", targetQd1, "µs", "target budget (issue 18)", TargetCpuGoal, "µs", targetQd1 / TargetCpuGoal, "<= 1.0", targetQd1 <= TargetCpuGoal), qd1));
            var targetQd32 = qd32.TargetCpuUsPerIo;
            var core = qd32.Iops > 0 ? 1_000_000 / qd32.Iops : double.NaN;
            rows.Add(WithCpu(new("target CPU per 4 KiB read (QD32, 1 queue)", targetQd32, "µs", "one core at this IOPS", core, "µs", targetQd32 / core, "", null), qd32));
        }

        // The same target with its opt-in receive thread per connection (NvmeTargetOptions.DedicatedReceiveThreads): the
        // target's CPU per I/O with the default client (comparable with the rows above) and with the client's own
        // receive thread + inline, whose QD1 latency is then the lowest both ends offer.
        await using (var target = ChildProcess.Start(Cli, Serve(["--listen", "127.0.0.1:0", "--receive-thread"])))
        {
            var port = ParsePort(await target.FirstLineAsync(StartTimeout).ConfigureAwait(false));
            Console.WriteLine(Invariant($"  target: nvmetcp serve --receive-thread, PID {target.Id}, port {port}"));
            var qd1 = await BestOfAsync(settings, target, port, "randread", "4k", depth: 1, queues: 1, digest: false, r => -r.Latency("mean")).ConfigureAwait(false);
            rows.Add(WithCpu(new("target CPU per 4 KiB read (QD1), serve --receive-thread", qd1.TargetCpuUsPerIo, "µs", "target budget (issue 18)", TargetCpuGoal, "µs", qd1.TargetCpuUsPerIo / TargetCpuGoal, "<= 1.0", qd1.TargetCpuUsPerIo <= TargetCpuGoal), qd1));
            var qd32 = await BestOfAsync(settings, target, port, "randread", "4k", depth: 32, queues: 1, digest: false, Iops).ConfigureAwait(false);
            var core = qd32.Iops > 0 ? 1_000_000 / qd32.Iops : double.NaN;
            rows.Add(WithCpu(new("target CPU per 4 KiB read (QD32), serve --receive-thread", qd32.TargetCpuUsPerIo, "µs", "one core at this IOPS", core, "µs", qd32.TargetCpuUsPerIo / core, "", null), qd32));
            string[] receive = ["--receive-thread", "--inline-completions"];
            var both = await BestOfAsync(settings, target, [port], "randread", "4k", depth: 1, queues: 1, digest: false, r => -r.Latency("mean"), null, receive).ConfigureAwait(false);
            rows.Add(WithCpu(new("4 KiB randread QD1, rx threads both ends: mean latency", both.Latency("mean"), "µs", "QD1 mean RTT", rtt, "µs", both.Latency("mean") / rtt, "<= 1.2", both.Latency("mean") / rtt <= 1.2), both));
            rows.Add(WithCpu(new("client CPU per 4 KiB read (QD1), rx threads both ends", both.ClientCpuUsPerIo, "µs", "client budget (issue 18)", ClientCpuGoalQd1, "µs", both.ClientCpuUsPerIo / ClientCpuGoalQd1, "<= 1.0", both.ClientCpuUsPerIo <= ClientCpuGoalQd1), both));

            // Issue 18's other goals with both ends in these modes: QD32 on one and two queues, 128 KiB reads.
            var bothQd32 = await BestOfAsync(settings, target, [port], "randread", "4k", depth: 32, queues: 1, digest: false, Iops, null, receive).ConfigureAwait(false);
            rows.Add(Throughput("4 KiB randread QD32, 1 queue, rx threads both ends", bothQd32, bothQd32.Iops, "IOPS", "pipelined depth 32", pipelined, "msg/s", 0.9));
            rows.Add(WithCpu(new("client CPU per 4 KiB read (QD32, 1 queue), rx threads both ends", bothQd32.ClientCpuUsPerIo, "µs", "client budget (issue 18)", ClientCpuGoalQd32, "µs", bothQd32.ClientCpuUsPerIo / ClientCpuGoalQd32, "<= 1.0", bothQd32.ClientCpuUsPerIo <= ClientCpuGoalQd32), bothQd32));
            var bothQd32x2 = await BestOfAsync(settings, target, [port], "randread", "4k", depth: 32, queues: 2, digest: false, Iops, null, receive).ConfigureAwait(false);
            rows.Add(Throughput("4 KiB randread QD32, 2 queues, rx threads both ends", bothQd32x2, bothQd32x2.Iops, "IOPS", "the same, 1 queue", bothQd32.Iops, "IOPS", 1.0));
            foreach (var digest in new[] { false, true })
            {
                var read = await BestOfAsync(settings, target, [port], "read", "128k", depth: 8, queues: 1, digest, r => r.MiBPerSecond, null, receive).ConfigureAwait(false);
                rows.Add(Throughput(Invariant($"128 KiB sequential read QD8, 1 queue{(digest ? ", data digest" : "")}, rx threads both ends"), read, read.MiBPerSecond, "MiB/s", "one stream, best placement", streamMiB, "MiB/s", digest ? 0.75 : 0.9));
            }
        }

        // The same target with TLS required on its port (every queue inside TLS 1.3, TLS_AES_128_GCM_SHA256), in the
        // same run as the plain rows above, so the ratios compare like with like.
        await using (var target = ChildProcess.Start(Cli, Serve(["--listen", "127.0.0.1:0", "--allow-host", TlsHost, "--tls-key", TlsKey, "--tls-required"])))
        {
            var port = ParsePort(await target.FirstLineAsync(StartTimeout).ConfigureAwait(false));
            Console.WriteLine(Invariant($"  target: nvmetcp serve with TLS required, PID {target.Id}, port {port}"));
            string[] tls = ["-q", TlsHost, "--tls-key", TlsKey];
            var qd32 = await BestOfAsync(settings, target, [port], "randread", "4k", depth: 32, queues: 1, digest: false, Iops, null, tls).ConfigureAwait(false);
            rows.Add(Throughput("4 KiB randread QD32, 1 queue, TLS", qd32, qd32.Iops, "IOPS", "the same, plain TCP", plainQd32, "IOPS", null));
            var read = await BestOfAsync(settings, target, [port], "read", "128k", depth: 8, queues: 1, digest: false, r => r.MiBPerSecond, null, tls).ConfigureAwait(false);
            rows.Add(Throughput("128 KiB sequential read QD8, 1 queue, TLS", read, read.MiBPerSecond, "MiB/s", "one stream, best placement", streamMiB, "MiB/s", 0.5));
            rows.Add(Throughput("128 KiB sequential read QD8, 1 queue, TLS vs plain", read, read.MiBPerSecond, "MiB/s", "the same, plain TCP", plainRead, "MiB/s", null));
        }

        // The same target serving the subsystem on two ports, read through NvmeSubsystem with one queue per path.
        var ports = new[] { FreeLoopbackPort(), FreeLoopbackPort() };
        await using (var target = ChildProcess.Start(Cli, Serve(["--listen", Invariant($"127.0.0.1:{ports[0]}"), "--listen", Invariant($"127.0.0.1:{ports[1]}")])))
        {
            await target.FirstLineAsync(StartTimeout).ConfigureAwait(false);
            Console.WriteLine(Invariant($"  target: nvmetcp serve, PID {target.Id}, ports {ports[0]} and {ports[1]}"));
            var twoPaths = await BestOfAsync(settings, target, ports, "randread", "4k", depth: 32, queues: 1, digest: false, Iops, "round-robin").ConfigureAwait(false);
            rows.Add(Throughput("4 KiB randread QD32, 2 paths round-robin, 1 queue each", twoPaths, twoPaths.Iops, "IOPS", "pipelined depth 32", pipelined, "msg/s", null));
        }

        return rows;
    }

    private static Row WithCpu(Row row, PerfRun run) => row with { ClientCpu = run.ClientCpuUsPerIo, TargetCpu = run.TargetCpuUsPerIo };

    private static Row Throughput(string measure, PerfRun run, double value, string unit, string limit, double limitValue, string limitUnit, double? goal) =>
        WithCpu(new(measure, value, unit, limit, limitValue, limitUnit, value / limitValue, goal is null ? "" : Invariant($">= {goal:0.0#}"), goal is null ? null : value / limitValue >= goal), run);

    private static async Task<Dictionary<string, Dictionary<string, double>>> MeasureLimitsAsync(HarnessSettings settings)
    {
        var best = new Dictionary<string, Dictionary<string, double>>();
        await using (var server = ChildProcess.Start(Self, ["loopback-server"]))
        {
            var port = int.Parse(await server.FirstLineAsync(StartTimeout).ConfigureAwait(false), CultureInfo.InvariantCulture);
            await MeasureModesAsync(settings, best, port, ["stream", "qd1", "qd1-sync", "qd32"], string.Empty, cpu: null).ConfigureAwait(false);
        }

        // The best placement: receiver and sender each pinned to its own CPU, large socket buffers on both sides.
        var cpus = ChildProcess.AllowedCpus();
        if (cpus.Count >= 2)
        {
            await using var server = ChildProcess.Start(Self, ["loopback-server", "--buffers", LargeBuffers.ToString(CultureInfo.InvariantCulture)], cpus[0]);
            var line = await server.FirstLineAsync(StartTimeout).ConfigureAwait(false);
            Console.WriteLine(Invariant($"  pinned runs: receiver {ChildProcess.DescribePinning(cpus[0])}, sender {ChildProcess.DescribePinning(cpus[1])}"));
            var port = int.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture);
            best["pinned-server"] = ParseFigures(line);
            best["pinned-server"]["cpu"] = cpus[0];
            await MeasureModesAsync(settings, best, port, ["stream", "qd1"], "-pinned", cpus[1]).ConfigureAwait(false);
        }

        return best;
    }

    private static async Task MeasureModesAsync(HarnessSettings settings, Dictionary<string, Dictionary<string, double>> best, int port, string[] modes, string suffix, int? cpu)
    {
        foreach (var mode in modes)
        {
            for (var i = 0; i < settings.Repeat; i++)
            {
                List<string> arguments = ["loopback-client", port.ToString(CultureInfo.InvariantCulture), mode, settings.Seconds.ToString(CultureInfo.InvariantCulture)];
                if (cpu is not null)
                {
                    arguments.AddRange(["--buffers", LargeBuffers.ToString(CultureInfo.InvariantCulture)]);
                }

                await using var client = ChildProcess.Start(Self, arguments, cpu);
                var figures = ParseFigures(await client.OutputAsync(TimeSpan.FromSeconds(settings.Seconds + 60)).ConfigureAwait(false));
                if (cpu is { } core)
                {
                    figures["cpu"] = core;
                }

                if (!best.TryGetValue(mode + suffix, out var kept) || Better(mode, figures, kept))
                {
                    best[mode + suffix] = figures;
                }
            }
        }
    }

    private static bool Better(string mode, Dictionary<string, double> candidate, Dictionary<string, double> kept) => mode switch
    {
        "stream" => candidate["bytes_per_sec"] > kept["bytes_per_sec"],
        "qd32" => candidate["messages_per_sec"] > kept["messages_per_sec"],
        _ => candidate["rtt_mean_us"] < kept["rtt_mean_us"],
    };

    private static Dictionary<string, double> ParseFigures(string line)
    {
        var figures = new Dictionary<string, double>();
        foreach (var pair in line.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=');
            if (parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                figures[parts[0]] = value;
            }
        }

        return figures;
    }

    private static int ParsePort(string line)
    {
        // "NVMe/TCP target listening on 127.0.0.1:PORT"
        var colon = line.LastIndexOf(':');
        return colon > 0 && int.TryParse(line.AsSpan(colon + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : throw new HarnessException($"cannot read the target's port from '{line}'");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static double Iops(PerfRun run) => run.Iops;

    // Each client figure, like each limit, is the best of --repeat runs: on a shared machine a run can lose tens of
    // percent to a neighbour, never gain.
    private static Task<PerfRun> BestOfAsync(HarnessSettings settings, ChildProcess target, int port, string pattern, string size, int depth, int queues, bool digest, Func<PerfRun, double> score) =>
        BestOfAsync(settings, target, [port], pattern, size, depth, queues, digest, score, null);

    private static async Task<PerfRun> BestOfAsync(HarnessSettings settings, ChildProcess target, int[] ports, string pattern, string size, int depth, int queues, bool digest, Func<PerfRun, double> score, string? policy, string[]? extra = null)
    {
        PerfRun? best = null;
        for (var i = 0; i < settings.Repeat; i++)
        {
            var run = await PerfAsync(settings, target, ports, pattern, size, depth, queues, digest, policy, extra).ConfigureAwait(false);
            if (best is null || score(run) > score(best))
            {
                best = run;
            }
        }

        return best!;
    }

    private static async Task<PerfRun> PerfAsync(HarnessSettings settings, ChildProcess target, int[] ports, string pattern, string size, int depth, int queues, bool digest, string? policy, string[]? extra)
    {
        var arguments = new List<string> { "perf" };
        foreach (var port in ports)
        {
            arguments.AddRange(["-a", "127.0.0.1", "-s", port.ToString(CultureInfo.InvariantCulture)]);
        }

        if (policy is not null)
        {
            arguments.AddRange(["--iopolicy", policy]);
        }

        arguments.AddRange(
        [
            "-n", Nqn, "--namespace-id", "1",
            "--pattern", pattern, "--io-size", size, "--queue-depth", depth.ToString(CultureInfo.InvariantCulture),
            "--nr-io-queues", queues.ToString(CultureInfo.InvariantCulture), "--time", settings.Seconds.ToString(CultureInfo.InvariantCulture),
            "--warmup", settings.Warmup.ToString(CultureInfo.InvariantCulture), "-o", "json",
        ]);
        if (digest)
        {
            arguments.Add("--data-digest");
        }

        arguments.AddRange(extra ?? []);

        // The target's CPU over perf's own measured window (see CpuSampler): it ends when perf's JSON arrives (perf
        // prints it before it disconnects) and lasts the JSON's "seconds", warm-up excluded as in cpu_us_per_io.
        await using var sampler = CpuSampler.Start(target);
        await using var client = ChildProcess.Start(Cli, arguments);
        var output = await client.OutputAsync(TimeSpan.FromSeconds(settings.Seconds + settings.Warmup + 60)).ConfigureAwait(false);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement.Clone();
        var ended = client.FirstLineTimestamp;
        var measured = (long)(root.GetProperty("seconds").GetDouble() * Stopwatch.Frequency);
        var targetCpu = await sampler.CpuBetweenAsync(ended - measured, ended).ConfigureAwait(false);
        var ios = root.GetProperty("ios").GetDouble();
        var run = new PerfRun(root, ios > 0 ? targetCpu.TotalMicroseconds / ios : 0);
        Console.WriteLine(Invariant($"  {pattern,-9} {size,4} QD{depth,-2} {queues} queue(s){(digest ? " +DDGST" : "       ")}{(extra?.Contains("--tls-key") == true ? " TLS" : string.Empty)}{(extra?.Contains("--receive-thread") == true ? " rx-thread+inline" : string.Empty)}{(ports.Length > 1 ? $" {ports.Length} paths" : string.Empty)}: {run.Iops,10:N0} IOPS {run.MiBPerSecond,8:N1} MiB/s  lat mean {run.Latency("mean"):N1} p50 {run.Latency("p50"):N1} p99 {run.Latency("p99"):N1} µs  CPU {run.ClientCpuUsPerIo:N2} µs/IO, target CPU {run.TargetCpuUsPerIo:N2} µs/IO"));
        return run;
    }

    private static string Format(List<Row> rows, Dictionary<string, Dictionary<string, double>> limits)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"The 128 KiB rows' limit is the better of the two one-stream placements ({StreamMiB(limits):N0} MiB/s). CPU columns: µs per I/O of the run each row comes from."));
        text.AppendLine(Invariant($"{"measure",-56} {"ours",12} {"limit",-26} {"value",12} {"ratio",7} {"goal",7}  met  {"client CPU",10} {"target CPU",10}"));
        foreach (var row in rows)
        {
            text.AppendLine(Invariant($"{row.Measure,-56} {Figure(row.Value),8} {row.Unit,-5} {row.Limit,-26} {Figure(row.LimitValue),8} {row.LimitUnit,-5} {row.Ratio,5:0.00} {row.Goal,7}  {Met(row.Met),-3}  {row.ClientCpu,10:N2} {row.TargetCpu,10:N2}"));
        }

        return text.ToString();
    }

    private static string FormatComparisons(List<Comparison> comparisons)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Beside the noisy neighbour: kept = loaded/idle (idle/loaded for µs rows, better lower), goal >= {Comparison.Goal:0.00}; each row's ratio to its limit changes by the same factor (the limits are measured once, idle)."));
        text.AppendLine(Invariant($"{"measure",-56} {"idle",14} {"loaded",14} {"kept",6} {"goal",7}  met"));
        foreach (var c in comparisons)
        {
            text.AppendLine(Invariant($"{c.Idle.Measure,-56} {Figure(c.Idle.Value),8} {c.Idle.Unit,-5} {Figure(c.Loaded.Value),8} {c.Loaded.Unit,-5} {c.Kept,6:0.00} {">= " + Comparison.Goal.ToString("0.00", CultureInfo.InvariantCulture),7}  {Met(c.Kept >= Comparison.Goal)}"));
        }

        return text.ToString();
    }

    private static string Markdown(HarnessSettings settings, Dictionary<string, Dictionary<string, double>> limits, List<Row> rows, List<Comparison>? comparisons)
    {
        var text = new StringBuilder();
        var pinned = limits.TryGetValue("stream-pinned", out var stream)
            ? Invariant($"pinned with large buffers {stream["bytes_per_sec"] / (1 << 20):N0} MiB/s ({PinnedPlacement(limits)}; {LargeBuffers >> 20} MiB asked, SO_SNDBUF {stream["sndbuf_granted"] / 1024:N0} KiB and SO_RCVBUF {limits["pinned-server"]["rcvbuf_granted"] / 1024:N0} KiB granted)")
            : "pinned: n/a (fewer than 2 CPUs)";
        var qd1Pinned = limits.TryGetValue("qd1-pinned", out var qd1) ? Invariant($", pinned {qd1["rtt_mean_us"]:N1}") : string.Empty;
        text.AppendLine(Invariant($"Loopback limits: one stream unpinned {limits["stream"]["bytes_per_sec"] / (1 << 20):N0} MiB/s, {pinned}; QD1 RTT mean {limits["qd1"]["rtt_mean_us"]:N1} µs (p50 {limits["qd1"]["rtt_p50_us"]:N1}, blocking client {limits["qd1-sync"]["rtt_mean_us"]:N1}{qd1Pinned}); pipelined depth 32 {limits["qd32"]["messages_per_sec"]:N0} msg/s. {settings.Seconds} s per measurement."));
        if (settings.Neighbour)
        {
            text.AppendLine();
            text.AppendLine("Run beside a noisy neighbour: one CPU-bound process (`nvmetcp-bench spin`, one thread) for the whole run, limits included.");
        }

        text.AppendLine();
        text.AppendLine("128 KiB rows: ratio to the better of the two one-stream placements. CPU columns: µs per I/O of the client (`nvmetcp perf`) and of the target (`nvmetcp serve`) in the run the row comes from.");
        text.AppendLine();
        text.AppendLine("| Measure | Ours | Limit | Limit value | Ratio | Goal | Met | Client CPU/IO | Target CPU/IO |");
        text.AppendLine("|---|---:|---|---:|---:|---|---|---:|---:|");
        foreach (var row in rows)
        {
            text.AppendLine(Invariant($"| {row.Measure} | {Figure(row.Value)} {row.Unit} | {row.Limit} | {Figure(row.LimitValue)} {row.LimitUnit} | {row.Ratio:0.00} | {row.Goal} | {Met(row.Met)} | {row.ClientCpu:N2} µs | {row.TargetCpu:N2} µs |"));
        }

        if (comparisons is not null)
        {
            text.AppendLine();
            text.AppendLine(Invariant($"The same client rows beside a noisy neighbour (one CPU-bound process), in the same invocation; kept = loaded/idle, idle/loaded for µs rows (better lower); goal >= {Comparison.Goal:0.00}."));
            text.AppendLine();
            text.AppendLine("| Measure | Idle | Loaded | Kept | Goal | Met |");
            text.AppendLine("|---|---:|---:|---:|---|---|");
            foreach (var c in comparisons)
            {
                text.AppendLine(Invariant($"| {c.Idle.Measure} | {Figure(c.Idle.Value)} {c.Idle.Unit} | {Figure(c.Loaded.Value)} {c.Loaded.Unit} | {c.Kept:0.00} | >= {Comparison.Goal:0.00} | {Met(c.Kept >= Comparison.Goal)} |"));
            }
        }

        return text.ToString();
    }

    private static string Figure(double value) => value >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("N2", CultureInfo.InvariantCulture);

    private static string Met(bool? met) => met switch { true => "yes", false => "no", null => "-" };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
