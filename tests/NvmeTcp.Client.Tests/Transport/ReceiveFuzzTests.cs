using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using NvmeTcp.Protocol;
using NvmeTcp.Client.Transport;

using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>Runs the fuzz alone: it measures process-wide allocation and listens for unobserved task exceptions.</summary>
[CollectionDefinition(nameof(ReceiveFuzzCollection), DisableParallelization = true)]
public sealed class ReceiveFuzzCollection
{
}

/// <summary>
/// A bounded, seeded fuzz of the receive path (docs/FAULTS.md "Malicious-target fuzz", rows 8-12, 17-32, 34-35 by
/// mutation): a queue with a read, an R2T write and a flush outstanding is fed random bytes or mutated valid
/// CapsuleResp/C2HData/R2T/C2HTermReq PDUs, split at random, then the controller closes (FIN). Every command must
/// complete within the bound with success or a typed error, nothing may be written around the read buffer, and the
/// allocation of a case stays small even when a header claims PLEN 0xFFFFFFFF.
/// </summary>
[Collection(nameof(ReceiveFuzzCollection))]
public sealed class ReceiveFuzzTests
{
    private const int Cases = 20000;
    private const int Seed = 20261125;
    private const int ReadLength = 8192;
    private const int WriteLength = 8192;
    private const int Canary = 4096;
    private const long AllocationBound = 4L << 20;
    private static readonly TimeSpan CaseBound = TimeSpan.FromSeconds(2);

    private static readonly uint[] Interesting =
        [0, 1, 4, 7, 8, 23, 24, 25, 28, 72, 0xFF, 0x100, 0x1000, 0x1FFF, 0x2000, 0x2001, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFF];

    private enum Command
    {
        Read,
        Write,
        Flush,
    }

