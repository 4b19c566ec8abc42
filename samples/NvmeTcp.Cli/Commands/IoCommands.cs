using System.CommandLine;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>flush</c>, <c>write-zeroes</c> and <c>dsm</c>: NVM commands without data to show.</summary>
internal static class IoCommands
{
    public static Command Flush()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var command = new Command("flush", "Flush: commit the namespace's volatile write cache to non-volatile media.");
        var connection = new ConnectionOptions();
        connection.AddTo(command);
        command.Options.Add(namespaceId);
        var outputFormat = CommonOptions.OutputFormat();
        command.Options.Add(outputFormat);
        connection.AddShortForms(command);
        CommandRunner.SetAction(command, outputFormat, connection, async (context, cancellationToken) =>
        {
            var controller = await context.ConnectAsync(defaultIoQueues: 1, cancellationToken).ConfigureAwait(false);
            await using (controller.ConfigureAwait(false))
            {
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                await controller.NextIoQueue().FlushAsync(ns, cancellationToken).ConfigureAwait(false);
                await Success(context, "flush", ns.Id).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command WriteZeroes()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var startBlock = NumberOption.UInt64("--start-block", "SLBA: the first block.", 0);
        var blockCount = new Option<long>("--block-count")
        {
            Description = "Number of blocks: a plain count (unlike nvme-cli's zero-based -c).",
            DefaultValueFactory = _ => 1,
        };
        var deallocate = new Option<bool>("--deac") { Description = "DEAC: the controller may deallocate the blocks." };
        var command = new Command("write-zeroes", "Write Zeroes: set blocks to zero with no data transfer.");
        var connection = new ConnectionOptions();
        connection.AddTo(command);
        command.Options.Add(namespaceId);
        command.Options.Add(startBlock);
        command.Options.Add(blockCount);
        command.Options.Add(deallocate);
        var outputFormat = CommonOptions.OutputFormat();
        command.Options.Add(outputFormat);
        connection.AddShortForms(command);
        CommandRunner.SetAction(command, outputFormat, connection, async (context, cancellationToken) =>
        {
            var count = context.GetValue(blockCount);
            if (count < 1)
            {
                throw new CliException($"--block-count must be at least 1, not {count}");
            }

            var controller = await context.ConnectAsync(defaultIoQueues: 1, cancellationToken).ConfigureAwait(false);
            await using (controller.ConfigureAwait(false))
            {
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                await controller.NextIoQueue().WriteZeroesAsync(ns, context.GetValue(startBlock), count, context.GetValue(deallocate), cancellationToken).ConfigureAwait(false);
                await Success(context, "write-zeroes", ns.Id).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Dsm()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var deallocate = new Option<bool>("--deallocate", "--ad", "-d") { Description = "AD: deallocate the ranges (TRIM). The only attribute supported." };
        var slbs = NumberOption.List("--slbs", "Comma-separated first blocks of the ranges (with --blocks).");
        var blocks = NumberOption.List("--blocks", "Comma-separated block counts of the ranges (with --slbs).", "-b");
        var ranges = new Option<string[]>("--ranges", "-r")
        {
            Description = "Ranges as SLBA:COUNT, comma-separated (e.g. 0:8,1024:16); instead of --slbs/--blocks.",
        };
        var command = new Command("dsm", "Dataset Management: deallocate (TRIM) up to 256 ranges of blocks.");
        var connection = new ConnectionOptions();
        connection.AddTo(command);
        command.Options.Add(namespaceId);
        command.Options.Add(deallocate);
        command.Options.Add(slbs);
        command.Options.Add(blocks);
        command.Options.Add(ranges);
        var outputFormat = CommonOptions.OutputFormat();
        command.Options.Add(outputFormat);
        connection.AddShortForms(command);
        CommandRunner.SetAction(command, outputFormat, connection, async (context, cancellationToken) =>
        {
            if (!context.GetValue(deallocate))
            {
                throw new CliException("give --deallocate: it is the only Dataset Management attribute nvmetcp sends");
            }

            var list = ParseRanges(context.ParseResult.GetValue(slbs) ?? [], context.ParseResult.GetValue(blocks) ?? [], context.ParseResult.GetValue(ranges) ?? []);
            var controller = await context.ConnectAsync(defaultIoQueues: 1, cancellationToken).ConfigureAwait(false);
            await using (controller.ConfigureAwait(false))
            {
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                await controller.NextIoQueue().DeallocateAsync(ns, list, cancellationToken).ConfigureAwait(false);
                await Success(context, "dsm", ns.Id).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    internal static List<(ulong StartLba, uint BlockCount)> ParseRanges(ulong[] slbs, ulong[] blocks, string[] ranges)
    {
        var list = new List<(ulong, uint)>();
        if (slbs.Length != blocks.Length)
        {
            throw new CliException($"--slbs has {slbs.Length} values but --blocks has {blocks.Length}");
        }

        for (var i = 0; i < slbs.Length; i++)
        {
            list.Add((slbs[i], CheckCount(blocks[i])));
        }

        foreach (var range in ranges.SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var parts = range.Split(':');
            if (parts.Length != 2 || !NumberOption.TryParse(parts[0], out var slba) || !NumberOption.TryParse(parts[1], out var count))
            {
                throw new CliException($"'{range}' is not a range SLBA:COUNT");
            }

            list.Add((slba, CheckCount(count)));
        }

        return list.Count is 0 or > 256 ? throw new CliException($"give 1 to 256 ranges, not {list.Count}") : list;
    }

    private static uint CheckCount(ulong count) =>
        count is >= 1 and <= uint.MaxValue ? (uint)count : throw new CliException($"a range's block count must be 1 to {uint.MaxValue}, not {count}");

    private static async Task Success(CliContext context, string verb, uint nsid)
    {
        if (context.Json)
        {
            context.WriteJson(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("result", "success");
                writer.WriteNumber("namespace_id", nsid);
                writer.WriteEndObject();
            });
        }
        else
        {
            await context.Out.WriteLineAsync($"{verb}: Success").ConfigureAwait(false);
        }
    }
}
