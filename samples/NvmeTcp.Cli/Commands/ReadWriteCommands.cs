using System.CommandLine;
using NvmeTcp.Cli.Output;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>read</c>, <c>write</c> and <c>compare</c>: whole blocks between a namespace and a file.</summary>
internal static class ReadWriteCommands
{
    private const string BlockCountHelp =
        "Number of blocks: a plain count, 1 for one block (unlike nvme-cli's zero-based -c, where 0 means one block).";

    private enum Direction
    {
        Read,
        Write,
        Compare,
    }

    public static Command Read() => Create(Direction.Read, "read", "Read blocks from a namespace into --data FILE, or as a hex dump on stdout.");

    public static Command Write() => Create(Direction.Write, "write", "Write blocks from --data FILE (zero-padded to whole blocks).");

    public static Command Compare() => Create(Direction.Compare, "compare", "Compare blocks with --data FILE on the controller; a difference is the NVMe status Compare Failure (exit 3).");

    private static Command Create(Direction direction, string name, string description)
    {
        var namespaceId = CommonOptions.NamespaceId();
        var startBlock = NumberOption.UInt64("--start-block", "SLBA: the first block (no short alias: -s is the port).", 0);
        var blockCount = new Option<long?>("--block-count")
        {
            Description = direction == Direction.Read ? $"{BlockCountHelp} Default 1." : $"{BlockCountHelp} Default: the file's length in blocks.",
        }.Check(count => count < 1 ? $"--block-count must be at least 1, not {count}" : null);
        var data = new Option<string?>("--data", "-d")
        {
            Description = direction == Direction.Read ? "File to write the data to. Default: a hex dump on stdout." : "File holding the data.",
            Required = direction != Direction.Read,
        };
        if (direction != Direction.Read)
        {
            data.Check(path => File.Exists(path) ? null : $"--data file '{path}' does not exist");
        }

        return ControllerVerb.Create(name, description, defaultIoQueues: 1, [namespaceId, startBlock, blockCount, data], async (context, controller, cancellationToken) =>
        {
            var path = context.GetValue(data);
            var ns = CliContext.GetNamespace(controller, context.GetValue(namespaceId));
            var slba = context.GetValue(startBlock);
            var count = context.GetValue(blockCount)
                ?? (direction == Direction.Read ? 1 : Math.Max(1, (new FileInfo(path!).Length + ns.BlockSize - 1) / ns.BlockSize));
            var transfer = new Transfer(controller.NextIoQueue(), ns, slba, count);
            byte[]? dumped = null;
            if (direction == Direction.Read && path is null)
            {
                dumped = await transfer.ReadAllAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var stream = direction == Direction.Read ? File.Create(path!) : File.OpenRead(path!);
                await using (stream.ConfigureAwait(false))
                {
                    await ProgressDisplay.RunAsync(context.Console, $"{name} {transfer.Bytes >> 20} MiB", transfer.Bytes, progress => direction switch
                    {
                        Direction.Read => transfer.ReadToAsync(stream, progress, cancellationToken),
                        Direction.Write => transfer.WriteFromAsync(stream, compare: false, progress, cancellationToken),
                        _ => transfer.WriteFromAsync(stream, compare: true, progress, cancellationToken),
                    }).ConfigureAwait(false);
                }
            }

            await context.PrintAsync(
                writer =>
                {
                    writer.WriteString("result", "success");
                    writer.WriteNumber("namespace_id", ns.Id);
                    writer.WriteNumber("start_block", slba);
                    writer.WriteNumber("block_count", count);
                    writer.WriteNumber("bytes", transfer.Bytes);
                    if (dumped is not null)
                    {
                        writer.WriteString("data", JsonText.Hex(dumped));
                    }
                },
                () => dumped is not null ? HexDump.Format(dumped) : $"{name}: Success{Environment.NewLine}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
    }

    /// <summary>A run of blocks moved in commands of at most the queue's transfer size.</summary>
    private sealed class Transfer(NvmeQueuePair queue, NvmeNamespace ns, ulong startLba, long blockCount)
    {
        private readonly int _chunkBlocks = Math.Max(1, Math.Min(queue.MaxTransferSize, 1 << 20) / ns.BlockSize);

        public long Bytes => blockCount * ns.BlockSize;

        public async Task<byte[]> ReadAllAsync(CancellationToken cancellationToken)
        {
            if (Bytes > 16 << 20)
            {
                throw new CliException("more than 16 MiB to dump on stdout; give --data FILE");
            }

            var buffer = new byte[Bytes];
            await queue.ReadAsync(ns, startLba, buffer, cancellationToken).ConfigureAwait(false);
            return buffer;
        }

        public async Task ReadToAsync(Stream file, Action<long> progress, CancellationToken cancellationToken)
        {
            var buffer = new byte[_chunkBlocks * ns.BlockSize];
            for (long done = 0; done < blockCount;)
            {
                var blocks = (int)Math.Min(_chunkBlocks, blockCount - done);
                var chunk = buffer.AsMemory(0, blocks * ns.BlockSize);
                await queue.ReadAsync(ns, startLba + (ulong)done, chunk, cancellationToken).ConfigureAwait(false);
                await file.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                done += blocks;
                progress(done * ns.BlockSize);
            }
        }

        public async Task WriteFromAsync(Stream file, bool compare, Action<long> progress, CancellationToken cancellationToken)
        {
            var buffer = new byte[_chunkBlocks * ns.BlockSize];
            for (long done = 0; done < blockCount;)
            {
                var blocks = (int)Math.Min(_chunkBlocks, blockCount - done);
                var chunk = buffer.AsMemory(0, blocks * ns.BlockSize);
                var filled = await file.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                chunk.Span[filled..].Clear();
                if (compare)
                {
                    await queue.CompareAsync(ns, startLba + (ulong)done, chunk, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await queue.WriteAsync(ns, startLba + (ulong)done, chunk, cancellationToken: cancellationToken).ConfigureAwait(false);
                }

                done += blocks;
                progress(done * ns.BlockSize);
            }
        }
    }
}
