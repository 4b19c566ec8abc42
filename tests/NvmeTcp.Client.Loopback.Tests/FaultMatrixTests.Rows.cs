using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>Rows 17, 27, 40, 41, 46 and the authentication rows: framing, late data, controller fatal status, queue counts, retry ordering.</summary>
public sealed partial class FaultMatrixTests
{
    // Forces a new association: the next CapsuleResp on queue 1 is replaced by a reset (RST).
    private static async Task ResetAssociationAsync(NvmeTcpTarget target, NvmeController controller)
    {
        var controllerId = controller.ControllerId;
        var queue = controller.IoQueues.First(q => q.QueueId == 1);
        var reset = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Reset });
        await OutcomeAsync(Flush(queue, controller.GetNamespace(1)));
        target.Testing.Faults.Remove(reset);
        await WaitForNewAssociationAsync(controller, controllerId);
    }

    // A rule that changes nothing and counts the ICResps sent: one per connection attempt, admin or I/O.
    private static NvmeTargetFault CountConnections(NvmeTcpTarget target) =>
        target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.ICResp, Action = NvmeFaultAction.Delay, Delay = TimeSpan.Zero, Count = int.MaxValue });

    // docs/FAULTS.md row 17: every PDU type split at every byte of its header and digests (two TCP segments a
    // millisecond apart), and many PDUs coalesced in one segment: the same results as an unsplit stream, on the same
    // association.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task F17_PDUs_split_at_every_byte_or_coalesced_give_the_same_results(bool digests)
    {
        await using var target = await StartAsync(o => o.C2HDataChunkSize = 2048);
        await using var controller = await NvmeController.ConnectAsync(Reconnecting(target, digests, digests)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var queue = controller.IoQueues[0];
        var controllerId = controller.ControllerId;
        var data = Pattern(16384, 17);
        await queue.WriteAsync(ns, 0, data).AsTask().WaitAsync(Bound);

        var digest = digests ? 4 : 0;
        var cases = new List<(NvmeFaultPdu Pdu, int Length)>
        {
            (NvmeFaultPdu.CapsuleResp, 24 + digest),
            (NvmeFaultPdu.R2T, 24 + digest),

            // C2HData of 2048 bytes: header, header digest, padding up to PDO, the data, the data digest.
            (NvmeFaultPdu.C2HData, 24 + digest + 2048 + digest),
        };
        var splits = 0;
        foreach (var (pdu, length) in cases)
        {
            // Every byte of the header and digests; inside the data, its first and last few bytes.
            var points = Enumerable.Range(1, length - 1).Where(k => k <= 40 || k >= length - 12);
            foreach (var at in points)
            {
                var split = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = pdu, Action = NvmeFaultAction.Split, Offset = at, Delay = TimeSpan.FromMilliseconds(1) });
                if (pdu == NvmeFaultPdu.R2T)
                {
                    await queue.WriteAsync(ns, 64, data).AsTask().WaitAsync(Bound);
                }
                else if (pdu == NvmeFaultPdu.C2HData)
                {
                    var back = new byte[2048];
                    await queue.ReadAsync(ns, 0, back).AsTask().WaitAsync(Bound);
                    Assert.Equal(data[..2048], back);
                }
                else
                {
                    await Flush(queue, ns).WaitAsync(Bound);
                }

                Assert.Equal(1, split.Applied);
                target.Testing.Faults.Remove(split);
                splits++;
            }
        }

        // Coalesced: 32 reads at once, each in eight 2 KiB C2HData, leave the target in as few writes as fit in 64 KiB.
        var reads = Enumerable.Range(0, 32).Select(_ => new byte[data.Length]).ToArray();
        await Task.WhenAll(reads.Select(b => queue.ReadAsync(ns, 0, b).AsTask())).WaitAsync(Bound);
        Assert.All(reads, b => Assert.Equal(data, b));

        Assert.True(splits >= 98, $"{splits} splits");
        Assert.Equal(controllerId, controller.ControllerId);
        Assert.Empty(target.Testing.Violations);
    }

    // docs/FAULTS.md row 27: C2HData for a command after its completion (after its CapsuleResp, or after a C2HData with
    // SUCCESS): fatal, FES 1 at CCCID, and nothing written into the completed read's buffer.
    [Theory]
    [InlineData(NvmeC2HSuccessPolicy.Never)]
    [InlineData(NvmeC2HSuccessPolicy.Always)]
    public async Task F27_C2HData_after_the_command_completed_is_fatal_and_touches_no_buffer(NvmeC2HSuccessPolicy success)
    {
        await using var target = await StartAsync(o => o.C2HSuccess = success);
        await using var controller = await NvmeController.ConnectAsync(Reconnecting(target)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var data = Pattern(16384, 27);
        await controller.IoQueues[0].WriteAsync(ns, 0, data).AsTask().WaitAsync(Bound);
        var controllerId = controller.ControllerId;
        var reasons = new ConcurrentQueue<Exception?>();
        controller.StateChanged += (_, e) =>
        {
            if (e.Current == NvmeControllerState.Resetting)
            {
                reasons.Enqueue(e.Reason);
            }
        };

        // The read completes (its CapsuleResp, or its C2HData with SUCCESS); then zeros arrive for its CID.
        var fault = success == NvmeC2HSuccessPolicy.Never
            ? new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.AppendC2HData, Offset = 512 }
            : new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.Duplicate };
        target.Testing.Faults.Add(fault);
        var back = new byte[data.Length];
        var error = await OutcomeAsync(controller.IoQueues[0].ReadAsync(ns, 0, back).AsTask());
        Assert.Null(error);
        Assert.Equal(data, back);
        await WaitForNewAssociationAsync(controller, controllerId);
        target.Testing.Faults.Clear();

        Assert.Equal(data, back);
        Assert.True(reasons.TryPeek(out var reason), "no reset");
        var protocol = AssertProtocol(reason, InvalidHeaderField);
        Assert.Equal(8u, protocol.FatalErrorInformation);
        await AssertUsableAsync(controller);
    }

    // docs/FAULTS.md row 40: the controller reports a fatal status (CSTS.CFS, association deleted) again and again,
    // while the host is connected and while it reconnects (each bring-up then meets CSTS.CFS at CC.EN): no deadlock,
    // and the controller ends live once the target recovers.
    [Fact]
    public async Task F40_controller_fatal_status_repeatedly_while_connected_and_connecting_ends_live()
    {
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(Reconnecting(target)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var attempts = CountConnections(target);
        for (var round = 0; round < 3; round++)
        {
            var controllerId = controller.ControllerId;
            var before = attempts.Applied;
            var inFlight = controller.IoQueues.Select(q => q.ReadAsync(ns, 0, new byte[4096]).AsTask()).ToArray();
            target.Testing.SetControllersFatal(Nqn, fatal: true);

            // Bring-ups fail at CC.EN (CSTS.CFS), before any I/O queue, and are retried every ReconnectDelay (100 ms).
            for (var i = 0; i < 400 && attempts.Applied - before < 3; i++)
            {
                await Task.Delay(10);
            }

            var failedBringUps = attempts.Applied - before;
            var waiting = controller.IoQueues[round % 2].WriteAsync(ns, 8, Pattern(4096, round)).AsTask();
            target.Testing.SetControllersFatal(Nqn, fatal: false);
            foreach (var command in inFlight.Append(waiting))
            {
                if (await OutcomeAsync(command) is { } error)
                {
                    Assert.True(Assert.IsType<NvmeTransportException>(error).IsRetryable);
                }
            }

            Assert.True(failedBringUps >= 3, $"{failedBringUps} bring-ups while the controller was fatal");

            await WaitForNewAssociationAsync(controller, controllerId);
            await AssertUsableAsync(controller);
        }
    }

    // docs/FAULTS.md row 40 (the other end): the controller stays fatal past ctrl_loss_tmo: deleted, nothing hangs.
    [Fact]
    public async Task F40_controller_fatal_status_past_ctrl_loss_tmo_deletes_the_controller()
    {
        await using var target = await StartAsync();
        var options = Reconnecting(target);
        options.ControllerLossTimeout = TimeSpan.FromMilliseconds(600);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        target.Testing.SetControllersFatal(Nqn, fatal: true);
        for (var i = 0; i < 400 && controller.State != NvmeControllerState.Deleted; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(NvmeControllerState.Deleted, controller.State);
        var error = await OutcomeAsync(Flush(controller.IoQueues[0], controller.GetNamespace(1)));
        Assert.False(Assert.IsType<NvmeTransportException>(error).IsRetryable);
    }

    // docs/FAULTS.md row 41: the I/O queues granted shrink and grow between associations (qid_max 2 -> 4 -> 1 -> 2, as
    // blktests nvme/048): the reconnect follows the grant, the caller keeps its four queue pairs, and each works.
    [Fact]
    public async Task F41_queue_count_follows_the_grant_when_it_shrinks_and_grows_on_reconnect()
    {
        await using var target = await StartAsync(subsystem: s => s.MaxIoQueues = 2);
        var options = Reconnecting(target);
        options.IoQueueCount = 4;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var pairs = controller.IoQueues.ToArray();
        Assert.Equal(4, pairs.Length);
        await AssertGrantAsync(2);

        foreach (var grant in new[] { 4, 1, 2 })
        {
            target.SetMaxIoQueues(Nqn, grant);
            await ResetAssociationAsync(target, controller);
            await AssertGrantAsync(grant);
        }

        async Task AssertGrantAsync(int granted)
        {
            Assert.Equal(granted, controller.IoConnectionCount);
            Assert.Equal(pairs, controller.IoQueues);
            Assert.Equal(Enumerable.Range(1, granted).Select(q => (ushort)q), pairs.Select(p => p.QueueId).Distinct().Order());
            await AssertUsableAsync(controller);

            // The target sees the admin queue and one connection per granted queue (the old ones close shortly).
            for (var i = 0; i < 200 && target.ConnectionCount != granted + 1; i++)
            {
                await Task.Delay(10);
            }

            Assert.Equal(granted + 1, target.ConnectionCount);
        }
    }

    // docs/FAULTS.md row 46: a write whose completion is held past the I/O timeout. The policy: the timeout is
    // surfaced (NvmeTimeoutException) and the write is never sent again, on this association or the next; a later
    // write to the same blocks on the new association is what the blocks keep. The held completion never reaches the
    // host: the target drops it when the old association is torn down.
    [Fact]
    public async Task F46_timed_out_write_is_surfaced_and_never_resent_so_a_later_write_wins()
    {
        // The target's clock never moves: the completion stays held however slow the machine is.
        await using var target = await StartAsync(o => o.TimeProvider = new FakeTimeProvider());
        var options = Reconnecting(target);
        options.IoTimeout = TimeSpan.FromMilliseconds(300);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var controllerId = controller.ControllerId;
        var first = Pattern(4096, 461);
        var second = Pattern(4096, 462);
        var held = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromSeconds(1) });
        Assert.IsType<NvmeTimeoutException>(await OutcomeAsync(controller.IoQueues[0].WriteAsync(ns, 4096, first).AsTask()));
        target.Testing.Faults.Remove(held);
        Assert.Equal(1, held.Applied);
        await WaitForNewAssociationAsync(controller, controllerId);

        // Every connection of the old association has ended, the one holding the completion too: it can no longer
        // arrive, on any connection.
        await Eventually.TrueAsync(() => target.ConnectionCount == 1 + controller.IoConnectionCount, "the old association's connections to end");
        await controller.IoQueues[0].WriteAsync(ns, 4096, second).AsTask().WaitAsync(Bound);
        var back = new byte[4096];
        await controller.IoQueues[1].ReadAsync(ns, 4096, back).AsTask().WaitAsync(Bound);
        Assert.Equal(second, back);
        Assert.Equal(NvmeControllerState.Live, controller.State);
    }

    // docs/FAULTS.md rows 47-51: this library does no DH-HMAC-CHAP and no TLS. A controller that demands either in the
    // Connect response (AUTHREQ ATR or ASCR) at a reconnect ends the controller with a non-retryable error and no
    // further attempt: exactly one Connect is answered so.
    [Theory]
    [InlineData(0x02)]
    [InlineData(0x04)]
    public async Task F48_authentication_demanded_at_reconnect_deletes_without_retrying(byte authreq)
    {
        await using var target = await StartAsync();
        var options = Reconnecting(target);
        options.KeepAliveTimeout = TimeSpan.Zero;
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);

        // AUTHREQ is DW0 bits 16-31 of the Connect CQE: byte 10 of the CapsuleResp. Every admin response from now on.
        var attempts = CountConnections(target);
        var demand = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 0, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Patch, Offset = 10, Bytes = new byte[] { authreq }, Count = int.MaxValue });
        var states = new ConcurrentQueue<NvmeControllerStateChangedEventArgs>();
        controller.StateChanged += (_, e) => states.Enqueue(e);
        var reset = target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Reset });
        await OutcomeAsync(Flush(controller.IoQueues[0], controller.GetNamespace(1)));
        for (var i = 0; i < 400 && controller.State != NvmeControllerState.Deleted; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(NvmeControllerState.Deleted, controller.State);

        for (var i = 0; i < 100 && !states.Any(s => s.Current == NvmeControllerState.Deleted); i++)
        {
            await Task.Delay(10);
        }

        // Deleting is the recovery loop's last step, so the one attempt (an admin queue refused at its Connect) is all
        // there will ever be: no need to wait and see.
        Assert.True(demand.Applied >= 1);
        Assert.Equal(1, attempts.Applied);
        Assert.Equal(1, reset.Applied);
        var deleted = states.First(s => s.Current == NvmeControllerState.Deleted);
        var error = Assert.IsType<NvmeAuthenticationException>(deleted.Reason);
        Assert.False(error.IsTransient);
        Assert.Equal(authreq, error.Requirements);
        Assert.Contains("authentication", error.Message, StringComparison.Ordinal);
    }
}
