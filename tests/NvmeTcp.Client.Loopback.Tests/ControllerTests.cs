using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>The client against the in-process target: bring-up, every command, every data path, concurrency, rejections.</summary>
public sealed class ControllerTests
{
    public static MatrixTheoryData<bool, bool, uint> DigestsAndNamespaces => new([false, true], [false, true], [1u, 2u]);

    [Fact]
    public async Task Bring_up_reads_what_the_target_was_configured_with()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target, queues: 3)).WaitAsync(Bound);
        Assert.Equal(Serial, controller.Identify.SerialNumber);
        Assert.Equal(Model, controller.Identify.ModelNumber);
        Assert.Equal(Nqn, controller.Identify.SubsystemNqn);
        Assert.Equal(3, controller.IoQueues.Count);
        Assert.Equal([1u, 2u], controller.Namespaces.Select(n => n.Id));
        Assert.Equal(512, controller.GetNamespace(1).BlockSize);
        Assert.Equal((ulong)(64L << 20) / 512, controller.GetNamespace(1).BlockCount);
        Assert.Equal(4096, controller.GetNamespace(2).BlockSize);
        Assert.NotEmpty(controller.GetNamespace(2).Descriptors);
        Assert.Equal(1, target.ControllerCount);
    }

    [Theory]
    [MemberData(nameof(DigestsAndNamespaces))]
    public async Task Every_transfer_size_reads_back_intact(bool headerDigest, bool dataDigest, uint namespaceId)
    {
        // Small MAXH2CDATA and R2T size: large writes need several R2Ts, each answered in several H2CData.
        await using var target = await StartAsync(o => { o.MaxH2CData = 4096; o.R2TSize = 16384; o.C2HDataChunkSize = 8192; });
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target, headerDigest: headerDigest, dataDigest: dataDigest)).WaitAsync(Bound);
        var ns = controller.GetNamespace(namespaceId);
        var queue = controller.IoQueues[0];
        var inCapsule = queue.InCapsuleDataSize / ns.BlockSize * ns.BlockSize;
        var sizes = new[] { ns.BlockSize, inCapsule - ns.BlockSize, inCapsule, inCapsule + ns.BlockSize, 64 << 10, 3 << 20 };
        foreach (var size in sizes.Where(s => s > 0).Distinct())
        {
            var data = Pattern(size, size);
            var back = new byte[size];
            await queue.WriteAsync(ns, 10, data).AsTask().WaitAsync(Bound);
            await controller.IoQueues[1].ReadAsync(ns, 10, back).AsTask().WaitAsync(Bound);
            Assert.True(data.AsSpan().SequenceEqual(back), $"{size} bytes");
        }

        Assert.Empty(target.Testing.Violations);
    }

    [Fact]
    public async Task Transfers_larger_than_MDTS_are_split()
    {
        // MDTS 3: 2^3 pages of 4 KiB = 32 KiB per command.
        await using var target = await StartAsync(subsystem: s => s.Mdts = 3);
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        Assert.Equal(32768, controller.MaxTransferSize);
        var ns = controller.GetNamespace(1);
        var data = Pattern(1 << 20, 3);
        var back = new byte[data.Length];
        await controller.IoQueues[0].WriteAsync(ns, 0, data).AsTask().WaitAsync(Bound);
        await controller.IoQueues[0].ReadAsync(ns, 0, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
        await controller.IoQueues[0].CompareAsync(ns, 0, data).AsTask().WaitAsync(Bound);
    }

    [Fact]
    public async Task Several_outstanding_R2Ts_with_MAXR2T_above_zero()
    {
        await using var target = await StartAsync(o => { o.MaxOutstandingR2Ts = 4; o.R2TSize = 8192; o.MaxH2CData = 4096; });
        var options = ClientOptions(target);
        options.MaxR2T = 3;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(2);
        var data = Pattern(256 << 10, 4);
        var back = new byte[data.Length];
        await controller.IoQueues[0].WriteAsync(ns, 0, data).AsTask().WaitAsync(Bound);
        await controller.IoQueues[0].ReadAsync(ns, 0, back).AsTask().WaitAsync(Bound);
        Assert.Equal(data, back);
        Assert.Empty(target.Testing.Violations);
    }

    [Fact]
    public async Task Compare_write_zeroes_deallocate_flush_and_passthrough()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var queue = controller.IoQueues[0];
        var data = Pattern(8192, 5);
        await queue.WriteAsync(ns, 100, data);
        await queue.CompareAsync(ns, 100, data);
        var other = (byte[])data.Clone();
        other[1000] ^= 1;
        var mismatch = await Assert.ThrowsAsync<NvmeStatusException>(async () => await queue.CompareAsync(ns, 100, other));
        Assert.Equal(NvmeStatusCodeType.MediaAndDataIntegrity, mismatch.Status.CodeType);
        Assert.Equal(0x85, mismatch.Status.Code);
        Assert.Contains("Compare Failure", mismatch.Message, StringComparison.Ordinal);

        await queue.FlushAsync(ns);
        await queue.WriteZeroesAsync(ns, 100, 8);
        var back = new byte[4096];
        await queue.ReadAsync(ns, 100, back);
        Assert.All(back, b => Assert.Equal(0, b));
        await queue.WriteAsync(ns, 200, data);
        await queue.DeallocateAsync(ns, [(200UL, 16u)]);
        await queue.ReadAsync(ns, 200, back);
        Assert.All(back, b => Assert.Equal(0, b));

        // Out of range: the target's LBA check, the client's typed status; the queue goes on.
        var range = await Assert.ThrowsAsync<NvmeStatusException>(async () => await queue.ReadAsync(ns, ns.BlockCount, new byte[512]));
        Assert.Equal(0x80, range.Status.Code);

        // I/O passthrough of a Read (opcode 02h): SLBA 100, NLB 0's based.
        var raw = new byte[512];
        await queue.IoPassthruAsync(new NvmeCommand { Opcode = 0x02, NamespaceId = 1, Cdw10 = 100 }, readBuffer: raw);
        Assert.All(raw, b => Assert.Equal(0, b));

        // Admin passthrough of Identify Controller (CNS 01h).
        var identify = new byte[4096];
        await controller.AdminPassthruAsync(new NvmeCommand { Opcode = 0x06, Cdw10 = 1 }, readBuffer: identify);
        Assert.Equal(controller.Identify.Raw.ToArray(), identify);
    }

    [Fact]
    public async Task Logs_and_features()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        var smart = await controller.GetSmartLogAsync();
        Assert.True(smart.CompositeTemperature > 0);
        var errors = await controller.GetErrorLogAsync();
        Assert.Equal(controller.Identify.Elpe + 1, errors.Count);
        var queues = await controller.GetFeatureAsync(0x07);
        Assert.Equal(controller.IoQueues.Count - 1, (int)(queues & 0xFFFF));
        await controller.SetFeatureAsync(0x0F, 10000);
        Assert.Equal(10000u, await controller.GetFeatureAsync(0x0F));
        Assert.Equal([1u, 2u], await controller.GetActiveNamespaceIdsAsync());
        var ns = await controller.IdentifyNamespaceAsync(2);
        Assert.Equal(4096, ns.BlockSize);
    }

    [Fact]
    public async Task Discovery_lists_the_target_subsystems_and_connects_to_an_entry()
    {
        await using var target = await StartAsync();
        var options = ClientOptions(target);
        var log = await NvmeDiscovery.GetLogAsync(options).WaitAsync(Bound);
        Assert.True(log.IsComplete);
        Assert.Equal(target.DiscoveryGenerationCounter, log.Header.Genctr);
        var entry = Assert.Single(log.Entries, e => e.SubsystemNqn == Nqn);
        Assert.Equal(NvmeTransportType.Tcp, entry.TransportType);
        Assert.Equal(target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), entry.TransportServiceId);
        await using var controller = await NvmeDiscovery.ConnectAsync(entry, options).WaitAsync(Bound);
        Assert.Equal(Nqn, controller.SubsystemNqn);
    }

    [Fact]
    public async Task Sixty_four_callers_on_four_queues_each_read_their_own_data()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target, queues: 4)).WaitAsync(Bound);
        var ns = controller.GetNamespace(2);
        var callers = Enumerable.Range(0, 64).Select(async caller =>
        {
            var queue = controller.NextIoQueue();
            for (var round = 0; round < 20; round++)
            {
                var data = Pattern(4096 * (1 + (round % 5)), caller * 1000 + round);
                var back = new byte[data.Length];
                var lba = (ulong)(caller * 8);
                await queue.WriteAsync(ns, lba, data);
                await queue.ReadAsync(ns, lba, back);
                Assert.True(data.AsSpan().SequenceEqual(back), $"caller {caller} round {round}");
            }
        });
        await Task.WhenAll(callers).WaitAsync(Bound);
        Assert.Empty(target.Testing.Violations);
    }

    [Fact]
    public async Task Unknown_subsystem_and_disallowed_host_are_typed_Connect_errors()
    {
        await using var target = await StartAsync();
        var options = ClientOptions(target);
        options.SubsystemNqn = "nqn.2026-11.dev.nvmetcp:nope";
        var unknown = await Assert.ThrowsAsync<NvmeStatusException>(() => NvmeController.ConnectAsync(options).WaitAsync(Bound));
        Assert.Equal(0x82, unknown.Status.Code);
        Assert.Equal("Connect Invalid Parameters", unknown.StatusName);
        Assert.Equal(0x00010100u, unknown.Dword0);

        options.SubsystemNqn = RestrictedNqn;
        var host = await Assert.ThrowsAsync<NvmeStatusException>(() => NvmeController.ConnectAsync(options).WaitAsync(Bound));
        Assert.Equal(0x84, host.Status.Code);
        Assert.Equal("Connect Invalid Host", host.StatusName);
        Assert.True(host.Status.DoNotRetry);

        options.HostNqn = AllowedHost;
        await using var allowed = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        Assert.Single(allowed.Namespaces);
    }

    [Fact]
    public async Task Unreachable_target_is_a_transport_error()
    {
        var options = new NvmeTcpOptions { Address = "127.0.0.1", Port = 1, SubsystemNqn = Nqn };
        var error = await Assert.ThrowsAsync<NvmeTransportException>(() => NvmeController.ConnectAsync(options).WaitAsync(Bound));
        Assert.Contains("127.0.0.1:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_waiting_for_a_full_queue_can_cancel_and_the_others_complete()
    {
        // The first two CapsuleResps on queue 1 are held on the target's clock, which only the test moves: both slots
        // stay busy, however slow the machine, until the test lets them go.
        var clock = new TestClock();
        await using var target = await StartAsync(o => o.TimeProvider = clock);
        var options = ClientOptions(target, queues: 1);
        options.IoQueueSize = 2;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var held = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromMilliseconds(300), Count = 2 });
        var ns = controller.GetNamespace(1);
        var queue = controller.IoQueues[0];
        var busy = Enumerable.Range(0, 2).Select(_ => queue.FlushAsync(ns).AsTask()).ToList();
        await clock.WaitForDelayAsync(TimeSpan.FromMilliseconds(300), "the first CapsuleResp to be held");
        using var cancel = new CancellationTokenSource();
        var waiting = queue.FlushAsync(ns, cancel.Token).AsTask();
        var later = queue.FlushAsync(ns).AsTask();
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Bound));
        Assert.All(busy.Append(later), t => Assert.False(t.IsCompleted));

        // The send loop holds one PDU at a time: the second waits behind the first.
        clock.Advance(TimeSpan.FromMilliseconds(300));
        await clock.WaitForDelayAsync(TimeSpan.FromMilliseconds(300), "the second CapsuleResp to be held", 2);
        clock.Advance(TimeSpan.FromMilliseconds(300));
        await Task.WhenAll(busy.Append(later)).WaitAsync(Bound);
        Assert.Equal(2, held.Applied);
    }

    [Fact]
    public async Task A_continuation_that_blocks_on_its_own_next_command_does_not_deadlock_the_queue()
    {
        // Continuations run in batches with the send path corked; one that waits synchronously for a command it just
        // submitted holds the cork. The timeout timer (a tick of CommandTimeout / 10, 100 ms here) takes the send path
        // over, so the command leaves and the wait ends: slow, never stuck.
        await using var target = await StartAsync();
        HoldFirstRead(target);
        var options = ClientOptions(target, queues: 1);
        options.IoTimeout = TimeSpan.FromSeconds(1);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var queue = controller.IoQueues[0];
        var buffer = new byte[512];
        var blocked = Task.Run(async () =>
        {
            await queue.ReadAsync(ns, 0, buffer);

            // Sync-over-async inside the continuation of the read above, the thing that must not deadlock.
#pragma warning disable xUnit1031
            return queue.FlushAsync(ns).AsTask().Wait(Bound);
#pragma warning restore xUnit1031
        });
        Assert.True(await blocked.WaitAsync(Bound));
        await queue.ReadAsync(ns, 0, buffer).AsTask().WaitAsync(Bound);
    }

    [Fact]
    public async Task A_continuation_blocked_on_its_own_command_gets_the_error_when_the_connection_fails()
    {
        // As above, but the connection fails before the timer takes the cork over (its tick is 1 s here): the cork
        // must not keep the blocked caller's command from failing.
        var target = await StartAsync();
        HoldFirstRead(target);
        var options = ClientOptions(target, queues: 1);
        options.ControllerLossTimeout = TimeSpan.Zero;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var queue = controller.IoQueues[0];
        var blocking = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocked = Task.Run(async () =>
        {
            await queue.ReadAsync(ns, 0, new byte[512]);

            // Should the machine stall past a timer tick (so the cork is taken over and the flush sent), the flush
            // still cannot succeed: its completion is dropped.
            target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Drop, Count = 1 });
            var flush = queue.FlushAsync(ns).AsTask();
            blocking.SetResult();
#pragma warning disable xUnit1031
            try
            {
                flush.Wait(Bound);
                return null;
            }
            catch (AggregateException e)
            {
                return e.InnerException;
            }
#pragma warning restore xUnit1031
        });
        await blocking.Task.WaitAsync(Bound);
        await target.DisposeAsync();
        var error = await blocked.WaitAsync(Bound);
        Assert.IsAssignableFrom<NvmeException>(error);
    }

    // The first read's data is held back, so that its caller is already waiting when it completes: its continuation then
    // runs in the dispatcher (corked), not inline on the caller's own thread.
    private static void HoldFirstRead(NvmeTcpTarget target) =>
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromMilliseconds(200), Count = 1 });
}
