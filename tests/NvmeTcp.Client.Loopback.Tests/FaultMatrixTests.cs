using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using NvmeTcp.Client.Transport;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>Records every unobserved task exception raised while a test of the fault matrix runs.</summary>
public sealed class UnobservedTaskExceptions : IDisposable
{
    private readonly ConcurrentQueue<Exception> _seen = new();

    public UnobservedTaskExceptions()
    {
        // Finalize what earlier tests left behind before listening: the event is process-wide.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        TaskScheduler.UnobservedTaskException += OnUnobserved;
    }

    /// <summary>Collects garbage so that faulted, unobserved tasks are finalized, then asserts none was.</summary>
    public void AssertNone()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        var seen = new List<Exception>();
        while (_seen.TryDequeue(out var e))
        {
            seen.Add(e);
        }

        Assert.True(seen.Count == 0, "unobserved task exception: " + string.Join(" | ", seen));
    }

    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => _seen.Enqueue(e.Exception);
}

/// <summary>Runs the fault matrix alone, so that the process-wide unobserved-exception hook sees only its tasks.</summary>
[CollectionDefinition(nameof(FaultMatrixCollection), DisableParallelization = true)]
public sealed class FaultMatrixCollection : ICollectionFixture<UnobservedTaskExceptions>
{
}

/// <summary>
/// The rows of docs/FAULTS.md that the in-process target's fault injection can drive, one test per row: the
/// typed error, every pending command completing within a bound, no unobserved task exception, and the next connect
/// (or the automatic reconnect) working.
/// </summary>
[Collection(nameof(FaultMatrixCollection))]
public sealed partial class FaultMatrixTests(UnobservedTaskExceptions unobserved) : IAsyncLifetime
{
    // FES values of NVMe/TCP 3.6.2.9.
    private const int InvalidHeaderField = 1;
    private const int PduSequenceError = 2;
    private const int HeaderDigestError = 3;
    private const int DataTransferOutOfRange = 4;
    private const int LimitExceeded = 5;

    // Byte offsets in every PDU's common header and in ICResp.
    private const int FlagsOffset = 1;
    private const int HlenOffset = 2;
    private const int PdoOffset = 3;
    private const int IcRespPfvOffset = 8;
    private const int IcRespCpdaOffset = 10;
    private const int IcRespDigestOffset = 11;
    private const int IcRespMaxH2CDataOffset = 12;

