using System.Globalization;
using System.Text;
using System.Text.Json;

namespace NvmeTcp.Bench.Macro;

/// <summary>What one harness run does.</summary>
internal sealed record HarnessSettings(double Seconds, double Warmup, int Repeat, bool Smoke, string? Markdown)
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
                _ => throw new HarnessException($"unknown option {args[i]}"),
            };
        }

        return settings;
    }

    private static double ParsePositive(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new HarnessException($"'{text}' is not a positive number");
}

/// <summary>One line of the result: a client figure, the limit it is compared with, and the goal for their ratio.</summary>
internal sealed record Row(string Measure, double Value, string Unit, string Limit, double LimitValue, string LimitUnit, double Ratio, string Goal, bool? Met);

/// <summary>
/// Measures (a) this machine's loopback limits with our plain TCP programs and (b) our client (`nvmetcp perf`) against
/// `nvmetcp serve` with a null namespace, both out of process, and prints (b) as ratios of (a).
/// </summary>
internal static class Harness
{
    private const string Nqn = "nqn.2026-11.dev.nvmetcp:bench";

    // TLS rows: a fixed host and key (not a secret: a benchmark's), TLS_AES_128_GCM_SHA256.
    private const string TlsHost = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-0000000be7c4";
    private const string TlsKey = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static string Self => Path.Combine(AppContext.BaseDirectory, "nvmetcp-bench.dll");

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "nvmetcp.dll");

    public static async Task<int> RunAsync(HarnessSettings settings)
    {
        Console.WriteLine(Invariant($"nvmetcp-bench: {Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        Console.WriteLine(Invariant($"{settings.Seconds} s per measurement, {settings.Warmup} s warm-up per client run, best of {settings.Repeat} runs for each figure{(settings.Smoke ? " (smoke run: the figures mean nothing)" : "")}"));

        // (a) The limits.
        var limits = await MeasureLimitsAsync(settings).ConfigureAwait(false);
        var streamMiB = limits["stream"]["bytes_per_sec"] / (1 << 20);
        var rtt = limits["qd1"]["rtt_mean_us"];
        var rttP50 = limits["qd1"]["rtt_p50_us"];
        var pipelined = limits["qd32"]["messages_per_sec"];
        Console.WriteLine();
        Console.WriteLine("(a) loopback limits (two processes of ours, no NVMe):");
        Console.WriteLine(Invariant($"  one stream of 128 KiB writes:        {streamMiB,10:N0} MiB/s"));
        Console.WriteLine(Invariant($"  72 B request / 4144 B reply, QD1:    {rtt,10:N1} µs mean RTT (p50 {rttP50:N1}, p99 {limits["qd1"]["rtt_p99_us"]:N1}); blocking client: {limits["qd1-sync"]["rtt_mean_us"]:N1} µs"));
        Console.WriteLine(Invariant($"  same, pipelined at depth 32:         {pipelined,10:N0} msg/s"));

        // (b) Our client against nvmetcp serve.
        Console.WriteLine();
        Console.WriteLine("(b) nvmetcp perf against nvmetcp serve (null namespace, 4096-byte blocks):");
        var rows = new List<Row>();
        double plainQd32 = 0;
        double plainRead = 0;
        await using (var target = ChildProcess.Start(Cli, ["serve", "--listen", "127.0.0.1:0", "--nqn", Nqn, "-n", "1:1TiB:4096:null", "--no-discovery", "--max-io-queues", "8", "--max-queue-size", "128"]))
        {
            var port = ParsePort(await target.FirstLineAsync(StartTimeout).ConfigureAwait(false));
            Console.WriteLine(Invariant($"  target: nvmetcp serve, PID {target.Id}, port {port}"));

            var qd1 = await BestOfAsync(settings, port, "randread", "4k", depth: 1, queues: 1, digest: false, r => -r.GetProperty("latency_us").GetProperty("mean").GetDouble()).ConfigureAwait(false);
            var latency = qd1.GetProperty("latency_us");
            rows.Add(new("4 KiB randread QD1, 1 queue: mean latency", latency.GetProperty("mean").GetDouble(), "µs", "QD1 mean RTT", rtt, "µs", latency.GetProperty("mean").GetDouble() / rtt, "<= 2.0", latency.GetProperty("mean").GetDouble() / rtt <= 2.0));
            rows.Add(new("4 KiB randread QD1, 1 queue: p50 latency", latency.GetProperty("p50").GetDouble(), "µs", "QD1 p50 RTT", rttP50, "µs", latency.GetProperty("p50").GetDouble() / rttP50, "<= 2.0", latency.GetProperty("p50").GetDouble() / rttP50 <= 2.0));

            var qd32 = await BestOfAsync(settings, port, "randread", "4k", depth: 32, queues: 1, digest: false, Iops).ConfigureAwait(false);
            plainQd32 = qd32.GetProperty("iops").GetDouble();
            AddThroughput(rows, "4 KiB randread QD32, 1 queue", plainQd32, "IOPS", "pipelined depth 32", pipelined, "msg/s", 0.5);
            var qd32x2 = await BestOfAsync(settings, port, "randread", "4k", depth: 32, queues: 2, digest: false, Iops).ConfigureAwait(false);
            AddThroughput(rows, "4 KiB randread QD32, 2 queues", qd32x2.GetProperty("iops").GetDouble(), "IOPS", "pipelined depth 32", pipelined, "msg/s", 0.5);

            foreach (var (pattern, digest) in new[] { ("read", false), ("read", true), ("write", false), ("write", true) })
            {
                var run = await BestOfAsync(settings, port, pattern, "128k", depth: 8, queues: 1, digest, r => r.GetProperty("mib_per_sec").GetDouble()).ConfigureAwait(false);
                var goal = pattern == "read" ? (digest ? 0.5 : 0.6) : (double?)null;
                if (pattern == "read" && !digest)
                {
                    plainRead = run.GetProperty("mib_per_sec").GetDouble();
                }

                AddThroughput(rows, Invariant($"128 KiB sequential {pattern} QD8, 1 queue{(digest ? ", data digest" : "")}"), run.GetProperty("mib_per_sec").GetDouble(), "MiB/s", "one stream", streamMiB, "MiB/s", goal);
            }

            var cpu = qd32.GetProperty("cpu_us_per_io").GetDouble();
            rows.Add(new("client CPU per 4 KiB read (QD32, 1 queue)", cpu, "µs", "Linux host driver budget", 4.3, "µs", cpu / 4.3, "<= 1.0", cpu <= 4.3));
            var cpuQd1 = qd1.GetProperty("cpu_us_per_io").GetDouble();
            rows.Add(new("client CPU per 4 KiB read (QD1, 1 queue)", cpuQd1, "µs", "Linux host driver budget", 4.3, "µs", cpuQd1 / 4.3, "", null));
        }

        // The same target with TLS required on its port (every queue inside TLS 1.3, TLS_AES_128_GCM_SHA256), in the
        // same run as the plain rows above, so the ratios compare like with like.
        await using (var target = ChildProcess.Start(Cli, ["serve", "--listen", "127.0.0.1:0", "--nqn", Nqn, "-n", "1:1TiB:4096:null", "--no-discovery", "--max-io-queues", "8", "--max-queue-size", "128", "--allow-host", TlsHost, "--tls-key", TlsKey, "--tls-required"]))
        {
            var port = ParsePort(await target.FirstLineAsync(StartTimeout).ConfigureAwait(false));
            Console.WriteLine(Invariant($"  target: nvmetcp serve with TLS required, PID {target.Id}, port {port}"));
            string[] tls = ["-q", TlsHost, "--tls-key", TlsKey];
            var qd32 = await BestOfAsync(settings, [port], "randread", "4k", depth: 32, queues: 1, digest: false, Iops, null, tls).ConfigureAwait(false);
            AddThroughput(rows, "4 KiB randread QD32, 1 queue, TLS", qd32.GetProperty("iops").GetDouble(), "IOPS", "the same, plain TCP", plainQd32, "IOPS", null);
            var read = await BestOfAsync(settings, [port], "read", "128k", depth: 8, queues: 1, digest: false, r => r.GetProperty("mib_per_sec").GetDouble(), null, tls).ConfigureAwait(false);
            var mib = read.GetProperty("mib_per_sec").GetDouble();
            AddThroughput(rows, "128 KiB sequential read QD8, 1 queue, TLS", mib, "MiB/s", "one stream", streamMiB, "MiB/s", 0.5);
            AddThroughput(rows, "128 KiB sequential read QD8, 1 queue, TLS vs plain", mib, "MiB/s", "the same, plain TCP", plainRead, "MiB/s", null);
        }

        // The same target serving the subsystem on two ports, read through NvmeSubsystem with one queue per path.
        var ports = new[] { FreeLoopbackPort(), FreeLoopbackPort() };
        await using (var target = ChildProcess.Start(Cli, ["serve", "--listen", Invariant($"127.0.0.1:{ports[0]}"), "--listen", Invariant($"127.0.0.1:{ports[1]}"), "--nqn", Nqn, "-n", "1:1TiB:4096:null", "--no-discovery", "--max-io-queues", "8", "--max-queue-size", "128"]))
        {
            await target.FirstLineAsync(StartTimeout).ConfigureAwait(false);
            Console.WriteLine(Invariant($"  target: nvmetcp serve, PID {target.Id}, ports {ports[0]} and {ports[1]}"));
            var twoPaths = await BestOfAsync(settings, ports, "randread", "4k", depth: 32, queues: 1, digest: false, Iops, "round-robin").ConfigureAwait(false);
            AddThroughput(rows, "4 KiB randread QD32, 2 paths round-robin, 1 queue each", twoPaths.GetProperty("iops").GetDouble(), "IOPS", "pipelined depth 32", pipelined, "msg/s", null);
        }

        Console.WriteLine();
        var table = Format(rows);
        Console.WriteLine(table);
        if (settings.Markdown is not null)
        {
            await File.WriteAllTextAsync(settings.Markdown, Markdown(settings, limits, rows)).ConfigureAwait(false);
            Console.WriteLine($"written to {settings.Markdown}");
        }

        return 0;
    }

    private static void AddThroughput(List<Row> rows, string measure, double value, string unit, string limit, double limitValue, string limitUnit, double? goal) =>
        rows.Add(new(measure, value, unit, limit, limitValue, limitUnit, value / limitValue, goal is null ? "" : Invariant($">= {goal:0.0#}"), goal is null ? null : value / limitValue >= goal));

    private static async Task<Dictionary<string, Dictionary<string, double>>> MeasureLimitsAsync(HarnessSettings settings)
    {
        var best = new Dictionary<string, Dictionary<string, double>>();
        await using var server = ChildProcess.Start(Self, ["loopback-server"]);
        var port = int.Parse(await server.FirstLineAsync(StartTimeout).ConfigureAwait(false), CultureInfo.InvariantCulture);
        foreach (var mode in new[] { "stream", "qd1", "qd1-sync", "qd32" })
        {
            for (var i = 0; i < settings.Repeat; i++)
            {
                await using var client = ChildProcess.Start(Self, ["loopback-client", port.ToString(CultureInfo.InvariantCulture), mode, settings.Seconds.ToString(CultureInfo.InvariantCulture)]);
                var figures = ParseFigures(await client.OutputAsync(TimeSpan.FromSeconds(settings.Seconds + 60)).ConfigureAwait(false));
                if (!best.TryGetValue(mode, out var kept) || Better(mode, figures, kept))
                {
                    best[mode] = figures;
                }
            }
        }

        return best;
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

    private static double Iops(JsonElement run) => run.GetProperty("iops").GetDouble();

    // Each client figure, like each limit, is the best of --repeat runs: on a shared machine a run can lose tens of
    // percent to a neighbour, never gain.
    private static Task<JsonElement> BestOfAsync(HarnessSettings settings, int port, string pattern, string size, int depth, int queues, bool digest, Func<JsonElement, double> score) =>
        BestOfAsync(settings, [port], pattern, size, depth, queues, digest, score, null);

    private static async Task<JsonElement> BestOfAsync(HarnessSettings settings, int[] ports, string pattern, string size, int depth, int queues, bool digest, Func<JsonElement, double> score, string? policy, string[]? extra = null)
    {
        JsonElement? best = null;
        for (var i = 0; i < settings.Repeat; i++)
        {
            var run = await PerfAsync(settings, ports, pattern, size, depth, queues, digest, policy, extra).ConfigureAwait(false);
            if (best is not { } b || score(run) > score(b))
            {
                best = run;
            }
        }

        return best!.Value;
    }

    private static async Task<JsonElement> PerfAsync(HarnessSettings settings, int[] ports, string pattern, string size, int depth, int queues, bool digest, string? policy, string[]? extra)
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

        await using var client = ChildProcess.Start(Cli, arguments);
        var output = await client.OutputAsync(TimeSpan.FromSeconds(settings.Seconds + settings.Warmup + 60)).ConfigureAwait(false);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement.Clone();
        var latency = root.GetProperty("latency_us");
        Console.WriteLine(Invariant($"  {pattern,-9} {size,4} QD{depth,-2} {queues} queue(s){(digest ? " +DDGST" : "       ")}{(extra is { Length: > 0 } ? " TLS" : string.Empty)}{(ports.Length > 1 ? $" {ports.Length} paths" : string.Empty)}: {root.GetProperty("iops").GetDouble(),10:N0} IOPS {root.GetProperty("mib_per_sec").GetDouble(),8:N1} MiB/s  lat mean {latency.GetProperty("mean").GetDouble():N1} p50 {latency.GetProperty("p50").GetDouble():N1} p99 {latency.GetProperty("p99").GetDouble():N1} µs  CPU {root.GetProperty("cpu_us_per_io").GetDouble():N2} µs/IO"));
        return root;
    }

    private static string Format(List<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"{"measure",-52} {"ours",12} {"limit",-26} {"value",12} {"ratio",7} {"goal",7}  met"));
        foreach (var row in rows)
        {
            text.AppendLine(Invariant($"{row.Measure,-52} {Figure(row.Value),8} {row.Unit,-5} {row.Limit,-26} {Figure(row.LimitValue),8} {row.LimitUnit,-5} {row.Ratio,5:0.00} {row.Goal,7}  {Met(row.Met)}"));
        }

        return text.ToString();
    }

    private static string Markdown(HarnessSettings settings, Dictionary<string, Dictionary<string, double>> limits, List<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine(Invariant($"Loopback limits: one stream {limits["stream"]["bytes_per_sec"] / (1 << 20):N0} MiB/s; QD1 RTT mean {limits["qd1"]["rtt_mean_us"]:N1} µs (p50 {limits["qd1"]["rtt_p50_us"]:N1}, blocking client {limits["qd1-sync"]["rtt_mean_us"]:N1}); pipelined depth 32 {limits["qd32"]["messages_per_sec"]:N0} msg/s. {settings.Seconds} s per measurement."));
        text.AppendLine();
        text.AppendLine("| Measure | Ours | Limit | Limit value | Ratio | Goal | Met |");
        text.AppendLine("|---|---:|---|---:|---:|---|---|");
        foreach (var row in rows)
        {
            text.AppendLine(Invariant($"| {row.Measure} | {Figure(row.Value)} {row.Unit} | {row.Limit} | {Figure(row.LimitValue)} {row.LimitUnit} | {row.Ratio:0.00} | {row.Goal} | {Met(row.Met)} |"));
        }

        return text.ToString();
    }

    private static string Figure(double value) => value >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("N2", CultureInfo.InvariantCulture);

    private static string Met(bool? met) => met switch { true => "yes", false => "no", null => "-" };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