    [Fact]
    public async Task Random_and_mutated_PDUs_never_escape_untyped_hang_or_allocate_by_header()
    {
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => unobserved.Enqueue(e.Exception);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await using var controller = ScriptedController.Start();
            var watch = Stopwatch.StartNew();
            var outcomes = new ConcurrentDictionary<string, int>();
            for (var i = 0; i < Cases; i++)
            {
                await RunCaseAsync(controller, new Random(Seed + i), i, outcomes);
            }

            // The fuzz reaches the validation: it finds every kind of header and sequence error, and valid streams pass.
            var summary = string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}"));
            TestContext.Current.SendDiagnosticMessage($"{Cases} cases in {watch.Elapsed}: {summary}");
            foreach (var expected in new[] { "success", "protocol FES 1", "protocol FES 2", "protocol FES 3", "protocol FES 4", "C2HTermReq", "NvmeTransportException" })
            {
                Assert.True(outcomes.ContainsKey(expected), $"no '{expected}' outcome: {summary}");
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            Assert.True(unobserved.IsEmpty, "unobserved task exception: " + string.Join(" | ", unobserved));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(90), $"the fuzz took {watch.Elapsed}");
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    private static async Task RunCaseAsync(ScriptedController controller, Random random, int index, ConcurrentDictionary<string, int> outcomes)
    {
        var digests = random.Next(4);
        var options = new QueueConnectionOptions
        {
            QueueId = 1,
            QueueSize = 8,
            HeaderDigest = (digests & 1) != 0,
            DataDigest = (digests & 2) != 0,
            InCapsuleDataSize = 0,
            ConnectTimeout = CaseBound,
            CommandTimeout = TimeSpan.FromSeconds(30),
        };

        // The read lands in the middle of a canary-filled array: nothing may be written around it.
        var backing = new byte[Canary + ReadLength + Canary];
        backing.AsSpan().Fill(0xCC);
        var readBuffer = backing.AsMemory(Canary, ReadLength);
        var writeData = new byte[WriteLength];
        random.NextBytes(writeData);

        var before = GC.GetTotalAllocatedBytes(true);
        var connection = await controller.ConnectAsync(options);
        var tasks = new Task[4];
        tasks[0] = connection.SubmitNoResultAsync(ReadWriteCommands.Read(1, 0, ReadLength / 512, ReadLength), CommandKind.Io, default, readBuffer, CancellationToken.None).AsTask();
        tasks[1] = connection.SubmitNoResultAsync(ReadWriteCommands.Write(1, 0, WriteLength / 512, WriteLength, false), CommandKind.Io, writeData, default, CancellationToken.None).AsTask();
        tasks[2] = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        var cids = new ushort[3];
        for (var c = 0; c < 3; c++)
        {
            var (sqe, _) = await controller.ReadCommandAsync();
            cids[c] = sqe.Cid;
        }

        // The commands arrive in order of submission: read, write, flush.
        var stream = random.Next(4) == 0 ? RandomBytes(random) : MutatedPdus(random, controller.Codec, cids);
        try
        {
            foreach (var chunk in Split(random, stream))
            {
                await controller.SendAsync(chunk);
            }
        }
        catch (IOException)
        {
            // The host found the stream bad and closed the connection before it all went out.
        }

        // One more command after the stream: it too completes once the controller goes away.
        tasks[3] = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        try
        {
            controller.CloseSend();
        }
        catch (IOException)
        {
            // Already reset by the host.
        }
        foreach (var task in tasks)
        {
            try
            {
                await task.WaitAsync(CaseBound);
                outcomes.AddOrUpdate("success", 1, (_, n) => n + 1);
            }
            catch (TimeoutException) when (!task.IsCompleted)
            {
                Assert.Fail($"case {index}: a command did not complete within {CaseBound} after the controller closed; stream {Convert.ToHexString(stream)}");
            }
            catch (Exception e) when (e is NvmeException or OperationCanceledException)
            {
                // A typed error (or success) is what the caller may see.
                outcomes.AddOrUpdate(e is NvmeTcpProtocolException p ? (p.SentByController ? "C2HTermReq" : $"protocol FES {p.FatalErrorStatus}") : e.GetType().Name, 1, (_, n) => n + 1);
                continue;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {index}: untyped {e.GetType().Name} reached the caller: {e}; stream {Convert.ToHexString(stream)}");
            }
        }

        await connection.DisposeAsync().AsTask().WaitAsync(CaseBound);
        var allocated = GC.GetTotalAllocatedBytes(true) - before;
        Assert.True(allocated < AllocationBound, $"case {index}: {allocated} bytes allocated; stream {Convert.ToHexString(stream)}");
        Assert.True(backing.AsSpan(0, Canary).IndexOfAnyExcept((byte)0xCC) < 0, $"case {index}: bytes written before the read buffer");
        Assert.True(backing.AsSpan(Canary + ReadLength).IndexOfAnyExcept((byte)0xCC) < 0, $"case {index}: bytes written after the read buffer");
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 300)];
        random.NextBytes(bytes);

        // Often start with a plausible controller PDU type so that the header checks beyond the type are reached.
        if (random.Next(2) == 0)
        {
            bytes[0] = (byte)(new[] { 0x01, 0x03, 0x05, 0x07, 0x09 })[random.Next(5)];
        }

        return bytes;
    }

    private static byte[] MutatedPdus(Random random, PduCodecOptions codec, ushort[] cids)
    {
        var pdus = new List<byte[]>();
        var count = random.Next(1, 5);
        for (var p = 0; p < count; p++)
        {
            var pdu = ValidPdu(random, codec, cids);
            var mutations = random.Next(4);
            for (var m = 0; m < mutations; m++)
            {
                Mutate(random, pdu);
            }

            // Mostly keep the header digest right, so that the field behind it is what is checked.
            var hlen = pdu[2] is 24 or 8 ? pdu[2] : 0;
            if (mutations != 0 && codec.HeaderDigest && hlen != 0 && pdu.Length >= hlen + 4 && random.Next(4) != 0 && (pdu[1] & 1) != 0)
            {
                Crc32C.Write(pdu.AsSpan(hlen), Crc32C.Compute(pdu.AsSpan(0, hlen)));
            }

            pdus.Add(pdu);
        }

        return [.. pdus.SelectMany(p => p)];
    }

    private static byte[] ValidPdu(Random random, PduCodecOptions codec, ushort[] cids)
    {
        ushort Cid(Command preferred) => random.Next(5) switch
        {
            0 => (ushort)random.Next(0x10000),
            1 => cids[random.Next(3)],
            _ => cids[(int)preferred],
        };

        var buffer = new byte[512 + ReadLength];
        int length;
        switch (random.Next(5))
        {
            case 0:
            case 1:
            {
                var status = random.Next(3) == 0 ? new NvmeStatus(NvmeStatusCodeType.Generic, (byte)random.Next(1, 256), random.Next(2) == 0) : NvmeStatus.Success;
                length = CapsuleRespPdu.Encode(buffer, new Cqe((uint)random.Next(), 0, 0, 1, Cid((Command)random.Next(3)), status), codec);
                break;
            }

            case 2:
            {
                var offset = random.Next(3) == 0 ? (uint)random.Next(ReadLength) : 0u;
                var dataLength = random.Next(3) switch { 0 => ReadLength - (int)offset, 1 => random.Next(1, 64), _ => Math.Min(4096, ReadLength - (int)offset) };
                dataLength = Math.Max(1, dataLength);
                var last = random.Next(2) == 0;
                var layout = new C2HDataPdu(Cid(Command.Read), offset, (uint)dataLength, last, last && random.Next(2) == 0).EncodePrefix(buffer, codec);
                random.NextBytes(buffer.AsSpan(layout.Pdo, dataLength));
                length = layout.Pdo + dataLength;
                if (layout.DataDigestLength != 0)
                {
                    Crc32C.Write(buffer.AsSpan(length), Crc32C.Compute(buffer.AsSpan(layout.Pdo, dataLength)));
                    length += 4;
                }

                break;
            }

            case 3:
            {
                var offset = random.Next(3) == 0 ? (uint)random.Next(WriteLength) : 0u;
                var r2tl = random.Next(2) == 0 ? (uint)(WriteLength - offset) : (uint)random.Next(1, WriteLength + 1);
                length = new R2TPdu(Cid(Command.Write), (ushort)random.Next(0x10000), offset, r2tl).Encode(buffer, codec);
                break;
            }

            default:
            {
                var offending = new byte[random.Next(0, 129)];
                random.NextBytes(offending);
                length = new TermReqPdu(PduType.C2HTermReq, (FatalErrorStatus)random.Next(0, 8), (uint)random.Next()).Encode(buffer, offending);
                break;
            }
        }

        return buffer.AsSpan(0, length).ToArray();
    }

    // Structure-aware mutation of one header field (type, flags, HLEN, PDO, PLEN, CID/CCCID, DATAO/R2TO, DATAL/R2TL,
    // the header digest, a data byte or the data digest), or the PDU cut short.
    private static void Mutate(Random random, byte[] pdu)
    {
        uint Value() => random.Next(3) == 0 ? (uint)random.Next() : Interesting[random.Next(Interesting.Length)];
        void Put32(int offset)
        {
            if (offset + 4 <= pdu.Length)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(pdu.AsSpan(offset), Value());
            }
        }

        void Put16(int offset)
        {
            if (offset + 2 <= pdu.Length)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(pdu.AsSpan(offset), (ushort)Value());
            }
        }

        switch (random.Next(11))
        {
            case 0:
                pdu[0] = (byte)Value();
                break;
            case 1:
                pdu[1] ^= (byte)(1 << random.Next(8));
                break;
            case 2:
                pdu[2] = (byte)Value();
                break;
            case 3:
                pdu[3] = (byte)Value();
                break;
            case 4:
                Put32(4);
                break;
            case 5:
                Put16(pdu[0] == (byte)PduType.CapsuleResp ? 20 : 8);
                break;
            case 6:
                Put32(12);
                break;
            case 7:
                Put32(16);
                break;
            case 8:
                // A header digest (or the first bytes after the header) one bit off.
                pdu[Math.Min(pdu.Length - 1, 24 + random.Next(4))] ^= (byte)(1 << random.Next(8));
                break;
            case 9:
                pdu[random.Next(pdu.Length)] ^= (byte)(1 << random.Next(8));
                break;
            default:
                // The last bytes (the data digest) flipped.
                pdu[pdu.Length - 1 - random.Next(Math.Min(4, pdu.Length))] ^= 0xFF;
                break;
        }
    }

    // The stream in 1 to 6 chunks, sometimes cut into single bytes at the start (every header byte its own segment).
    private static IEnumerable<ReadOnlyMemory<byte>> Split(Random random, byte[] stream)
    {
        var position = 0;
        if (random.Next(4) == 0)
        {
            for (; position < Math.Min(stream.Length, 10); position++)
            {
                yield return stream.AsMemory(position, 1);
            }
        }

        var chunks = random.Next(1, 6);
        while (position < stream.Length)
        {
            var size = --chunks <= 0 ? stream.Length - position : random.Next(1, stream.Length - position + 1);
            yield return stream.AsMemory(position, size);
            position += size;
        }
    }
}
