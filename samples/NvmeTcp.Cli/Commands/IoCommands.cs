using System.CommandLine;
using System.CommandLine.Parsing;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>flush</c>, <c>write-zeroes</c> and <c>dsm</c>: NVM commands without data to show.</summary>
internal static class IoCommands
{
    private const int MaxRanges = 256;

    public static Command Flush()
    {
        var namespaceId = CommonOptions.NamespaceId();
        return ControllerVerb.Create(
            "flush",
            "Flush: commit the namespace's volatile write cache to non-volatile media.",
            defaultIoQueues: 1,
            [namespaceId],
            async (context, controller, cancellationToken) =>
            {
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                await controller.NextIoQueue().FlushAsync(ns, cancellationToken).ConfigureAwait(false);
                return await SuccessAsync(context, ns.Id).ConfigureAwait(false);
            });
    }

    public static Command WriteZeroes()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var startBlock = NumberOption.UInt64("--start-block", "SLBA: the first block.", 0);
        var blockCount = new Option<long>("--block-count")
        {
            Description = "Number of blocks: a plain count (unlike nvme-cli's zero-based -c).",
            DefaultValueFactory = _ => 1,
        }.Check(count => count < 1 ? $"--block-count must be at least 1, not {count}" : null);
        var deallocate = new Option<bool>("--deac") { Description = "DEAC: the controller may deallocate the blocks." };
        return ControllerVerb.Create(
            "write-zeroes",
            "Write Zeroes: set blocks to zero with no data transfer.",
            defaultIoQueues: 1,
            [namespaceId, startBlock, blockCount, deallocate],
            async (context, controller, cancellationToken) =>
            {
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                await controller.NextIoQueue().WriteZeroesAsync(ns, context.GetValue(startBlock), context.GetValue(blockCount), context.GetValue(deallocate), cancellationToken).ConfigureAwait(false);
                return await SuccessAsync(context, ns.Id).ConfigureAwait(false);
            });
    }

    public static Command Dsm()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var deallocate = new Option<bool>("--deallocate", "--ad", "-d") { Description = "AD: deallocate the ranges (TRIM). The only attribute supported." };
        var slbs = NumberOption.List("--slbs", "Comma-separated first blocks of the ranges (with --blocks).");
        var blocks = NumberOption.List("--blocks", "Comma-separated block counts of the ranges (with --slbs).", "-b")
            .Check(counts => counts.Where(c => !IsBlockCount(c)).Select(c => BlockCountError("--blocks", c)).FirstOrDefault());
        var ranges = new Option<(ulong StartLba, uint BlockCount)[]>("--ranges", "-r")
        {
            Description = "Ranges as SLBA:COUNT, comma-separated (e.g. 0:8,1024:16); instead of --slbs/--blocks.",
            CustomParser = ParseRanges,
        };
        var command = ControllerVerb.Create(
            "dsm",
            "Dataset Management: deallocate (TRIM) up to 256 ranges of blocks.",
            defaultIoQueues: 1,
            [namespaceId, deallocate, slbs, blocks, ranges],
            async (context, controller, cancellationToken) =>
            {
                var list = context.GetValue(slbs).Zip(context.GetValue(blocks), (slba, count) => (slba, (uint)count)).Concat(context.GetValue(ranges)).ToList();
                var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
                await controller.NextIoQueue().DeallocateAsync(ns, list, cancellationToken).ConfigureAwait(false);
                return await SuccessAsync(context, ns.Id).ConfigureAwait(false);
            });
        command.Check(values =>
        {
            if (!values.Get(deallocate))
            {
                return "give --deallocate: it is the only Dataset Management attribute nvmetcp sends";
            }

            var (starts, counts) = (values.Get(slbs), values.Get(blocks));
            if (starts.Length != counts.Length)
            {
                return $"--slbs has {starts.Length} values but --blocks has {counts.Length}";
            }

            var total = starts.Length + values.Get(ranges).Length;
            return total is 0 or > MaxRanges ? $"give 1 to {MaxRanges} ranges, not {total}" : null;
        });
        return command;
    }

    /// <summary>--ranges: SLBA:COUNT, comma-separated, in one or more tokens.</summary>
    private static (ulong StartLba, uint BlockCount)[] ParseRanges(ArgumentResult result)
    {
        var list = new List<(ulong, uint)>();
        foreach (var range in result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var parts = range.Split(':');
            if (parts.Length != 2 || !NumberOption.TryParse(parts[0], out var slba) || !NumberOption.TryParse(parts[1], out var count))
            {
                result.AddError($"--ranges: '{range}' is not a range SLBA:COUNT");
                return [];
            }

            if (!IsBlockCount(count))
            {
                result.AddError(BlockCountError("--ranges", count));
                return [];
            }

            list.Add((slba, (uint)count));
        }

        return [.. list];
    }

    private static bool IsBlockCount(ulong count) => count is >= 1 and <= uint.MaxValue;

    private static string BlockCountError(string option, ulong count) => $"{option}: a range's block count must be 1 to {uint.MaxValue}, not {count}";

    private static async Task<int> SuccessAsync(CliContext context, uint nsid)
    {
        await context.PrintAsync(
            writer =>
            {
                writer.WriteString("result", "success");
                writer.WriteNumber("namespace_id", nsid);
            },
            () => $"{context.Verb}: Success{Environment.NewLine}").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
