using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NvmeTcp.Client.Transport;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Nvm;
using static NvmeTcp.Client.Tests.Protocol.PduTestKit;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>
/// The client's own receive loop fed a controller's byte stream cut anywhere: C2HData (header, header digest, padding,
/// data and data digest each may be cut, data beyond the receive buffer included), CapsuleResp and R2T, interleaved
/// across commands, with and without digests and padding. Whatever the cuts, every read lands intact in its caller's
/// buffer and nothing around it is touched, every R2T is answered with the right data, and every command completes.
/// </summary>
public sealed class ReceiveSplitProperties
{
    private const int Canary = 64;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Negotiated digests and HPDA, the reads' lengths, an R2T write's length (0 for none), a seed for the data and
    /// the PDU order, and the sizes the stream is cut into (repeated to its end).
    /// </summary>
    public sealed record SplitCase(bool HeaderDigest, bool DataDigest, byte Hpda, int[] Reads, int Write, int Seed, int[] Cuts)
    {
        // Printed by FsCheck on failure: enough to replay the case.
        public override string ToString() =>
            $"HDGST {HeaderDigest}, DDGST {DataDigest}, HPDA {Hpda}, reads [{string.Join(", ", Reads)}], write {Write}, seed {Seed}, cuts [{string.Join(", ", Cuts)}]";
    }

    private static Gen<SplitCase> Cases =>
        from hd in Gen.Elements(false, true)
        from dd in Gen.Elements(false, true)
        from hpda in Gen.Elements<byte>(0, 1, 7, 31)
        from readCount in Gen.Choose(1, 4)
        from reads in Gen.ArrayOf(Gen.Frequency((6, Gen.Choose(1, 9000)), (1, Gen.Choose(60_000, 140_000))), readCount)
        from write in Gen.Frequency((1, Gen.Constant(0)), (3, Gen.Choose(1, 20_000)))
        from seed in Gen.Choose(0, int.MaxValue)
        from cutCount in Gen.Choose(1, 12)
        from cuts in Gen.ArrayOf(Gen.Frequency((3, Gen.Choose(1, 16)), (1, Gen.Choose(17, 600)), (1, Gen.Choose(601, 40_000))), cutCount)
        select new SplitCase(hd, dd, hpda, reads, write, seed, cuts);

    [Property(MaxTest = 150)]
    public Property Any_split_of_the_controller_stream_gives_the_same_results() => Prop.ForAll(Arb.From(Cases), RunAsync);

