using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// <c>nvmetcp perf</c>: a closed-loop load generator in the manner of fio and spdk_nvme_perf: IOPS, MiB/s, latency
/// percentiles, CPU time per I/O, and an optional data integrity check.
/// </summary>
internal static class PerfCommand
{
    // Buffers are QueueDepth x IoSize (twice for mixed or verified runs); beyond this the run is a typo.
    private const long MaxBufferBytes = 2L << 30;

    public static Command Create()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var queueDepth = new Option<int>("--queue-depth", "-D") { Description = "I/Os in flight in total, spread over the I/O queues.", DefaultValueFactory = _ => 32 }
            .Check(depth => depth is < 1 or > 4096 ? "--queue-depth must be 1 to 4096" : null);
        var ioSize = new Option<int>("--io-size", "-S")
        {
            Description = "Bytes per I/O: a number, or with k/m (4k, 128k, 1m).",
            DefaultValueFactory = _ => 4096,
            CustomParser = result => ParseSize(result.Tokens.Count == 0 ? "4k" : result.Tokens[0].Value, out var size) ? size : Fail(result),
        };
        var pattern = new Option<string>("--pattern", "-P") { Description = "read, write (sequential), randread, randwrite or randrw (random, mixed).", DefaultValueFactory = _ => "randread" };
        pattern.AcceptOnlyFromAmong("read", "write", "randread", "randwrite", "randrw");
        var rwMixRead = new Option<int>("--rwmix-read", "-M") { Description = "Percent of reads for randrw (0 to 100; ignored by the other patterns).", DefaultValueFactory = _ => 50 }
            .Check(percent => percent is < 0 or > 100 ? "--rwmix-read must be 0 to 100 (percent of reads)" : null);

        // Checked before TimeSpan sees them: NaN or a huge value would throw there.
        var time = new Option<double>("--time", "-t") { Description = "Seconds to measure.", DefaultValueFactory = _ => 10 }
            .Check(seconds => seconds is > 0 and <= 86_400 ? null : "--time must be 0 to 86400 seconds");
        var warmup = new Option<double>("--warmup") { Description = "Seconds to run first without measuring (excluded from every figure).", DefaultValueFactory = _ => 0 }
            .Check(seconds => seconds is >= 0 and <= 3_600 ? null : "--warmup must be 0 to 3600 seconds");
        var verify = new Option<bool>("--verify")
        {
            Description = "Check data integrity: every write stamps its blocks (LBA, a per-run seed, a sequence number, a pattern), every read of a block this run wrote is checked. "
                + "read and randread first write the region they read. A mismatch exits with code 6.",
        };
        var size = new Option<long?>("--size")
        {
            Description = "Bytes of the namespace to use, from LBA 0 (k/m/g/t suffixes). Default: all of it.",
            CustomParser = result => ParseBytes(result.Tokens[0].Value, out var bytes) ? bytes : FailBytes(result),
        };
        var plot = new Option<string?>("--plot") { Description = "Also draw IOPS over time and the latency percentiles into this SVG file." };
        var receiveThread = new Option<bool>("--receive-thread") { Description = "Receive on a thread per queue that sleeps in the kernel (NvmeTcpOptions.DedicatedReceiveThreads)." };
        var inlineCompletions = new Option<bool>("--inline-completions") { Description = "Run completions on the receiving thread (NvmeTcpOptions.InlineCompletions; perf's loop never blocks)." };
        var command = ControllerVerb.CreateMultipath(
            "perf",
            "Measure IOPS, MiB/s, latency percentiles and CPU time per I/O with a closed-loop workload (as fio or spdk_nvme_perf), optionally verifying the data. "
                + "Over several paths (-a/-s once per path, or --discover) the I/O goes through the subsystem with --iopolicy, and each path's share is reported.",
            defaultIoQueues: Math.Min(Environment.ProcessorCount, 8),
            [namespaceId, queueDepth, ioSize, pattern, rwMixRead, time, warmup, verify, size, plot, receiveThread, inlineCompletions],
            async (context, cancellationToken) =>
            {
                var dedicated = context.GetValue(receiveThread);
                var inline = context.GetValue(inlineCompletions);
                context.Configure = options =>
                {
                    options.DedicatedReceiveThreads = dedicated;
                    options.InlineCompletions = inline;
                };
                var settings = new PerfSettings(Enum.Parse<PerfPattern>(context.GetValue(pattern), ignoreCase: true), context.GetValue(queueDepth), context.GetValue(ioSize), TimeSpan.FromSeconds(context.GetValue(time)))
                {
                    RwMixRead = context.GetValue(rwMixRead),
                    Warmup = TimeSpan.FromSeconds(context.GetValue(warmup)),
                    Verify = context.GetValue(verify),
                    RegionBytes = context.GetValue(size),
                };
                var nsid = context.GetValue(namespaceId);
                if (!context.IsMultipath)
                {
                    var controller = await context.ConnectAsync(cancellationToken).ConfigureAwait(false);
                    await using (controller.ConfigureAwait(false))
                    {
                        return await RunAsync(context, new QueuePerfTarget(controller, CliContext.GetNamespace(controller, nsid)), settings, plot, cancellationToken).ConfigureAwait(false);
                    }
                }

                var subsystem = await context.ConnectSubsystemAsync(cancellationToken).ConfigureAwait(false);
                await using (subsystem.ConfigureAwait(false))
                {
                    var ns = subsystem.Namespaces.FirstOrDefault(n => n.Id == nsid)
                        ?? throw new CliException($"namespace {nsid} is not active on {subsystem.SubsystemNqn} (active: {string.Join(", ", subsystem.Namespaces.Select(n => n.Id))})");
                    context.Note($"{subsystem.Paths.Count} paths: {string.Join(", ", subsystem.Paths.Select(p => $"{p.Name} {MultipathCommands.Address(p)}"))}");
                    return await RunAsync(context, new SubsystemPerfTarget(subsystem, ns), settings, plot, cancellationToken).ConfigureAwait(false);
                }
            });

