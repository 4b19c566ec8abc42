using System.Buffers.Binary;
using NvmeTcp.Protocol;
using NvmeTcp.Client.Transport;

using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>The client's queue connection against a scripted controller: data paths, every validation, every failure.</summary>
public sealed class QueueConnectionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static QueueConnectionOptions Options(int queueSize = 8, bool digests = false, int inCapsule = 4096, TimeSpan? timeout = null) => new()
    {
        QueueId = 1,
        QueueSize = queueSize,
        HeaderDigest = digests,
        DataDigest = digests,
        InCapsuleDataSize = inCapsule,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        CommandTimeout = timeout ?? TimeSpan.FromSeconds(30),
    };

    private static Sqe ReadCommand(int length) => ReadWriteCommands.Read(1, 0, length / 512, (uint)length);

    private static Sqe WriteCommand(int length) => ReadWriteCommands.Write(1, 0, length / 512, (uint)length);

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Read_in_several_C2HData_lands_in_the_caller_buffer(bool digests)
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options(digests: digests));
        var buffer = new byte[12288];
        var read = connection.SubmitAsync(ReadCommand(buffer.Length), CommandKind.Io, default, buffer, CancellationToken.None).AsTask();
        var (sqe, _) = await target.ReadCommandAsync();
        Assert.Equal(0x5A, sqe.SglType);
        Assert.Equal((uint)buffer.Length, sqe.SglLength);
        var data = Pattern(buffer.Length, 1);
        await target.SendC2HDataAsync(sqe.Cid, 0, data.AsSpan(0, 4096), last: false);
        await target.SendC2HDataAsync(sqe.Cid, 4096, data.AsSpan(4096, 100), last: false);
        await target.SendC2HDataAsync(sqe.Cid, 4196, data.AsSpan(4196), last: true);
        await target.SendResponseAsync(sqe.Cid);
        var cqe = await read.WaitAsync(Bound);
        Assert.True(cqe.Status.IsSuccess);
        Assert.Equal(data, buffer);
    }

    [Fact]
    public async Task Read_with_SUCCESS_completes_without_a_CapsuleResp()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options());
        var buffer = new byte[4096];
        var read = connection.SubmitNoResultAsync(ReadCommand(4096), CommandKind.Io, default, buffer, CancellationToken.None).AsTask();
        var (sqe, _) = await target.ReadCommandAsync();
        await target.SendC2HDataAsync(sqe.Cid, 0, Pattern(4096, 2), last: true, success: true);
        await read.WaitAsync(Bound);
        Assert.Equal(Pattern(4096, 2), buffer);
    }

    [Fact]
    public async Task Small_write_travels_in_the_capsule()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options(digests: true, inCapsule: 8192));
        var data = Pattern(8192, 3);
        var write = connection.SubmitNoResultAsync(WriteCommand(8192), CommandKind.Io, data, default, CancellationToken.None).AsTask();
        var (sqe, inCapsule) = await target.ReadCommandAsync();
        Assert.Equal(0x01, sqe.SglType);
        Assert.Equal(data, inCapsule);
        await target.SendResponseAsync(sqe.Cid);
        await write.WaitAsync(Bound);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Large_write_answers_each_R2T_with_H2CData_of_at_most_MAXH2CDATA(bool digests)
    {
        await using var target = ScriptedController.Start();
        var options = Options(digests: digests);
        var connect = QueueConnection.ConnectAsync(target.EndPoint, options, CancellationToken.None);
        await target.AcceptAsync(request => new IcRespPdu(0, 0, request.Digests, 4096));
        await using var connection = await connect.WaitAsync(Bound);
        var data = Pattern(20480, 4);
        var write = connection.SubmitNoResultAsync(WriteCommand(data.Length), CommandKind.Io, data, default, CancellationToken.None).AsTask();
        var (sqe, inCapsule) = await target.ReadCommandAsync();
        Assert.Empty(inCapsule);
        Assert.Equal(0x5A, sqe.SglType);
        var received = new byte[data.Length];

        // Two R2Ts, one at a time (MAXR2T 0): 12 KiB then 8 KiB, each answered in 4 KiB H2CData PDUs.
        foreach (var (offset, length, ttag) in new[] { (0, 12288, (ushort)7), (12288, 8192, (ushort)8) })
        {
            await target.SendR2TAsync(sqe.Cid, ttag, (uint)offset, (uint)length);
            for (var done = 0; done < length;)
            {
                var (header, pduData) = await target.ReadPduAsync();
                Assert.Equal(PduType.H2CData, header.Type);
                var h2c = header.H2CData;
                Assert.Equal(sqe.Cid, h2c.Cccid);
                Assert.Equal(ttag, h2c.Ttag);
                Assert.Equal((uint)(offset + done), h2c.Datao);
                Assert.True(h2c.Datal <= 4096);
                Assert.Equal(done + (int)h2c.Datal == length, h2c.Last);
                pduData.CopyTo(received, offset + done);
                done += (int)h2c.Datal;
            }
        }

        await target.SendResponseAsync(sqe.Cid);
        await write.WaitAsync(Bound);
        Assert.Equal(data, received);
    }

    [Fact]
    public async Task With_MAXR2T_1_two_R2Ts_may_be_outstanding_and_are_answered_in_order()
    {
        await using var target = ScriptedController.Start();
        var options = Options() with { MaxR2T = 1 };
        var connect = QueueConnection.ConnectAsync(target.EndPoint, options, CancellationToken.None);
        IcReqPdu? seen = null;
        await target.AcceptAsync(request =>
        {
            seen = request;
            return new IcRespPdu(0, 0, request.Digests, 8192);
        });
        await using var connection = await connect.WaitAsync(Bound);
        Assert.Equal(1u, seen!.Value.MaxR2T);
        var data = Pattern(16384, 14);
        var write = connection.SubmitNoResultAsync(WriteCommand(data.Length), CommandKind.Io, data, default, CancellationToken.None).AsTask();
        var (sqe, _) = await target.ReadCommandAsync();

        // Both R2Ts go out before any data comes back.
        await target.SendR2TAsync(sqe.Cid, 1, 0, 8192);
        await target.SendR2TAsync(sqe.Cid, 2, 8192, 8192);
        var received = new byte[data.Length];
        foreach (var ttag in new ushort[] { 1, 2 })
        {
            var (header, pduData) = await target.ReadPduAsync();
            Assert.Equal(ttag, header.H2CData.Ttag);
            Assert.True(header.H2CData.Last);
            pduData.CopyTo(received, (int)header.H2CData.Datao);
        }

        await target.SendResponseAsync(sqe.Cid);
        await write.WaitAsync(Bound);
        Assert.Equal(data, received);
    }

    [Fact]
    public async Task Status_error_fails_only_its_command_with_the_spec_name()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options());
        var read = connection.SubmitNoResultAsync(ReadCommand(512), CommandKind.Io, default, new byte[512], CancellationToken.None).AsTask();
        var (sqe, _) = await target.ReadCommandAsync();
        await target.SendResponseAsync(sqe.Cid, new NvmeStatus(NvmeStatusCodeType.Generic, 0x80, doNotRetry: true));
        var error = await Assert.ThrowsAsync<NvmeStatusException>(() => read.WaitAsync(Bound));
        Assert.Equal(0x80, error.Status.Code);
        Assert.False(error.IsTransient);
        Assert.Contains("LBA Out of Range", error.Message, StringComparison.Ordinal);
        Assert.Contains("Read", error.Message, StringComparison.Ordinal);

        // The queue is still up.
        var flush = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        var (flushSqe, _) = await target.ReadCommandAsync();
        await target.SendResponseAsync(flushSqe.Cid);
        await flush.WaitAsync(Bound);
    }

    [Fact]
    public async Task Data_digest_error_fails_only_that_command_with_a_retryable_error()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options(digests: true));
        var read = connection.SubmitNoResultAsync(ReadCommand(4096), CommandKind.Io, default, new byte[4096], CancellationToken.None).AsTask();
        var (sqe, _) = await target.ReadCommandAsync();
        await target.SendC2HDataAsync(sqe.Cid, 0, Pattern(4096, 5), last: true, corruptDigest: true);
        await target.SendResponseAsync(sqe.Cid);
        var error = await Assert.ThrowsAsync<NvmeTransportException>(() => read.WaitAsync(Bound));
        Assert.True(error.IsRetryable);
        Assert.Contains("digest", error.Message, StringComparison.OrdinalIgnoreCase);

        var buffer = new byte[4096];
        var again = connection.SubmitNoResultAsync(ReadCommand(4096), CommandKind.Io, default, buffer, CancellationToken.None).AsTask();
        (sqe, _) = await target.ReadCommandAsync();
        await target.SendC2HDataAsync(sqe.Cid, 0, Pattern(4096, 6), last: true, success: true);
        await again.WaitAsync(Bound);
        Assert.Equal(Pattern(4096, 6), buffer);
        Assert.Null(connection.Failure);
    }

    public static TheoryData<string, int, uint> Violations => new()
    {
        { "stale-cid", 1, 20 },
        { "c2h-out-of-range", 4, 0 },
        { "c2h-wrong-offset", 2, 0 },
        { "c2h-for-write", 1, 8 },
        { "success-before-data", 2, 0 },
        { "r2t-for-read", 1, 8 },
        { "r2t-out-of-range", 4, 0 },
        { "last-too-early", 2, 0 },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task Protocol_violation_fails_every_pending_command_and_sends_H2CTermReq(string violation, int fes, uint fei)
    {
        await using var target = ScriptedController.Start();
        var connection = await target.ConnectAsync(Options());
        await using var _ = connection;
        var read = connection.SubmitNoResultAsync(ReadCommand(8192), CommandKind.Io, default, new byte[8192], CancellationToken.None).AsTask();
        var (readSqe, _) = await target.ReadCommandAsync();
        var write = connection.SubmitNoResultAsync(WriteCommand(8192), CommandKind.Io, Pattern(8192, 7), default, CancellationToken.None).AsTask();
        var (writeSqe, _) = await target.ReadCommandAsync();
        var stale = (ushort)(readSqe.Cid ^ (1 << CommandSlot.IndexBits));
        switch (violation)
        {
            case "stale-cid": await target.SendResponseAsync(stale); break;
            case "c2h-out-of-range": await target.SendC2HDataAsync(readSqe.Cid, 4096, new byte[8192], last: true); break;
            case "c2h-wrong-offset": await target.SendC2HDataAsync(readSqe.Cid, 512, new byte[512], last: false); break;
            case "c2h-for-write": await target.SendC2HDataAsync(writeSqe.Cid, 0, new byte[512], last: false); break;
            case "success-before-data": await target.SendResponseAsync(readSqe.Cid); break;
            case "r2t-for-read": await target.SendR2TAsync(readSqe.Cid, 1, 0, 8192); break;
            case "r2t-out-of-range": await target.SendR2TAsync(writeSqe.Cid, 1, 4096, 8192); break;
            case "last-too-early": await target.SendC2HDataAsync(readSqe.Cid, 0, new byte[4096], last: true); break;
        }

        foreach (var pending in new[] { read, write })
        {
            var error = await Assert.ThrowsAsync<NvmeTcpProtocolException>(() => pending.WaitAsync(Bound));
            Assert.Equal(fes, error.FatalErrorStatus);
            Assert.Equal(fei, error.FatalErrorInformation);
            Assert.False(error.SentByController);
            Assert.Equal((ushort)1, error.QueueId);
        }

        // The host reported it with an H2CTermReq carrying the same FES/FEI, then closed.
        var sent = await target.ReadUntilClosedAsync();
        Assert.True(sent.Length >= TermReqPdu.HeaderLength, "no H2CTermReq");
        Assert.Equal((byte)PduType.H2CTermReq, sent[0]);
        Assert.Equal(fes, BinaryPrimitives.ReadUInt16LittleEndian(sent.AsSpan(8)));
        Assert.Equal(fei, BinaryPrimitives.ReadUInt32LittleEndian(sent.AsSpan(10)));
        Assert.IsType<NvmeTcpProtocolException>(connection.Failure);
        await connection.Completion.WaitAsync(Bound);
    }

    // The slot takes a completion only for a CID in flight: a second one for the same CID is refused by the receive
    // loop, and the first result stands.
    [Fact]
    public async Task A_second_completion_for_a_CID_is_a_violation_and_the_first_result_stands()
    {
        await using var target = ScriptedController.InMemory();
        await using var connection = await target.ConnectAsync(Options());
        var flush = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        var (sqe, _) = await target.ReadCommandAsync();
        await target.SendResponseAsync(sqe.Cid);
        await flush.WaitAsync(Bound);

        await target.SendResponseAsync(sqe.Cid, new NvmeStatus(NvmeStatusCodeType.Generic, 0x80));
        await connection.Completion.WaitAsync(Bound);
        var error = Assert.IsType<NvmeTcpProtocolException>(connection.Failure);
        Assert.Equal(1, error.FatalErrorStatus);
        Assert.Equal(CapsuleRespPdu.CqeOffset + 12u, error.FatalErrorInformation);
        Assert.True(flush.IsCompletedSuccessfully);
    }

    // While the H2CTermReq goes out the send path is closed but the connection not yet failed: a command submitted then
    // fails with the violation. It was failed with no error at all, and signalling that crashed the process.
    [Fact]
    public async Task A_command_submitted_while_a_violation_is_reported_fails_with_it()
    {
        await using var target = ScriptedController.InMemory(hostSendWindow: 1);
        var connection = await target.ConnectAsync(Options());
        await using var _ = connection;
        await target.SendResponseAsync(0x0BAD);

        // The controller does not read the H2CTermReq yet, so the host's report stays in progress.
        await target.WaitForUnreadAsync(1, Bound);
        var flush = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        var error = await Assert.ThrowsAsync<NvmeTcpProtocolException>(() => flush.WaitAsync(Bound));
        Assert.Equal(1, error.FatalErrorStatus);
        Assert.Equal((byte)PduType.H2CTermReq, (await target.ReadUntilClosedAsync())[0]);
    }

    [Fact]
    public async Task Header_digest_error_is_fatal_with_FES_3()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options(digests: true));
        var read = connection.SubmitNoResultAsync(ReadCommand(512), CommandKind.Io, default, new byte[512], CancellationToken.None).AsTask();
        var (sqe, _) = await target.ReadCommandAsync();
        var bytes = new byte[64];
        var length = CapsuleRespPdu.Encode(bytes, new Cqe(0, 0, 0, 0, sqe.Cid, default), target.Codec);
        bytes[24] ^= 0xFF;
        await target.SendAsync(bytes.AsMemory(0, length));
        var error = await Assert.ThrowsAsync<NvmeTcpProtocolException>(() => read.WaitAsync(Bound));
        Assert.Equal(3, error.FatalErrorStatus);
    }

    [Fact]
    public async Task C2HTermReq_surfaces_with_its_FES_and_FEI()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options());
        var read = connection.SubmitNoResultAsync(ReadCommand(512), CommandKind.Io, default, new byte[512], CancellationToken.None).AsTask();
        await target.ReadCommandAsync();
        var bytes = new byte[TermReqPdu.MaxLength];
        var length = new TermReqPdu(PduType.C2HTermReq, FatalErrorStatus.DataTransferOutOfRange, 0x1234).Encode(bytes, new byte[24]);
        await target.SendAsync(bytes.AsMemory(0, length));
        var error = await Assert.ThrowsAsync<NvmeTcpProtocolException>(() => read.WaitAsync(Bound));
        Assert.True(error.SentByController);
        Assert.Equal(4, error.FatalErrorStatus);
        Assert.Equal(0x1234u, error.FatalErrorInformation);
    }

    [Fact]
    public async Task Connection_lost_mid_PDU_fails_pending_commands_as_retryable()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options());
        var read = connection.SubmitNoResultAsync(ReadCommand(8192), CommandKind.Io, default, new byte[8192], CancellationToken.None).AsTask();
        var (sqe, _) = await target.ReadCommandAsync();
        var pdu = new byte[8192 + 24];
        new C2HDataPdu(sqe.Cid, 0, 8192, true, false).EncodePrefix(pdu, target.Codec);
        await target.SendAsync(pdu.AsMemory(0, 1000));
        target.Abort();
        var error = await Assert.ThrowsAsync<NvmeTransportException>(() => read.WaitAsync(Bound));
        Assert.True(error.IsRetryable);
    }

    [Fact]
    public async Task Command_timeout_resets_the_connection_and_fails_every_pending_command()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options(timeout: TimeSpan.FromMilliseconds(300)));
        var first = connection.SubmitNoResultAsync(ReadCommand(512), CommandKind.Io, default, new byte[512], CancellationToken.None).AsTask();
        var second = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        var error = await Assert.ThrowsAsync<NvmeTimeoutException>(() => first.WaitAsync(Bound));
        Assert.Contains("did not complete", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NvmeTimeoutException>(() => second.WaitAsync(Bound));
    }

    [Fact]
    public async Task Full_queue_makes_callers_wait_and_a_waiting_caller_can_cancel()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options(queueSize: 2));
        var first = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        var second = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        using var cancel = new CancellationTokenSource();
        var waiting = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, cancel.Token).AsTask();
        var third = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        var (a, _) = await target.ReadCommandAsync();
        var (b, _) = await target.ReadCommandAsync();
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Bound));

        // Back-pressure, not failure: the third caller goes out as soon as a slot frees.
        await target.SendResponseAsync(a.Cid);
        await first.WaitAsync(Bound);
        var (c, _) = await target.ReadCommandAsync();
        await target.SendResponseAsync(b.Cid);
        await target.SendResponseAsync(c.Cid);
        await Task.WhenAll(second, third).WaitAsync(Bound);
        Assert.NotEqual(a.Cid, c.Cid);
    }

    [Fact]
    public async Task Cancelled_read_releases_its_caller_and_its_late_data_is_dropped()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options());
        var buffer = new byte[4096];
        using var cancel = new CancellationTokenSource();
        var read = connection.SubmitNoResultAsync(ReadCommand(4096), CommandKind.Io, default, buffer, cancel.Token).AsTask();
        var (sqe, _) = await target.ReadCommandAsync();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Bound));

        // The data arrives after the caller left: it must not land in the caller's buffer.
        await target.SendC2HDataAsync(sqe.Cid, 0, Pattern(4096, 8), last: true);
        await target.SendResponseAsync(sqe.Cid);
        var next = new byte[512];
        var again = connection.SubmitNoResultAsync(ReadCommand(512), CommandKind.Io, default, next, CancellationToken.None).AsTask();
        var (nextSqe, _) = await target.ReadCommandAsync();
        await target.SendC2HDataAsync(nextSqe.Cid, 0, Pattern(512, 9), last: true, success: true);
        await again.WaitAsync(Bound);
        Assert.All(buffer, b => Assert.Equal(0, b));
        Assert.Null(connection.Failure);
    }

    [Fact]
    public async Task Reused_slot_gets_a_new_generation_in_its_CID()
    {
        await using var target = ScriptedController.Start();
        await using var connection = await target.ConnectAsync(Options(queueSize: 2));
        var cids = new List<ushort>();
        for (var i = 0; i < 4; i++)
        {
            var flush = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
            var (sqe, _) = await target.ReadCommandAsync();
            cids.Add(sqe.Cid);
            await target.SendResponseAsync(sqe.Cid);
            await flush.WaitAsync(Bound);
        }

        Assert.Equal(cids.Count, cids.Distinct().Count());
    }
}
