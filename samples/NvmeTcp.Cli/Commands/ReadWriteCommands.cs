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
            if (slba >= ns.BlockCount || (ulong)count > ns.BlockCount - slba)
            {
                throw new CliException($"blocks {slba}..{slba + (ulong)count - 1} are past the end of namespace {ns.Id} ({ns.BlockCount} blocks)");
            }

            var bytes = count * ns.BlockSize;
            var offset = checked((long)slba * ns.BlockSize);
            byte[]? dumped = null;
            var volume = new NvmeNamespaceStream(controller, ns);
            await using (volume.ConfigureAwait(false))
            {
                volume.Position = offset;
                if (direction == Direction.Read && path is null)
                {
                    if (bytes > 16 << 20)
                    {
                        throw new CliException("more than 16 MiB to dump on stdout; give --data FILE");
                    }

                    dumped = new byte[bytes];
                    await volume.ReadExactlyAsync(dumped, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    var file = direction == Direction.Read ? File.Create(path!) : File.OpenRead(path!);
                    await using (file.ConfigureAwait(false))
                    {
                        await ProgressDisplay.RunAsync(context.Console, $"{name} {bytes >> 20} MiB", bytes, progress => direction switch
                        {
                            Direction.Read => volume.CopyToAsync(file, bytes, progress: new Reporter(progress), cancellationToken: cancellationToken),
                            Direction.Write => WriteAsync(volume, file, bytes, progress, cancellationToken),
                            _ => CompareAsync(controller.NextIoQueue(), ns, slba, count, file, progress, cancellationToken),
                        }).ConfigureAwait(false);
                    }
                }
            }

            await context.PrintAsync(
                writer =>
                {
                    writer.WriteString("result", "success");
                    writer.WriteNumber("namespace_id", ns.Id);
                    writer.WriteNumber("start_block", slba);
                    writer.WriteNumber("block_count", count);
                    writer.WriteNumber("bytes", bytes);
                    if (dumped is not null)
                    {
                        writer.WriteString("data", JsonText.Hex(dumped));
                    }
                },
                () => dumped is not null ? HexDump.Format(dumped) : $"{name}: Success{Environment.NewLine}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
    }

    // The file's bytes, then zeros up to whole blocks (or the --block-count asked for).
    private static async Task WriteAsync(NvmeNamespaceStream volume, Stream file, long bytes, Action<long> progress, CancellationToken cancellationToken)
    {
        var start = volume.Position;
        var written = await volume.CopyFromAsync(file, bytes, progress: new Reporter(progress), cancellationToken: cancellationToken).ConfigureAwait(false);
        var zeros = new byte[(int)Math.Min(bytes - written, NvmeNamespaceStream.DefaultBufferSize)];
        for (var at = start + written; at < start + bytes; at += zeros.Length)
        {
            var length = (int)Math.Min(zeros.Length, start + bytes - at);
            await volume.WriteAtAsync(at, zeros.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            progress(at + length - start);
        }
    }

    // NVMe Compare, block runs of at most 1 MiB, the file zero-padded as for write.
    private static async Task CompareAsync(NvmeQueuePair queue, NvmeNamespace ns, ulong slba, long blockCount, Stream file, Action<long> progress, CancellationToken cancellationToken)
    {
        var chunkBlocks = Math.Max(1, Math.Min(queue.MaxTransferSize, 1 << 20) / ns.BlockSize);
        var buffer = new byte[chunkBlocks * ns.BlockSize];
        for (long done = 0; done < blockCount;)
        {
            var blocks = (int)Math.Min(chunkBlocks, blockCount - done);
            var chunk = buffer.AsMemory(0, blocks * ns.BlockSize);
            var filled = await file.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            chunk.Span[filled..].Clear();
            await queue.CompareAsync(ns, slba + (ulong)done, chunk, cancellationToken).ConfigureAwait(false);
            done += blocks;
            progress(done * ns.BlockSize);
        }
    }

    /// <summary>Progress reported synchronously (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class Reporter(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
