using System.Buffers.Binary;
using NvmeTcp.Client.Transport;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>
/// Defects found by reading the core (the "core" issue): each test drives the transport into the exact interleaving
/// over an in-memory link, where the test decides when the host's sends complete.
/// </summary>
public sealed class CoreDefectTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static QueueConnectionOptions Options(int inCapsule = 4096) => new()
    {
        QueueId = 1,
        QueueSize = 32,
        InCapsuleDataSize = inCapsule,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        CommandTimeout = TimeSpan.FromSeconds(60),
    };

    private static Sqe Write(int length) => ReadWriteCommands.Write(1, 0, length / 512, (uint)length);

    // Defect 1: an exception from the transport other than a SocketException (a Stream transport throws IOException)
    // escaped the send path and left it marked busy for ever: the command never failed and dispose hung.
    [Fact]
    public async Task A_send_failure_of_any_kind_fails_the_pending_commands_and_dispose_completes()
    {
        await using var target = ScriptedController.InMemory(wrap: t => new FailingTransport(t));
        var connection = await target.ConnectAsync(Options());
        FailingTransport.Of(target).FailSends = true;

        var read = connection.SubmitNoResultAsync(ReadWriteCommands.Read(1, 0, 1, 512), CommandKind.Io, default, new byte[512], CancellationToken.None).AsTask();
        var error = await Assert.ThrowsAsync<NvmeTransportException>(() => read.WaitAsync(Bound));
        Assert.IsType<IOException>(error.InnerException);
        await connection.DisposeAsync().AsTask().WaitAsync(Bound);
    }

    // Defect 2: the H2CData sender checked that the write was still outstanding, then waited for room in its buffer,
    // then read the slot's data. A write the controller failed meanwhile had its slot recycled: Slice on default
    // memory threw, and (defect 1) the send path died with it.
    [Fact]
    public async Task A_write_failed_while_its_H2CData_waits_for_room_is_skipped_and_the_queue_goes_on()
    {
        // Every host send waits until the controller has read it, so the test decides where the host's writer stops.
        // On a new connection slots are taken in order: the CIDs are 0, 1, 2...
        const int Capsule = 72 + 4096;
        await using var target = ScriptedController.InMemory(hostSendWindow: 1);
        var connection = await target.ConnectAsync(Options(inCapsule: 4096));
        Task Submit(Sqe sqe, int length) => connection.SubmitNoResultAsync(sqe, CommandKind.Io, new byte[length], default, CancellationToken.None).AsTask();

        // R's capsule holds the writer (the controller does not read it yet) while the rest queues behind it:
        // P1..P15 (in-capsule writes), B (a write whose data goes by R2T), W1..W14.
        var read = connection.SubmitNoResultAsync(ReadWriteCommands.Read(1, 0, 1, 512), CommandKind.Io, default, new byte[512], CancellationToken.None).AsTask();
        var p = Enumerable.Range(0, 15).Select(_ => Submit(Write(4096), 4096)).ToArray();
        var r2tWrite = Submit(Write(8192), 8192);
        var w = Enumerable.Range(0, 14).Select(_ => Submit(Write(4096), 4096)).ToArray();
        const ushort r = 0, b = 16;

        // Reading R lets the writer encode P1..P15 and B; W1 does not fit beside them, so their send waits for the
        // controller: B's capsule has gone out, W1..W14 have not.
        await target.ReadCommandAsync();
        await target.WaitForUnreadAsync((15 * Capsule) + 72, Bound);

        // The R2T for B queues B's H2CData behind W14; R's completion, read after it, shows the R2T was taken.
        await target.SendR2TAsync(b, 1, 0, 8192);
        await target.SendC2HDataAsync(r, 0, new byte[512], last: true, success: true);
        await read.WaitAsync(Bound);

        // Reading P1..P15 and B lets the writer encode W1..W14 and reach B's H2CData, which needs more room than is
        // left: it waits for the send of W1..W14.
        for (var i = 0; i < 16; i++)
        {
            await target.ReadCommandAsync();
        }

        await target.WaitForUnreadAsync(14 * Capsule, Bound);

        // Now the controller fails B: its caller is released and its slot free again.
        await target.SendResponseAsync(b, new NvmeStatus(NvmeStatusCodeType.Generic, 0x80, doNotRetry: true));
        await Assert.ThrowsAsync<NvmeStatusException>(() => r2tWrite.WaitAsync(Bound));

        // The sender goes on without B's data: W1..W14 reach the controller, then a new command does.
        for (var i = 0; i < w.Length; i++)
        {
            var (sqe, _) = await target.ReadCommandAsync();
            Assert.NotEqual(b, sqe.Cid);
        }

        var flush = connection.SubmitNoResultAsync(ReadWriteCommands.Flush(1), CommandKind.Io, default, default, CancellationToken.None).AsTask();
        var (flushSqe, _) = await target.ReadCommandAsync();
        Assert.Equal(0x00, flushSqe.Opcode);
        foreach (var cid in Enumerable.Range(1, 15).Concat(Enumerable.Range(17, 14)).Append(flushSqe.Cid))
        {
            await target.SendResponseAsync((ushort)cid);
        }

        await Task.WhenAll(p.Concat(w).Append(flush)).WaitAsync(Bound);
        await connection.DisposeAsync().AsTask().WaitAsync(Bound);
    }

    // Defect 3: GetResult on a command not yet complete marked its caller done and recycled the slot when the real
    // completion came; the caller's later (legitimate) await then failed or hung, and the slot's next command could
    // see the old result. The runtime's own sources throw before touching any state; so must ours.
    [Fact]
    public async Task GetResult_before_completion_throws_and_leaves_the_command_intact()
    {
        await using var target = ScriptedController.InMemory();
        await using var connection = await target.ConnectAsync(Options());
        var buffer = new byte[512];
        var pending = connection.SubmitNoResultAsync(ReadWriteCommands.Read(1, 0, 1, 512), CommandKind.Io, default, buffer, CancellationToken.None);
        Assert.Throws<InvalidOperationException>(() => pending.GetAwaiter().GetResult());

        var (sqe, _) = await target.ReadCommandAsync();
        var data = Enumerable.Range(0, 512).Select(i => (byte)i).ToArray();
        await target.SendC2HDataAsync(sqe.Cid, 0, data, last: true);
        await target.SendResponseAsync(sqe.Cid);
        await pending.AsTask().WaitAsync(Bound);
        Assert.Equal(data, buffer);
    }

    // Defect 5a: for a violation found from connection state (here a CapsuleResp for a CID that is not outstanding),
    // the receive loop had consumed the PDU before checking it, so the H2CTermReq carried the bytes after it.
    [Fact]
    public async Task H2CTermReq_for_a_stateful_violation_carries_the_offending_header()
    {
        await using var target = ScriptedController.InMemory();
        var connection = await target.ConnectAsync(Options());
        var response = new byte[CapsuleRespPdu.HeaderLength];
        CapsuleRespPdu.Encode(response, new Cqe(0, 0, 0, 0, 0x0ABC, NvmeStatus.Success), target.Codec);
        await target.SendAsync(response);

        var sent = await target.ReadUntilClosedAsync();
        Assert.Equal((byte)PduType.H2CTermReq, sent[0]);
        var plen = BinaryPrimitives.ReadUInt32LittleEndian(sent.AsSpan(4));
        Assert.Equal(response, sent.AsSpan(TermReqPdu.HeaderLength, (int)plen - TermReqPdu.HeaderLength).ToArray());
        await connection.DisposeAsync().AsTask().WaitAsync(Bound);
    }

    // Defect 5b: a C2HTermReq whose PDO (reserved for TermReqs) is not zero was refused as a violation of ours, and
    // the controller's own reason (FES/FEI) was lost; the association is ending anyway, so report what it said.
    [Fact]
    public async Task C2HTermReq_with_a_nonzero_PDO_still_reports_the_controller_FES_and_FEI()
    {
        await using var target = ScriptedController.InMemory();
        var connection = await target.ConnectAsync(Options());
        var read = connection.SubmitNoResultAsync(ReadWriteCommands.Read(1, 0, 1, 512), CommandKind.Io, default, new byte[512], CancellationToken.None).AsTask();
        await target.ReadCommandAsync();
        var term = new byte[TermReqPdu.HeaderLength];
        new TermReqPdu(PduType.C2HTermReq, FatalErrorStatus.PduSequenceError, 0x10).Encode(term, default);
        term[PduHeader.PdoOffset] = TermReqPdu.HeaderLength;
        await target.SendAsync(term);

        var error = await Assert.ThrowsAsync<NvmeTcpProtocolException>(() => read.WaitAsync(Bound));
        Assert.True(error.SentByController);
        Assert.Equal((int)FatalErrorStatus.PduSequenceError, error.FatalErrorStatus);
        Assert.Equal(0x10u, error.FatalErrorInformation);
        await connection.DisposeAsync().AsTask().WaitAsync(Bound);
    }

    /// <summary>A transport whose sends fail with an <see cref="IOException"/> once told to, as a broken TLS stream would.</summary>
    private sealed class FailingTransport(ConnectionTransport inner) : DelegatingTransport(inner)
    {
        public bool FailSends { get; set; }

        public static FailingTransport Of(ScriptedController target) => (FailingTransport)target.HostTransport!;

        public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            FailSends ? ValueTask.FromException(new IOException("the stream broke")) : base.SendAsync(data, cancellationToken);
    }
}