    // What every controller of this test holds (sockets, background work, command slots), shared through its options
    // so that a connect that fails is counted too.
    private readonly ResourceCounters _resources = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        // Every controller of the test has been disposed by now (await using): nothing may be left.
        await Leaks.AssertNoneAsync(_resources);
        unobserved.AssertNone();
    }

    // The loopback options, counted in this test's resources.
    private NvmeTcpOptions ClientOptions(NvmeTcpTarget target, int queues = 2, bool headerDigest = false, bool dataDigest = false)
    {
        var options = LoopbackTarget.ClientOptions(target, queues, headerDigest, dataDigest);
        options.Resources = _resources;
        return options;
    }

    private NvmeTcpOptions Reconnecting(NvmeTcpTarget target, bool headerDigest = false, bool dataDigest = false)
    {
        var options = ClientOptions(target, headerDigest: headerDigest, dataDigest: dataDigest);
        options.ReconnectDelay = TimeSpan.FromMilliseconds(100);
        options.ControllerLossTimeout = TimeSpan.FromSeconds(5);
        return options;
    }

    private static byte[] Bytes(params byte[] bytes) => bytes;

    private static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>Starts the operation, waits for it within the bound, returns what it threw (null on success).</summary>
    private static async Task<Exception?> OutcomeAsync(Task operation)
    {
        try
        {
            await operation.WaitAsync(Bound);
            return null;
        }
        catch (TimeoutException e) when (!operation.IsCompleted)
        {
            Assert.Fail("a pending command did not complete within the bound: " + e.Message);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static NvmeTcpProtocolException AssertProtocol(Exception? error, int fes, bool sentByController = false)
    {
        var protocol = Assert.IsType<NvmeTcpProtocolException>(error);
        Assert.Equal(fes, protocol.FatalErrorStatus);
        Assert.Equal(sentByController, protocol.SentByController);
        return protocol;
    }

    // The association is back (or never left): I/O on every queue pair works and reads back what was written.
    private static async Task AssertUsableAsync(NvmeController controller)
    {
        var ns = controller.GetNamespace(1);
        var data = Pattern(8192, 77);
        foreach (var queue in controller.IoQueues)
        {
            await queue.WriteAsync(ns, 1024, data).AsTask().WaitAsync(Bound);
            var back = new byte[data.Length];
            await queue.ReadAsync(ns, 1024, back).AsTask().WaitAsync(Bound);
            Assert.Equal(data, back);
        }

        Assert.Equal(NvmeControllerState.Live, controller.State);
    }

    /// <summary>
    /// Arms <paramref name="fault"/>, runs <paramref name="operation"/> on queue 1 together with a few more commands on
    /// the same queue, removes the fault, and checks the reconnect. Returns the operation's error.
    /// </summary>
    private async Task<Exception?> FatalOnQueue1Async(
        NvmeTargetFault fault,
        Func<NvmeQueuePair, NvmeNamespace, Task> operation,
        Action<NvmeTargetOptions>? configure = null,
        bool headerDigest = false,
        bool dataDigest = false,
        bool alwaysResets = false)
    {
        await using var target = await StartAsync(configure);
        await using var controller = await NvmeController.ConnectAsync(Reconnecting(target, headerDigest, dataDigest)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var queue = controller.IoQueues[0];
        await queue.WriteAsync(ns, 0, Pattern(65536, 5)).AsTask().WaitAsync(Bound);
        var firstControllerId = controller.ControllerId;
        target.Testing.Faults.Add(fault);
        var failing = operation(queue, ns);
        var others = Enumerable.Range(0, 4).Select(i => queue.ReadAsync(ns, (ulong)(i * 8), new byte[4096]).AsTask()).ToArray();
        var error = await OutcomeAsync(failing);
        foreach (var other in others)
        {
            // Each bystander completes: with success if it finished first, else with a typed, retryable error.
            if (await OutcomeAsync(other) is { } otherError)
            {
                Assert.IsAssignableFrom<NvmeException>(otherError);
            }
        }

        Assert.True(fault.Applied >= 1, "the fault never fired");
        target.Testing.Faults.Clear();
        if (error is not null || alwaysResets)
        {
            // A command submitted between the queue's failure and the controller noticing it fails with the same
            // typed error; wait for the new association before checking that I/O works again.
            await WaitForNewAssociationAsync(controller, firstControllerId);
        }

        await AssertUsableAsync(controller);

        return error;
    }

    private static async Task WaitForNewAssociationAsync(NvmeController controller, ushort previousControllerId)
    {
        for (var i = 0; i < 400 && (controller.ControllerId == previousControllerId || controller.State != NvmeControllerState.Live); i++)
        {
            await Task.Delay(25);
        }

        Assert.NotEqual(previousControllerId, controller.ControllerId);
    }

    private static Task Read(NvmeQueuePair queue, NvmeNamespace ns, int length = 16384) => queue.ReadAsync(ns, 0, new byte[length]).AsTask();

    private static Task Flush(NvmeQueuePair queue, NvmeNamespace ns) => queue.FlushAsync(ns).AsTask();

    // A write large enough to go by R2T rather than in the capsule.
    private static Task R2TWrite(NvmeQueuePair queue, NvmeNamespace ns) => queue.WriteAsync(ns, 256, Pattern(65536, 9)).AsTask();

    // docs/FAULTS.md row 3: ICResp with a wrong type, HLEN, PDO, flags or PFV.
    [Theory]
    [InlineData(0, 0x05)]
    [InlineData(FlagsOffset, 0x04)]
    [InlineData(HlenOffset, 0x40)]
    [InlineData(PdoOffset, 0x08)]
    [InlineData(IcRespPfvOffset, 0x01)]
    public async Task F03_bad_ICResp_fails_the_connect_with_a_protocol_error(int offset, byte value)
    {
        await using var target = await StartAsync();
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.ICResp, Action = NvmeFaultAction.Patch, Offset = offset, Bytes = Bytes(value) });
        var error = await OutcomeAsync(NvmeController.ConnectAsync(ClientOptions(target)));
        Assert.IsType<NvmeTcpProtocolException>(error);
        target.Testing.Faults.Clear();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 4: ICResp digests differ from the request (unrequested enabled, requested dropped).
    [Theory]
    [InlineData(false, 0x03)]
    [InlineData(true, 0x00)]
    [InlineData(true, 0x01)]
    public async Task F04_ICResp_digests_differing_from_the_request_fail_the_connect(bool requested, byte granted)
    {
        await using var target = await StartAsync();
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.ICResp, Action = NvmeFaultAction.Patch, Offset = IcRespDigestOffset, Bytes = Bytes(granted) });
        var error = await OutcomeAsync(NvmeController.ConnectAsync(ClientOptions(target, headerDigest: requested, dataDigest: requested)));
        Assert.IsType<NvmeTcpProtocolException>(error);
        target.Testing.Faults.Clear();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target, headerDigest: requested, dataDigest: requested)).WaitAsync(Bound);
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 5: MAXH2CDATA below 4096 or not a multiple of 4, CPDA above 31.
    [Theory]
    [InlineData(IcRespMaxH2CDataOffset, 0u)]
    [InlineData(IcRespMaxH2CDataOffset, 4095u)]
    [InlineData(IcRespMaxH2CDataOffset, 4098u)]
    [InlineData(IcRespCpdaOffset, 32u)]
    public async Task F05_ICResp_with_bad_MAXH2CDATA_or_CPDA_fails_the_connect(int offset, uint value)
    {
        await using var target = await StartAsync();
        var bytes = offset == IcRespCpdaOffset ? Bytes((byte)value) : UInt32(value);
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.ICResp, Action = NvmeFaultAction.Patch, Offset = offset, Bytes = bytes });
        var error = await OutcomeAsync(NvmeController.ConnectAsync(ClientOptions(target)));
        Assert.IsType<NvmeTcpProtocolException>(error);
        target.Testing.Faults.Clear();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 5 (second half): a huge MAXH2CDATA is accepted and caps nothing it should not.
    [Fact]
    public async Task F05_huge_MAXH2CDATA_is_accepted_without_sizing_allocations_by_it()
    {
        await using var target = await StartAsync();
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.ICResp, Action = NvmeFaultAction.Patch, Offset = IcRespMaxH2CDataOffset, Bytes = UInt32(0xFFFFFFFC), Count = int.MaxValue });
        var before = GC.GetTotalAllocatedBytes(true);
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        Assert.True(GC.GetTotalAllocatedBytes(true) - before < 256L << 20, "connect allocated by MAXH2CDATA");
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 8: the controller sends a host-direction or unknown PDU type.
    [Theory]
    [InlineData(0x04)]
    [InlineData(0x06)]
    [InlineData(0x00)]
    [InlineData(0x0A)]
    [InlineData(0xFF)]
    public async Task F08_host_direction_or_unknown_PDU_type_is_fatal_invalid_header_field(byte type)
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Patch, Offset = 0, Bytes = Bytes(type) },
            Flush);
        var protocol = AssertProtocol(error, InvalidHeaderField);
        Assert.Equal(0u, protocol.FatalErrorInformation);
    }

    // docs/FAULTS.md row 9: HLEN 255 (CVE-2025-21927), with and without header digests.
    [Theory]
    [InlineData(NvmeFaultPdu.CapsuleResp, false)]
    [InlineData(NvmeFaultPdu.CapsuleResp, true)]
    [InlineData(NvmeFaultPdu.C2HData, false)]
    [InlineData(NvmeFaultPdu.C2HData, true)]
    [InlineData(NvmeFaultPdu.R2T, true)]
    public async Task F09_HLEN_255_is_fatal_before_reading_past_the_header(NvmeFaultPdu pdu, bool headerDigest)
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = pdu, Action = NvmeFaultAction.Patch, Offset = HlenOffset, Bytes = Bytes(255) },
            pdu switch { NvmeFaultPdu.C2HData => (q, n) => Read(q, n), NvmeFaultPdu.R2T => R2TWrite, _ => Flush },
            headerDigest: headerDigest);
        var protocol = AssertProtocol(error, InvalidHeaderField);
        Assert.Equal((uint)HlenOffset, protocol.FatalErrorInformation);
    }

    // docs/FAULTS.md row 10: PLEN < HLEN, PLEN 0xFFFFFFFF, PLEN giving a CapsuleResp data.
    [Theory]
    [InlineData(NvmeFaultPdu.CapsuleResp, 8u)]
    [InlineData(NvmeFaultPdu.CapsuleResp, 0xFFFFFFFFu)]
    [InlineData(NvmeFaultPdu.CapsuleResp, 28u)]
    [InlineData(NvmeFaultPdu.C2HData, 0xFFFFFFFFu)]
    [InlineData(NvmeFaultPdu.R2T, 0xFFFFFFFFu)]
    public async Task F10_bad_PLEN_is_fatal_and_allocates_nothing_by_it(NvmeFaultPdu pdu, uint plen)
    {
        var before = GC.GetTotalAllocatedBytes(true);
        var error = await FatalOnQueue1Async(
            NvmeTargetFault.PatchUInt32(pdu, NvmeTargetFault.PlenOffset, plen, queueId: 1),
            pdu switch { NvmeFaultPdu.C2HData => (q, n) => Read(q, n), NvmeFaultPdu.R2T => R2TWrite, _ => Flush });
        Assert.IsType<NvmeTcpProtocolException>(error);
        Assert.True(GC.GetTotalAllocatedBytes(true) - before < 256L << 20, "memory was allocated by PLEN");
    }

    // docs/FAULTS.md row 11: PDO below HLEN, beyond PLEN, misaligned, or on a CapsuleResp neither 0 nor PLEN (PDO = PLEN
    // is a capsule without data, which receivers accept).
    [Theory]
    [InlineData(NvmeFaultPdu.C2HData, 8)]
    [InlineData(NvmeFaultPdu.C2HData, 255)]
    [InlineData(NvmeFaultPdu.C2HData, 26)]
    [InlineData(NvmeFaultPdu.CapsuleResp, 8)]
    public async Task F11_bad_PDO_is_fatal_invalid_header_field(NvmeFaultPdu pdu, byte pdo)
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = pdu, Action = NvmeFaultAction.Patch, Offset = PdoOffset, Bytes = Bytes(pdo) },
            pdu == NvmeFaultPdu.C2HData ? (q, n) => Read(q, n) : Flush);
        AssertProtocol(error, InvalidHeaderField);
    }

    // docs/FAULTS.md row 12: DDGST on a CapsuleResp or R2T, LAST on a CapsuleResp, SUCCESS without LAST on C2HData.
    [Theory]
    [InlineData(NvmeFaultPdu.CapsuleResp, 0x02)]
    [InlineData(NvmeFaultPdu.CapsuleResp, 0x04)]
    [InlineData(NvmeFaultPdu.R2T, 0x02)]
    [InlineData(NvmeFaultPdu.C2HData, 0x08)]
    public async Task F12_invalid_flags_for_the_PDU_type_are_fatal(NvmeFaultPdu pdu, byte flags)
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = pdu, Action = NvmeFaultAction.Patch, Offset = FlagsOffset, Bytes = Bytes(flags) },
            pdu switch { NvmeFaultPdu.C2HData => (q, n) => Read(q, n), NvmeFaultPdu.R2T => R2TWrite, _ => Flush });
        Assert.IsType<NvmeTcpProtocolException>(error);
    }

    // docs/FAULTS.md row 14: a header digest wrong by one bit.
    [Theory]
    [InlineData(NvmeFaultPdu.CapsuleResp)]
    [InlineData(NvmeFaultPdu.C2HData)]
    [InlineData(NvmeFaultPdu.R2T)]
    public async Task F14_header_digest_error_is_fatal_and_commands_work_after_reconnect(NvmeFaultPdu pdu)
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = pdu, Action = NvmeFaultAction.CorruptHeaderDigest },
            pdu switch { NvmeFaultPdu.C2HData => (q, n) => Read(q, n), NvmeFaultPdu.R2T => R2TWrite, _ => Flush },
            headerDigest: true);
        AssertProtocol(error, HeaderDigestError);
    }

    // docs/FAULTS.md row 16: a data digest error fails that read only, retryable; the connection stays up.
    [Fact]
    public async Task F16_data_digest_error_fails_only_that_read_and_the_connection_stays_up()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(Reconnecting(target, dataDigest: true)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var data = Pattern(16384, 16);
        await controller.IoQueues[0].WriteAsync(ns, 0, data).AsTask().WaitAsync(Bound);
        var controllerId = controller.ControllerId;
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.CorruptDataDigest });
        var error = await OutcomeAsync(Read(controller.IoQueues[0], ns));
        var transport = Assert.IsType<NvmeTransportException>(error);
        Assert.True(transport.IsRetryable);

        // The retry on the same association reads the right data.
        var back = new byte[data.Length];
        await controller.IoQueues[0].ReadAsync(ns, 0, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
        Assert.Equal(controllerId, controller.ControllerId);
        Assert.Equal(NvmeControllerState.Live, controller.State);
    }

    // docs/FAULTS.md row 18: a CQE for a CID never issued.
    [Fact]
    public async Task F18_completion_for_a_stale_CID_fails_the_association()
    {
        var error = await FatalOnQueue1Async(NvmeTargetFault.PatchUInt16(NvmeFaultPdu.CapsuleResp, NvmeTargetFault.CqeCidOffset, 0xBEEF, queueId: 1), Flush);
        var protocol = AssertProtocol(error, InvalidHeaderField);
        Assert.Equal(0xBEEF, protocol.CommandId);
    }

    // docs/FAULTS.md row 19: the CQE replayed after the command completed (its CID may be reused).
    [Fact]
    public async Task F19_duplicate_CQE_is_fatal_and_completes_no_other_command()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(Reconnecting(target)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var states = new ConcurrentQueue<NvmeControllerState>();
        controller.StateChanged += (_, e) => states.Enqueue(e.Current);
        var controllerId = controller.ControllerId;
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Duplicate });
        await OutcomeAsync(Flush(controller.IoQueues[0], ns));

        // Whatever was sent next on that queue either failed typed or waited for the reconnect; none took the replay.
        for (var i = 0; i < 200 && controller.ControllerId == controllerId; i++)
        {
            if (await OutcomeAsync(Flush(controller.IoQueues[0], ns)) is { } error)
            {
                Assert.IsAssignableFrom<NvmeException>(error);
            }

            await Task.Delay(10);
        }

        Assert.NotEqual(controllerId, controller.ControllerId);
        Assert.Contains(NvmeControllerState.Resetting, states);
        target.Testing.Faults.Clear();
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 20: a success CQE for a read before its data.
    [Fact]
    public async Task F20_success_before_the_data_of_a_read_is_a_sequence_error()
    {
        var error = await FatalOnQueue1Async(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.Drop }, (q, n) => Read(q, n));
        AssertProtocol(error, PduSequenceError);
    }

    // docs/FAULTS.md row 22: C2HData for a write or for a command with no data.
    [Fact]
    public async Task F22_C2HData_for_a_command_without_read_data_is_fatal()
    {
        var error = await FatalOnQueue1Async(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.InjectC2HData, Offset = 512 }, Flush);
        var protocol = AssertProtocol(error, InvalidHeaderField);
        Assert.Equal(8u, protocol.FatalErrorInformation);
    }

    // docs/FAULTS.md row 22 (unknown CID): C2HData naming a CID that is not outstanding.
    [Fact]
    public async Task F22_C2HData_for_an_unknown_CID_is_fatal()
    {
        var error = await FatalOnQueue1Async(NvmeTargetFault.PatchUInt16(NvmeFaultPdu.C2HData, 8, 0xBEEF, queueId: 1), (q, n) => Read(q, n));
        AssertProtocol(error, InvalidHeaderField);
    }

    // docs/FAULTS.md row 23: DATAO beyond the command's length; nothing is written outside the caller's buffer.
    [Fact]
    public async Task F23_DATAO_out_of_range_is_fatal_and_writes_nothing_outside_the_buffer()
    {
        var backing = new byte[3 * 16384];
        var error = await FatalOnQueue1Async(
            NvmeTargetFault.PatchUInt32(NvmeFaultPdu.C2HData, NvmeTargetFault.DataOffsetOffset, 16384 - 512, queueId: 1),
            (q, n) => q.ReadAsync(n, 0, backing.AsMemory(16384, 16384)).AsTask());
        AssertProtocol(error, DataTransferOutOfRange);
        Assert.All(backing[..16384], b => Assert.Equal(0, b));
        Assert.All(backing[32768..], b => Assert.Equal(0, b));
    }

    // docs/FAULTS.md row 24: C2HData chunks out of order (a gap), or one repeated (an overlap).
    [Theory]
    [InlineData(NvmeFaultAction.Reorder)]
    [InlineData(NvmeFaultAction.Duplicate)]
    public async Task F24_DATAO_not_following_the_data_received_is_a_sequence_error(NvmeFaultAction action)
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = action },
            (q, n) => Read(q, n),
            configure: o => o.C2HDataChunkSize = 4096);
        AssertProtocol(error, PduSequenceError);
    }

    // docs/FAULTS.md row 28: R2T naming a CID that is not outstanding.
    [Fact]
    public async Task F28_R2T_for_an_unknown_CID_is_fatal()
    {
        var error = await FatalOnQueue1Async(NvmeTargetFault.PatchUInt16(NvmeFaultPdu.R2T, 8, 0xBEEF, queueId: 1), R2TWrite);
        var protocol = AssertProtocol(error, InvalidHeaderField);
        Assert.Equal(8u, protocol.FatalErrorInformation);
    }

    // docs/FAULTS.md row 29: R2TL = 0.
    [Fact]
    public async Task F29_R2T_of_zero_length_is_fatal()
    {
        var error = await FatalOnQueue1Async(NvmeTargetFault.PatchUInt32(NvmeFaultPdu.R2T, NvmeTargetFault.DataLengthOffset, 0, queueId: 1), R2TWrite);
        AssertProtocol(error, InvalidHeaderField);
    }

    // docs/FAULTS.md row 30: R2TO+R2TL beyond the write; the host never reads past the caller's buffer.
    [Fact]
    public async Task F30_R2T_beyond_the_write_is_fatal_out_of_range()
    {
        var error = await FatalOnQueue1Async(NvmeTargetFault.PatchUInt32(NvmeFaultPdu.R2T, NvmeTargetFault.DataLengthOffset, 65536 + 4096, queueId: 1), R2TWrite);
        AssertProtocol(error, DataTransferOutOfRange);
    }

    // docs/FAULTS.md row 32: a second R2T while the first is being answered, with MAXR2T 0 (one R2T at a time). The
    // target asks for 16 KiB per R2T and sends the next one, in sequence and within the write, in the same segment as
    // the first.
    [Fact]
    public async Task F32_R2T_beyond_MAXR2T_is_fatal_R2T_limit_exceeded()
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.R2T, Action = NvmeFaultAction.AppendNextR2T },
            R2TWrite,
            configure: o => o.R2TSize = 16384);
        AssertProtocol(error, LimitExceeded);
    }

    // docs/FAULTS.md row 33: MAXH2CDATA 4096 and a 1 MiB write: every H2CData within it (the target checks each one).
    [Fact]
    public async Task F33_one_MiB_write_with_MAXH2CDATA_4096_is_sent_in_4_KiB_H2CData()
    {
        await using var target = await StartAsync(o => o.MaxH2CData = 4096);
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var data = Pattern(1 << 20, 33);
        await controller.IoQueues[0].WriteAsync(ns, 0, data).AsTask().WaitAsync(Bound);
        var back = new byte[data.Length];
        await controller.IoQueues[1].ReadAsync(ns, 0, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
        Assert.Empty(target.Testing.Violations);
    }

    // docs/FAULTS.md row 34: a valid C2HTermReq (each FES) mid-I/O.
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task F34_C2HTermReq_fails_pending_commands_with_its_FES(ushort fes)
    {
        var error = await FatalOnQueue1Async(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Terminate, Fes = fes, Fei = 20 }, Flush);
        var protocol = AssertProtocol(error, fes, sentByController: true);
        Assert.Equal(20u, protocol.FatalErrorInformation);
    }

    // docs/FAULTS.md row 35: a C2HTermReq with an unknown FES.
    [Fact]
    public async Task F35_C2HTermReq_with_unknown_FES_still_fails_typed_and_closes()
    {
        var error = await FatalOnQueue1Async(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Terminate, Fes = 0x7F }, Flush);
        Assert.IsType<NvmeTcpProtocolException>(error);
    }

    // docs/FAULTS.md row 36: the connection reset (RST) with many commands in flight on every queue.
    [Fact]
    public async Task F36_reset_with_commands_in_flight_completes_every_one_then_reconnects()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(Reconnecting(target)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var controllerId = controller.ControllerId;
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Ordinal = 3, Action = NvmeFaultAction.Reset });
        var commands = controller.IoQueues.SelectMany(q => Enumerable.Range(0, 16).Select(i => i % 2 == 0
            ? q.ReadAsync(ns, (ulong)(i * 8), new byte[4096]).AsTask()
            : q.WriteAsync(ns, (ulong)(i * 8), Pattern(4096, i)).AsTask())).ToArray();
        var failures = 0;
        foreach (var command in commands)
        {
            if (await OutcomeAsync(command) is { } error)
            {
                failures++;
                Assert.True(Assert.IsType<NvmeTransportException>(error).IsRetryable);
            }
        }

        Assert.True(failures > 0);
        target.Testing.Faults.Clear();
        await WaitForNewAssociationAsync(controller, controllerId);
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 37: the target goes silent (no FIN, no RST): detected by the command timeout.
    [Fact]
    public async Task F37_black_holed_target_is_detected_by_timeout_then_reconnects()
    {
        await using var target = await StartAsync();
        var options = Reconnecting(target);
        options.IoTimeout = TimeSpan.FromMilliseconds(500);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var controllerId = controller.ControllerId;
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.BlackHole });
        var pending = Enumerable.Range(0, 4).Select(_ => Flush(controller.IoQueues[0], ns)).ToArray();
        foreach (var command in pending)
        {
            if (await OutcomeAsync(command) is { } error)
            {
                Assert.True(error is NvmeTimeoutException or NvmeTransportException, error.ToString());
            }
        }

        Assert.IsType<NvmeTimeoutException>(await OutcomeAsync(pending[0]));
        target.Testing.Faults.Clear();
        await WaitForNewAssociationAsync(controller, controllerId);
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 38: FIN in the middle of a PDU header and in the middle of C2HData payload.
    [Theory]
    [InlineData(NvmeFaultPdu.CapsuleResp, 5)]
    [InlineData(NvmeFaultPdu.C2HData, 12)]
    [InlineData(NvmeFaultPdu.C2HData, 24 + 1000)]
    public async Task F38_FIN_mid_PDU_is_a_retryable_connection_loss(NvmeFaultPdu pdu, int sent)
    {
        var error = await FatalOnQueue1Async(
            new NvmeTargetFault { QueueId = 1, Pdu = pdu, Action = NvmeFaultAction.Close, Offset = sent },
            pdu == NvmeFaultPdu.C2HData ? (q, n) => Read(q, n) : Flush);
        Assert.True(Assert.IsType<NvmeTransportException>(error).IsRetryable);
    }

    // docs/FAULTS.md row 42: one command past the I/O timeout resets the association; the rest complete once.
    [Fact]
    public async Task F42_command_timeout_resets_the_association_and_others_complete_once()
    {
        // The target's clock never moves: the held CapsuleResp stays held however slow the machine is.
        await using var target = await StartAsync(o => o.TimeProvider = new FakeTimeProvider());
        var options = Reconnecting(target);
        options.IoTimeout = TimeSpan.FromMilliseconds(400);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var controllerId = controller.ControllerId;
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromSeconds(3) });
        var stuck = Flush(controller.IoQueues[0], ns);
        var others = controller.IoQueues.Select(q => q.ReadAsync(ns, 0, new byte[4096]).AsTask()).ToArray();
        Assert.IsType<NvmeTimeoutException>(await OutcomeAsync(stuck));
        foreach (var other in others)
        {
            if (await OutcomeAsync(other) is { } error)
            {
                Assert.IsAssignableFrom<NvmeException>(error);
            }
        }

        target.Testing.Faults.Clear();
        await WaitForNewAssociationAsync(controller, controllerId);
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 44: Dispose during I/O and during the ICReq of a reconnect.
    [Fact]
    public async Task F44_dispose_during_io_and_during_reconnect_ICReq_completes_everything()
    {
        await using var target = await StartAsync();
        var controller = await NvmeController.ConnectAsync(Reconnecting(target)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);

        // The association fails; the reconnect's ICResp never comes.
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.ICResp, Action = NvmeFaultAction.BlackHole, Count = int.MaxValue });
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromSeconds(2), Count = int.MaxValue });
        var inFlight = controller.IoQueues.SelectMany(q => Enumerable.Range(0, 8).Select(i => q.ReadAsync(ns, (ulong)i, new byte[512]).AsTask())).ToArray();
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 2, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Reset });
        for (var i = 0; i < 200 && controller.State == NvmeControllerState.Live; i++)
        {
            await Task.Delay(10);
        }

        var waiting = Flush(controller.IoQueues[0], ns);
        await controller.DisposeAsync().AsTask().WaitAsync(Bound);
        Assert.Equal(NvmeControllerState.Deleted, controller.State);
        foreach (var command in inFlight.Append(waiting))
        {
            if (await OutcomeAsync(command) is { } error)
            {
                Assert.True(error is NvmeException or OperationCanceledException or ObjectDisposedException, error.ToString());
            }
        }

        target.Testing.Faults.Clear();
        await using var next = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        await AssertUsableAsync(next);
    }
}