        command.Check(values =>
        {
            var buffers = string.Equals(values.Get(pattern), "randrw", StringComparison.OrdinalIgnoreCase) || values.Get(verify) ? 2L : 1L;
            return (long)values.Get(queueDepth) * values.Get(ioSize) * buffers > MaxBufferBytes
                ? $"--queue-depth x --io-size needs more than {MaxBufferBytes >> 30} GiB of buffers"
                : null;
        });
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, PerfTarget target, PerfSettings settings, Option<string?> plot, CancellationToken cancellationToken)
    {
        var console = context.Json ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }) : context.Console;
        var result = await PerfRunner.RunWithProgressAsync(console, target, settings, cancellationToken).ConfigureAwait(false);
        if (context.GetValue(plot) is { Length: > 0 } plotPath)
        {
            Output.PerfPlot.Write(plotPath, settings, result);
        }

        var policy = target is SubsystemPerfTarget over ? ConnectionOptions.IoPolicyName(over.Subsystem.IoPolicy) : null;
        if (context.Json)
        {
            context.WriteJson(writer => WriteJson(writer, settings, result, policy));
        }
        else
        {
            Print(context.Console, settings, result, policy);
        }

        if (result.VerifyErrors == 0)
        {
            return ExitCodes.Ok;
        }

        await context.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"nvmetcp perf: verify: {result.VerifyErrors} of {result.BlocksVerified} blocks read back differ from what this run wrote")).ConfigureAwait(false);
        foreach (var mismatch in result.FirstMismatches)
        {
            await context.Error.WriteLineAsync($"nvmetcp perf: verify: {mismatch}").ConfigureAwait(false);
        }

        return ExitCodes.DataMismatch;
    }

    /// <summary>The members of perf's JSON object.</summary>
    /// <param name="policy">Over a subsystem, its --iopolicy; null over one controller.</param>
    public static void WriteJson(Utf8JsonWriter writer, PerfSettings settings, PerfResult result, string? policy = null)
    {
        writer.WriteString("pattern", settings.PatternName);
        writer.WriteNumber("io_size", settings.IoSize);
        writer.WriteNumber("queue_depth", settings.QueueDepth);
        writer.WriteNumber("io_queues", result.IoQueues);
        if (settings.Pattern == PerfPattern.RandRw)
        {
            writer.WriteNumber("rwmix_read", settings.RwMixRead);
        }

        writer.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
        writer.WriteNumber("ios", result.Ios);
        writer.WriteNumber("reads", result.Reads);
        writer.WriteNumber("writes", result.Writes);
        writer.WriteNumber("iops", Math.Round(result.Iops, 1));
        writer.WriteNumber("mib_per_sec", Math.Round(result.MiBPerSecond, 2));
        writer.WriteNumber("avg_latency_us", result.AverageLatencyMicroseconds);
        writer.WriteStartObject("latency_us");
        writer.WriteNumber("min", result.Latency.Min);
        writer.WriteNumber("mean", result.Latency.Mean);
        writer.WriteNumber("p50", result.Latency.P50);
        writer.WriteNumber("p99", result.Latency.P99);
        writer.WriteNumber("p99_9", result.Latency.P999);
        writer.WriteNumber("max", result.Latency.Max);
        writer.WriteEndObject();
        writer.WriteNumber("cpu_seconds", Math.Round(result.CpuTime.TotalSeconds, 3));
        writer.WriteNumber("cpu_us_per_io", Math.Round(result.CpuMicrosecondsPerIo, 2));
        writer.WriteNumber("cpu_utilization_pct", Math.Round(result.CpuUtilizationPercent, 1));
        if (settings.Verify)
        {
            writer.WriteNumber("verify_errors", result.VerifyErrors);
        }

        if (policy is not null)
        {
            writer.WriteString("iopolicy", policy);
            writer.WriteStartArray("paths");
            foreach (var path in result.Paths)
            {
                writer.WriteStartObject();
                writer.WriteString("name", path.Name);
                writer.WriteString("address", path.Address);
                writer.WriteNumber("ios", path.Ios);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }
    }

    /// <param name="policy">Over a subsystem, its --iopolicy; null over one controller.</param>
    public static void Print(IAnsiConsole console, PerfSettings settings, PerfResult result, string? policy = null)
    {
        // Lines kept under 80 columns: Spectre wraps at the console width, 80 when output is redirected.
        static string N(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
        var mix = settings.Pattern == PerfPattern.RandRw ? $" {settings.RwMixRead}% reads" : string.Empty;
        var warmup = settings.Warmup > TimeSpan.Zero ? $" after {N(settings.Warmup.TotalSeconds, "0.0")} s warmup" : string.Empty;
        console.WriteLine($"{settings.PatternName}{mix} {PerfRunner.Size(settings.IoSize)}, QD {settings.QueueDepth} over {result.IoQueues} I/O queue(s), {N(result.Elapsed.TotalSeconds, "0.0")} s{warmup}");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("IOPS").RightAligned()).AddColumn(new TableColumn("MiB/s").RightAligned())
            .AddColumn(new TableColumn("avg latency").RightAligned()).AddColumn(new TableColumn("I/Os").RightAligned());
        table.AddRow(N(result.Iops, "N0"), N(result.MiBPerSecond, "N1"), $"{N(result.AverageLatencyMicroseconds, "N1")} µs", N(result.Ios, "N0"));
        console.Write(table);
        var l = result.Latency;
        console.WriteLine($"  lat (µs): min={N(l.Min, "0.0")}, p50={N(l.P50, "0.0")}, p99={N(l.P99, "0.0")}, p99.9={N(l.P999, "0.0")}, max={N(l.Max, "0.0")}");
        if (settings.Pattern == PerfPattern.RandRw)
        {
            console.WriteLine($"  io: reads={N(result.Reads, "N0")}, writes={N(result.Writes, "N0")}");
        }

        if (result.Buckets.Count > 0)
        {
            // The latency histogram: I/Os per bucket, each bucket up to twice the one before.
            var chart = new BarChart().Label("  latency histogram (I/Os per bucket)").Width(72);
            foreach (var (upTo, count) in result.Buckets)
            {
                var label = upTo >= 1000 ? $"<= {N(upTo / 1000, "0.###")} ms" : $"<= {N(upTo, "0")} µs";
                chart.AddItem(label, count, Color.SteelBlue1);
            }

            console.Write(chart);
        }

        console.WriteLine($"  cpu (whole process): {N(result.CpuTime.TotalSeconds, "0.00")} s, {N(result.CpuUtilizationPercent, "0.0")}% of a core, {N(result.CpuMicrosecondsPerIo, "0.00")} µs/IO");
        if (settings.Verify)
        {
            console.WriteLine(result.VerifyErrors == 0
                ? $"  verify: {N(result.BlocksVerified, "N0")} blocks read back, all as written"
                : $"  verify: {N(result.VerifyErrors, "N0")} of {N(result.BlocksVerified, "N0")} blocks read back differ");
        }

        if (policy is not null)
        {
            console.WriteLine($"  paths ({policy}), I/Os completed while measured:");
            foreach (var path in result.Paths)
            {
                console.WriteLine($"    {path.Name} {path.Address}: {N(path.Ios, "N0")}");
            }
        }
    }

    /// <summary>An --io-size: 1 byte to 16 MiB.</summary>
    public static bool ParseSize(string text, out int size)
    {
        var ok = ParseBytes(text, out var bytes) && bytes <= 16 << 20;
        size = ok ? (int)bytes : 0;
        return ok;
    }

    /// <summary>A byte count, optionally with a binary k/m/g/t suffix; at least 1.</summary>
    public static bool ParseBytes(string text, out long bytes)
    {
        bytes = 0;
        var digits = text.Trim().ToLowerInvariant();
        var shift = digits.Length == 0 ? 0 : digits[^1] switch { 'k' => 10, 'm' => 20, 'g' => 30, 't' => 40, _ => 0 };
        if (shift != 0)
        {
            digits = digits[..^1];
        }

        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > long.MaxValue >> shift)
        {
            return false;
        }

        bytes = value << shift;
        return true;
    }

    private static int Fail(System.CommandLine.Parsing.ArgumentResult result)
    {
        result.AddError($"'{result.Tokens[0].Value}' is not a size from 1 byte to 16m (e.g. 4096, 4k, 1m).");
        return 0;
    }

    private static long? FailBytes(System.CommandLine.Parsing.ArgumentResult result)
    {
        result.AddError($"'{result.Tokens[0].Value}' is not a size in bytes (e.g. 1g, 512m).");
        return null;
    }
}
