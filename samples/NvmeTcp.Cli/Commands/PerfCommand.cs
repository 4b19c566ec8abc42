using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>nvmetcp perf</c>: a first, simple load generator (IOPS, MiB/s, average latency).</summary>
internal static class PerfCommand
{
    public static Command Create()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var queueDepth = new Option<int>("--queue-depth", "-D") { Description = "I/Os in flight in total, spread over the I/O queues.", DefaultValueFactory = _ => 32 };
        var ioSize = new Option<int>("--io-size", "-S")
        {
            Description = "Bytes per I/O: a number, or with k/m (4k, 128k, 1m).",
            DefaultValueFactory = _ => 4096,
            CustomParser = result => ParseSize(result.Tokens.Count == 0 ? "4k" : result.Tokens[0].Value, out var size) ? size : Fail(result),
        };
        var pattern = new Option<string>("--pattern", "-P") { Description = "read, write (sequential), randread or randwrite.", DefaultValueFactory = _ => "randread" };
        pattern.AcceptOnlyFromAmong("read", "write", "randread", "randwrite");
        var time = new Option<double>("--time", "-t") { Description = "Seconds to run.", DefaultValueFactory = _ => 10 };
        var command = new Command("perf", "Measure IOPS, MiB/s and average latency with a simple closed-loop workload (a first version: no percentiles yet).");
        ConnectionOptions.AddTo(command);
        command.Options.Add(namespaceId);
        command.Options.Add(queueDepth);
        command.Options.Add(ioSize);
        command.Options.Add(pattern);
        command.Options.Add(time);
        command.Options.Add(CommonOptions.OutputFormat());
        CommandRunner.SetAction(command, hasOutputFormat: true, async (context, cancellationToken) =>
        {
            var depth = context.GetValue(queueDepth);
            var seconds = context.GetValue(time);
            if (depth is < 1 or > 4096 || seconds is <= 0 or > 86_400)
            {
                throw new CliException("--queue-depth must be 1 to 4096 and --time 0 to 86400 seconds");
            }

            var settings = new PerfSettings(Enum.Parse<PerfPattern>(context.GetValue(pattern), ignoreCase: true), depth, context.GetValue(ioSize), TimeSpan.FromSeconds(seconds));
            var controller = await context.ConnectAsync(defaultIoQueues: Math.Min(Environment.ProcessorCount, 8), cancellationToken).ConfigureAwait(false);
            await using (controller.ConfigureAwait(false))
            {
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                var console = context.Json ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }) : context.Console;
                var result = await PerfRunner.RunWithProgressAsync(console, controller, ns, settings, cancellationToken).ConfigureAwait(false);
                if (context.Json)
                {
                    context.WriteJson(writer =>
                    {
                        writer.WriteStartObject();
                        writer.WriteString("pattern", context.GetValue(pattern));
                        writer.WriteNumber("io_size", settings.IoSize);
                        writer.WriteNumber("queue_depth", settings.QueueDepth);
                        writer.WriteNumber("io_queues", result.IoQueues);
                        writer.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
                        writer.WriteNumber("ios", result.Ios);
                        writer.WriteNumber("iops", Math.Round(result.Iops, 1));
                        writer.WriteNumber("mib_per_sec", Math.Round(result.MiBPerSecond, 2));
                        writer.WriteNumber("avg_latency_us", Math.Round(result.AverageLatencyMicroseconds, 1));
                        writer.WriteEndObject();
                    });
                }
                else
                {
                    Print(context.Console, settings, result);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static void Print(IAnsiConsole console, PerfSettings settings, PerfResult result)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("workload").AddColumn(new TableColumn("IOPS").RightAligned()).AddColumn(new TableColumn("MiB/s").RightAligned())
            .AddColumn(new TableColumn("avg latency").RightAligned()).AddColumn(new TableColumn("I/Os").RightAligned());
        table.AddRow(
            $"{settings.Pattern.ToString().ToLowerInvariant()} {settings.IoSize / 1024} KiB, QD {settings.QueueDepth}, {result.IoQueues} queue(s), {result.Elapsed.TotalSeconds:0.0} s",
            result.Iops.ToString("N0", CultureInfo.InvariantCulture),
            result.MiBPerSecond.ToString("N1", CultureInfo.InvariantCulture),
            $"{result.AverageLatencyMicroseconds.ToString("N1", CultureInfo.InvariantCulture)} µs",
            result.Ios.ToString("N0", CultureInfo.InvariantCulture));
        console.Write(table);
    }

    public static bool ParseSize(string text, out int size)
    {
        size = 0;
        var multiplier = 1L;
        var digits = text.Trim().ToLowerInvariant();
        if (digits.EndsWith('k'))
        {
            multiplier = 1024;
            digits = digits[..^1];
        }
        else if (digits.EndsWith('m'))
        {
            multiplier = 1 << 20;
            digits = digits[..^1];
        }

        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value * multiplier > 16 << 20)
        {
            return false;
        }

        size = (int)(value * multiplier);
        return true;
    }

    private static int Fail(System.CommandLine.Parsing.ArgumentResult result)
    {
        result.AddError($"'{result.Tokens[0].Value}' is not a size from 1 byte to 16m (e.g. 4096, 4k, 1m).");
        return 0;
    }
}