    private static async Task RunAsync(SplitCase @case)
    {
        var random = new Random(@case.Seed);
        await using var target = ScriptedController.InMemory(wrap: t => new CutTransport(t, @case.Cuts));
        var options = new QueueConnectionOptions
        {
            QueueId = 1,
            QueueSize = 8,
            HeaderDigest = @case.HeaderDigest,
            DataDigest = @case.DataDigest,
            Hpda = @case.Hpda,
            MaxR2T = 3,
            InCapsuleDataSize = 0,
            ConnectTimeout = Bound,
            CommandTimeout = TimeSpan.FromSeconds(60),
        };
        await using var connection = await target.ConnectAsync(options);
        var codec = target.Codec;

        // Each read lands in the middle of a canary-filled array.
        var backings = @case.Reads.Select(length => Enumerable.Repeat((byte)0xCC, Canary + length + Canary).ToArray()).ToArray();
        var tasks = @case.Reads.Select((length, i) => connection.SubmitNoResultAsync(
            ReadWriteCommands.Read(1, 0, 1, (uint)length), CommandKind.Io, default, backings[i].AsMemory(Canary, length), CancellationToken.None).AsTask()).ToList();
        var writeData = Bytes(random, @case.Write);
        if (@case.Write != 0)
        {
            tasks.Add(connection.SubmitNoResultAsync(ReadWriteCommands.Write(1, 0, 1, (uint)@case.Write), CommandKind.Io, writeData, default, CancellationToken.None).AsTask());
        }

        // Commands reach the controller in the order they were submitted.
        var cids = new ushort[tasks.Count];
        for (var i = 0; i < cids.Length; i++)
        {
            cids[i] = (await target.ReadCommandAsync()).Sqe.Cid;
        }

        // What the controller sends for each command, in order; the commands' PDUs interleave at random.
        var expected = @case.Reads.Select(length => Bytes(random, length)).ToArray();
        var perCommand = expected.Select((data, i) => ReadPdus(random, cids[i], data, codec)).ToList();
        if (@case.Write != 0)
        {
            perCommand.Add(R2Ts(random, cids[^1], @case.Write, codec));
        }

        var stream = Interleave(random, perCommand);
        for (var (offset, i) = (0, 0); offset < stream.Length; i++)
        {
            var length = Math.Min(@case.Cuts[i % @case.Cuts.Length], stream.Length - offset);
            await target.SendAsync(stream.AsMemory(offset, length));
            offset += length;
        }

        if (@case.Write != 0)
        {
            var received = new List<byte>();
            while (received.Count < @case.Write)
            {
                var (header, data) = await target.ReadPduAsync();
                Assert.Equal(PduType.H2CData, header.Type);
                Assert.Equal(cids[^1], header.H2CData.Cccid);
                Assert.Equal((uint)received.Count, header.H2CData.Datao);
                received.AddRange(data);
            }

            Assert.Equal(writeData, received);
            await target.SendResponseAsync(cids[^1]);
        }

        await Task.WhenAll(tasks).WaitAsync(Bound);
        Assert.Null(connection.Failure);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], backings[i].AsSpan(Canary, expected[i].Length).ToArray());
            Assert.True(backings[i].AsSpan(0, Canary).IndexOfAnyExcept((byte)0xCC) < 0, $"read {i}: bytes written before its buffer");
            Assert.True(backings[i].AsSpan(Canary + expected[i].Length).IndexOfAnyExcept((byte)0xCC) < 0, $"read {i}: bytes written after its buffer");
        }
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    // A read's data in one to three C2HData, then a CapsuleResp unless the last one carries SUCCESS.
    private static List<byte[]> ReadPdus(Random random, ushort cid, byte[] data, PduCodecOptions codec)
    {
        var pdus = new List<byte[]>();
        var success = random.Next(2) == 0;
        var offset = 0;
        foreach (var length in Pieces(random, data.Length))
        {
            var last = offset + length == data.Length;
            pdus.Add(C2HData(new C2HDataPdu(cid, (uint)offset, 0, last, last && success), data.AsSpan(offset, length), codec));
            offset += length;
        }

        if (!success)
        {
            pdus.Add(CapsuleResp(new Cqe(0, 0, 0, 1, cid, NvmeStatus.Success), codec));
        }

        return pdus;
    }

    // A write's data asked for in one to three R2Ts (MAXR2T 3 lets them all be outstanding at once).
    private static List<byte[]> R2Ts(Random random, ushort cid, int length, PduCodecOptions codec)
    {
        var pdus = new List<byte[]>();
        var offset = 0;
        foreach (var piece in Pieces(random, length))
        {
            pdus.Add(R2T(new R2TPdu(cid, (ushort)pdus.Count, (uint)offset, (uint)piece), codec));
            offset += piece;
        }

        return pdus;
    }

    private static IEnumerable<int> Pieces(Random random, int length)
    {
        var count = Math.Min(length, random.Next(1, 4));
        var cuts = Enumerable.Range(0, count - 1).Select(_ => random.Next(1, length)).Append(0).Append(length).Distinct().Order().ToArray();
        return cuts.Zip(cuts.Skip(1), (from, to) => to - from);
    }

    // Merges the commands' PDU lists, each kept in its order.
    private static byte[] Interleave(Random random, List<List<byte[]>> perCommand)
    {
        var queues = perCommand.Select(pdus => new Queue<byte[]>(pdus)).ToList();
        var stream = new List<byte>();
        while (queues.Count > 0)
        {
            var queue = queues[random.Next(queues.Count)];
            stream.AddRange(queue.Dequeue());
            queues.RemoveAll(q => q.Count == 0);
        }

        return [.. stream];
    }

    /// <summary>
    /// From the ICResp on, a receive never crosses the next cut, so the host sees the stream in those pieces (or
    /// smaller): the in-memory pipe would otherwise hand over everything written so far at once.
    /// </summary>
    private sealed class CutTransport(ConnectionTransport inner, int[] cuts) : DelegatingTransport(inner)
    {
        private int _next;
        private int _left = cuts[0];

        public override async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var read = await base.ReceiveAsync(buffer[..Math.Min(buffer.Length, _left)], cancellationToken);
            _left -= read;
            if (_left == 0)
            {
                _next = (_next + 1) % cuts.Length;
                _left = cuts[_next];
            }

            return read;
        }
    }
}
