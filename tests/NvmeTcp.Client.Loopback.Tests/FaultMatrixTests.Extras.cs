using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>The docs/FAULTS.md rows outside the core set (and row 2 and 7 of connection establishment).</summary>
public sealed partial class FaultMatrixTests
{
    // docs/FAULTS.md row 1: TCP connect to a closed port: a typed connect error in bounded time.
    [Fact]
    public async Task F01_connect_to_a_closed_port_fails_typed()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var options = new NvmeTcpOptions { Address = "127.0.0.1", Port = port, SubsystemNqn = Nqn, IoQueueCount = 1, Resources = _resources };
        var error = await OutcomeAsync(NvmeController.ConnectAsync(options));
        Assert.True(Assert.IsType<NvmeTransportException>(error).IsRetryable);
    }

    // docs/FAULTS.md row 2: the target never sends ICResp, or sends 100 of its 128 bytes and closes.
    [Theory]
    [InlineData(NvmeFaultAction.BlackHole)]
    [InlineData(NvmeFaultAction.Close)]
    public async Task F02_missing_or_short_ICResp_fails_the_connect(NvmeFaultAction action)
    {
        await using var target = await StartAsync();
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.ICResp, Action = action, Offset = 100 });
        var options = ClientOptions(target);
        options.ConnectTimeout = TimeSpan.FromMilliseconds(500);
        var error = await OutcomeAsync(NvmeController.ConnectAsync(options));
        if (action == NvmeFaultAction.BlackHole)
        {
            Assert.IsType<NvmeTimeoutException>(error);
        }
        else
        {
            Assert.True(Assert.IsType<NvmeTransportException>(error).IsRetryable);
        }

        target.Testing.Faults.Clear();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 6: a second ICResp after setup.
    [Fact]
    public async Task F06_ICResp_type_after_setup_is_fatal()
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Patch, Offset = 0, Bytes = new byte[] { 0x01 } },
            Flush);
        Assert.IsType<NvmeTcpProtocolException>(error);
    }

    // docs/FAULTS.md row 6: the ICResp sent twice: the second one reaches the receive loop of the admin queue.
    [Fact]
    public async Task F06_duplicate_ICResp_fails_the_connect()
    {
        await using var target = await StartAsync();
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.ICResp, Action = NvmeFaultAction.Duplicate });
        var error = await OutcomeAsync(NvmeController.ConnectAsync(ClientOptions(target)));
        AssertProtocol(error, PduSequenceError);
        target.Testing.Faults.Clear();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 7: Connect refused with DNR (host not allowed): the connect fails with the status, no retry.
    [Fact]
    public async Task F07_connect_refused_with_DNR_fails_with_the_status()
    {
        await using var target = await StartAsync();
        var options = ClientOptions(target);
        options.SubsystemNqn = RestrictedNqn;
        var error = await OutcomeAsync(NvmeController.ConnectAsync(options));
        var status = Assert.IsType<NvmeStatusException>(error);
        Assert.True(status.Status.DoNotRetry);
        Assert.False(status.IsTransient);
        options.HostNqn = AllowedHost;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        Assert.Equal(NvmeControllerState.Live, controller.State);
    }

    // docs/FAULTS.md row 13: the HDGST flag cleared while header digests are negotiated.
    [Fact]
    public async Task F13_HDGST_flag_missing_with_header_digest_negotiated_is_fatal()
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Patch, Offset = FlagsOffset, Bytes = new byte[] { 0x00 } },
            Flush,
            headerDigest: true);

        // Invalid Header Field at the flags byte: the flags are checked before the digest (lowest field first, as
        // FreeBSD's header validator; Linux too rejects a cleared HDGSTF before it looks at the digest).
        var protocol = AssertProtocol(error, InvalidHeaderField);
        Assert.Equal((uint)FlagsOffset, protocol.FatalErrorInformation);
    }

    // docs/FAULTS.md row 15: the DDGST flag cleared on C2HData while data digests are negotiated.
    [Fact]
    public async Task F15_DDGST_flag_missing_on_C2HData_with_data_digest_negotiated_is_fatal()
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.Patch, Offset = FlagsOffset, Bytes = new byte[] { 0x04 } },
            (q, n) => Read(q, n),
            dataDigest: true);
        Assert.IsType<NvmeTcpProtocolException>(error);
    }

    // docs/FAULTS.md row 21: C2HData with SUCCESS, then a CQE for the same CID as well: completed exactly once, then
    // fatal.
    [Fact]
    public async Task F21_CQE_after_C2HData_with_SUCCESS_is_fatal()
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.Patch, Offset = FlagsOffset, Bytes = new byte[] { 0x0C } },
            (q, n) => Read(q, n),
            alwaysResets: true);

        // The read itself may have succeeded (SUCCESS came first); the CQE that follows breaks the association.
        if (error is not null)
        {
            AssertProtocol(error, InvalidHeaderField);
        }
    }

    // docs/FAULTS.md row 25: DATAL not matching PLEN - PDO.
    [Fact]
    public async Task F25_DATAL_inconsistent_with_PLEN_is_fatal()
    {
        var error = await FatalOnQueue1Async(
            NvmeTargetFault.PatchUInt32(NvmeFaultPdu.C2HData, NvmeTargetFault.DataLengthOffset, 16384 - 512, queueId: 1),
            (q, n) => Read(q, n));
        AssertProtocol(error, InvalidHeaderField);
    }

    // docs/FAULTS.md row 26: LAST_PDU missing on the C2HData that completes the buffer.
    [Fact]
    public async Task F26_LAST_PDU_missing_on_the_final_C2HData_is_a_sequence_error()
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.Patch, Offset = FlagsOffset, Bytes = new byte[] { 0x00 } },
            (q, n) => Read(q, n));
        AssertProtocol(error, PduSequenceError);
    }

    // docs/FAULTS.md row 31: R2TO not at the bytes already requested.
    [Fact]
    public async Task F31_R2T_offset_out_of_sequence_is_a_sequence_error()
    {
        // R2TO 4096 and R2TL 4096: within the write, but not where the transfer stands (offset 0).
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 4096);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 4096);
        var error = await FatalOnQueue1Async(NvmeTargetFault.Patch(NvmeFaultPdu.R2T, NvmeTargetFault.DataOffsetOffset, bytes, queueId: 1), R2TWrite);
        AssertProtocol(error, PduSequenceError);
    }

    // docs/FAULTS.md row 39: the target restarts (same port) several times during I/O: the host reconnects every time
    // and I/O queued while it was away resumes. The client's clock is a fake one, so each round makes exactly one
    // attempt while nothing listens (refused) and the next one after the target is back.
    [Fact]
    public async Task F39_target_restarting_repeatedly_is_reconnected_and_queued_io_resumes()
    {
        var clock = new TestClock();
        var target = await StartAsync();
        var port = target.EndPoint.Port;
        var options = Reconnecting(target);
        options.TimeProvider = clock;
        options.KeepAliveTimeout = TimeSpan.Zero;
        var delay = options.ReconnectDelay;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        try
        {
            for (var round = 0; round < 3; round++)
            {
                var delays = clock.Timers(delay, Timeout.InfiniteTimeSpan).Count;
                await target.DisposeAsync();
                await clock.WaitForDelayAsync(delay, "the reconnect delay", delays + 1);

                // Queued while the target is away (the controller is reconnecting): it waits, and must not be lost.
                var queued = controller.IoQueues[round % 2].WriteAsync(controller.GetNamespace(1), 0, Pattern(4096, round)).AsTask();
                clock.Advance(delay);
                await clock.WaitForDelayAsync(delay, "the attempt while nothing listens to fail", delays + 2);
                Assert.False(queued.IsCompleted);
                target = await StartAsync(o => o.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, port));
                clock.Advance(delay);
                await queued.WaitAsync(Bound);
                await AssertUsableAsync(controller);
            }
        }
        finally
        {
            await target.DisposeAsync();
        }
    }
}
