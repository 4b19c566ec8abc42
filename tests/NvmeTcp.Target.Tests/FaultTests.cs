using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Tests;

/// <summary>
/// The fault rules make the target misbehave in the ways docs/FAULTS.md lists; each is checked from the wire.
/// <see cref="FaultReceiveThreadTests"/> runs every test again with <see cref="NvmeTargetOptions.DedicatedReceiveThreads"/>.
/// </summary>
public class FaultTests
{
    /// <summary>Whether the targets of these tests receive on a thread per connection.</summary>
    protected virtual bool DedicatedReceiveThreads => false;

    private Task<NvmeTcpTarget> StartAsync(NvmeTargetOptions? options = null)
    {
        options ??= TestTargets.Options();
        options.DedicatedReceiveThreads = DedicatedReceiveThreads;
        return TestTargets.StartAsync(options);
    }

    private async Task<(NvmeTcpTarget Target, RawHost Admin, RawHost Io)> OpenAsync(DigestTypes digests = DigestTypes.None, int chunk = 4096, TimeProvider? time = null)
    {
        var options = TestTargets.Options();
        options.C2HDataChunkSize = chunk;
        options.TimeProvider = time ?? TimeProvider.System;
        var target = await StartAsync(options);
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn, digests);
        var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid, digests: digests);
        return (target, admin, io);
    }

    private static async Task<ushort> SendReadAsync(RawHost io, int blocks = 16)
    {
        var sqe = ReadWriteCommands.Read(1, 0, blocks, (uint)(blocks * 512));
        sqe.Cid = io.NextCid();
        await io.SendAsync(io.EncodeCommand(sqe));
        return sqe.Cid;
    }

    [Fact]
    public async Task Corrupt_data_digest_of_the_second_c2h_data_on_queue_1()
    {
        var (target, admin, io) = await OpenAsync(DigestTypes.Data);
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        var rule = target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.C2HData, QueueId = 1, Ordinal = 2, Action = NvmeFaultAction.CorruptDataDigest });
        await SendReadAsync(io);
        Assert.Equal(DecodeStatus.Done, (await io.ReceiveAsync()).Status);
        Assert.Equal(DecodeStatus.DataDigestError, (await io.ReceiveAsync()).Status);
        Assert.Equal(PduType.CapsuleResp, (await io.ReceiveAsync()).Header.Type);
        Assert.Equal(1, rule.Applied);
    }

    [Fact]
    public async Task Unknown_cid_duplicate_completion_and_drop()
    {
        var (target, admin, io) = await OpenAsync();
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        target.Testing.Faults.Add(NvmeTargetFault.PatchUInt16(NvmeFaultPdu.CapsuleResp, NvmeTargetFault.CqeCidOffset, 0xBEEF, queueId: 1, ordinal: 1));
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.CapsuleResp, QueueId = 1, Ordinal = 2, Action = NvmeFaultAction.Duplicate });
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.CapsuleResp, QueueId = 1, Ordinal = 3, Action = NvmeFaultAction.Drop });
        var flush = ReadWriteCommands.Flush(1);
        flush.Cid = 1000;
        await io.SendAsync(io.EncodeCommand(flush));
        Assert.Equal(0xBEEF, (await io.ReceiveAsync()).Header.Cqe.Cid);
        flush.Cid = 1001;
        await io.SendAsync(io.EncodeCommand(flush));
        Assert.Equal(1001, (await io.ReceiveAsync()).Header.Cqe.Cid);
        Assert.Equal(1001, (await io.ReceiveAsync()).Header.Cqe.Cid);
        flush.Cid = 1002;
        await io.SendAsync(io.EncodeCommand(flush));
        flush.Cid = 1003;
        await io.SendAsync(io.EncodeCommand(flush));
        Assert.Equal(1003, (await io.ReceiveAsync()).Header.Cqe.Cid); // 1002's was dropped
    }

    [Fact]
    public async Task Reorder_c2h_data_chunks()
    {
        var (target, admin, io) = await OpenAsync();
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.C2HData, QueueId = 1, Action = NvmeFaultAction.Reorder });
        await SendReadAsync(io);
        Assert.Equal(4096u, (await io.ReceiveAsync()).Header.C2HData.Datao);
        Assert.Equal(0u, (await io.ReceiveAsync()).Header.C2HData.Datao);
    }

    [Fact]
    public async Task C2h_data_for_a_write()
    {
        var (target, admin, io) = await OpenAsync();
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.CapsuleResp, QueueId = 1, Action = NvmeFaultAction.InjectC2HData, Offset = 512 });
        var write = ReadWriteCommands.Write(1, 0, 1, 512).InCapsule();
        write.Cid = 44;
        await io.SendAsync(io.EncodeCommand(write, new byte[512]));
        var data = await io.ReceiveAsync();
        Assert.Equal(PduType.C2HData, data.Header.Type);
        Assert.Equal(44, data.Header.C2HData.Cccid);
        Assert.Equal(44, (await io.ReceiveAsync()).Header.Cqe.Cid);
    }

    [Fact]
    public async Task Huge_plen_is_sent_as_claimed()
    {
        var (target, admin, io) = await OpenAsync();
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        target.Testing.Faults.Add(NvmeTargetFault.PatchUInt32(NvmeFaultPdu.C2HData, NvmeTargetFault.PlenOffset, 0xFFFFFFF0, queueId: 1));
        await SendReadAsync(io);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(io.ReceiveAsync);
        Assert.Contains("PLEN", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminate_sends_c2h_term_req_and_closes()
    {
        var (target, admin, io) = await OpenAsync();
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.CapsuleResp, QueueId = 1, Action = NvmeFaultAction.Terminate, Fes = 2, Fei = 0 });
        var flush = ReadWriteCommands.Flush(1);
        flush.Cid = 3;
        await io.SendAsync(io.EncodeCommand(flush));
        var term = await io.ReceiveAsync();
        Assert.Equal(PduType.C2HTermReq, term.Header.Type);
        Assert.Equal(FatalErrorStatus.PduSequenceError, term.Header.TermReq.Fes);
        Assert.Equal(24, term.Data.Length);
        Assert.True(await io.WaitClosedAsync());
    }

    [Theory]
    [InlineData(NvmeFaultAction.Close)]
    [InlineData(NvmeFaultAction.Reset)]
    public async Task Close_or_reset_mid_pdu(NvmeFaultAction action)
    {
        var (target, admin, io) = await OpenAsync();
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.C2HData, QueueId = 1, Action = action, Offset = 10 });
        await SendReadAsync(io);
        await Assert.ThrowsAnyAsync<Exception>(io.ReceiveAsync);
    }

    [Fact]
    public async Task Delay_holds_the_pdu_for_its_time_on_the_target_clock()
    {
        var time = new TestTime();
        var (target, admin, io) = await OpenAsync(time: time);
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        var delay = target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.CapsuleResp, QueueId = 0, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromMilliseconds(300) });
        var timers = time.TimersCreated;
        var keepAlive = AdminCommands.KeepAlive();
        keepAlive.Cid = admin.NextCid();
        await admin.SendAsync(admin.EncodeCommand(keepAlive));
        await TestTime.UntilAsync(() => time.TimersCreated > timers, "the delay to start");

        // The send loop waits on the fake clock: nothing can leave before it reaches 300 ms.
        time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.Equal(0, admin.Available);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var response = await admin.ReceiveAsync();
        Assert.Equal(keepAlive.Cid, response.Header.Cqe.Cid);
        Assert.Equal(1, delay.Applied);
    }

    [Fact]
    public async Task Black_hole_swallows_everything_and_keeps_reading()
    {
        var (target, admin, io) = await OpenAsync();
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        var hole = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Action = NvmeFaultAction.BlackHole });
        var flush = ReadWriteCommands.Flush(1);
        flush.Cid = 8;
        await io.SendAsync(io.EncodeCommand(flush));
        await TestTime.UntilAsync(() => hole.Applied == 1, "the black hole to take the Flush's CapsuleResp");
        Assert.Equal(2, target.ConnectionCount); // still connected: admin and I/O

        // Still reading: a violation on that connection is seen, its C2HTermReq swallowed too, and only then it closes.
        // Not one byte came before the close: neither the Flush's CapsuleResp nor the C2HTermReq.
        await io.SendAsync(io.EncodeH2CData(0x99, 0, 0, new byte[4], last: true));
        await TestTime.UntilAsync(() => target.Testing.Violations.Any(v => v.Rule == "UnexpectedH2CData"), "the violation");
        Assert.Equal(0, await io.BytesBeforeCloseAsync());
    }

    [Fact]
    public async Task Duplicate_r2t_exceeds_maxr2t()
    {
        var (target, admin, io) = await OpenAsync();
        await using var _0 = target;
        await using var _1 = admin;
        await using var _2 = io;
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.R2T, Action = NvmeFaultAction.Duplicate });
        var write = ReadWriteCommands.Write(1, 0, 16, 8192);
        write.Cid = 12;
        await io.SendAsync(io.EncodeCommand(write));
        var first = (await io.ReceiveAsync()).Header.R2T;
        var second = (await io.ReceiveAsync()).Header.R2T;
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Many_connections_at_once()
    {
        await using var target = await StartAsync();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        var queues = await Task.WhenAll(Enumerable.Range(1, 8).Select(q => RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid, (ushort)q)));
        Assert.Equal(DedicatedReceiveThreads ? 9 : 0, target.Testing.ReceiveThreadsStarted);
        try
        {
            await Task.WhenAll(queues.Select(async (io, i) =>
            {
                for (var n = 0; n < 20; n++)
                {
                    var lba = (ulong)((i * 1000) + (n * 8));
                    var data = TestTargets.Pattern(4096, (i * 100) + n);
                    var (w, _) = await io.ExecuteAsync(ReadWriteCommands.Write(1, lba, 8, 4096).InCapsule(n % 2 == 0), n % 2 == 0 ? data : default, data);
                    Assert.True(w.Status.IsSuccess);
                    var (_, back) = await io.ExecuteAsync(ReadWriteCommands.Read(1, lba, 8, 4096));
                    Assert.Equal(data, back);
                }
            })).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal(9, target.ConnectionCount);
        }
        finally
        {
            foreach (var io in queues)
            {
                await io.DisposeAsync();
            }
        }
    }
}
