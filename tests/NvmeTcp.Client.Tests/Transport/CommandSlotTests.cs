using System.Threading.Tasks.Sources;
using NvmeTcp.Client.Transport;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Tests.Transport;

#pragma warning disable xUnit1031 // GetResult here is the value task source's own method, called as the runtime calls it: nothing blocks.

/// <summary>
/// The command slot alone, driven the way the transport drives it: one decision between completion, cancellation and
/// connection failure; the caller released only when nothing uses its buffer; the slot reused only when both the wire
/// and the caller are done; GetResult refusing a wrong token, a result not there yet, or a result already taken.
/// </summary>
public sealed class CommandSlotTests
{
    private static readonly Cqe Success = new(0x1234, 0, 0, 1, 0, NvmeStatus.Success);

    private sealed class Owner : ICommandSlotOwner
    {
        public ushort QueueId => 1;

        public List<CommandSlot> Deferred { get; } = [];

        public int Returned { get; private set; }

        public void DeferCompletion(CommandSlot slot) => Deferred.Add(slot);

        public void ReturnSlot(CommandSlot slot) => Returned++;

        // What the dispatcher does with the receive loop's completions.
        public void Dispatch()
        {
            foreach (var slot in Deferred)
            {
                slot.Signal();
            }

            Deferred.Clear();
        }
    }

    private static (Owner Owner, CommandSlot Slot) Started(byte[]? read = null, byte[]? write = null, bool inCapsule = false)
    {
        var owner = new Owner();
        var slot = new CommandSlot(owner, 3);
        slot.Start(0x02, 0, CommandKind.Io, read ?? default(Memory<byte>), write ?? default(ReadOnlyMemory<byte>), inCapsule, TimeSpan.FromSeconds(30), long.MaxValue);
        return (owner, slot);
    }

    private static Cqe CompletionOf(CommandSlot slot, NvmeStatus status = default) => Success with { Cid = slot.Cid, Status = status };

    // Waits for a completion signalled on the thread pool (cancellation, connection failure), bounded.
    private static async Task<T> ResultAsync<T>(ValueTask<T> pending) => await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task Completion_reaches_the_caller_and_then_frees_the_slot()
    {
        var (owner, slot) = Started();
        Assert.True(slot.TryMarkSent(enterBuffer: false));
        var pending = new ValueTask<Cqe>(slot, slot.Version);
        slot.CompleteFromWire(CompletionOf(slot));
        Assert.False(pending.IsCompleted);
        owner.Dispatch();
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal(0x1234u, (await pending).Dw0);
        Assert.Equal(1, owner.Returned);
        Assert.False(slot.InFlight);
    }

    [Fact]
    public async Task Cancel_then_complete_the_caller_keeps_its_cancellation_and_the_slot_waits_for_the_wire()
    {
        var (owner, slot) = Started();
        slot.TryMarkSent(enterBuffer: false);
        using var cancel = new CancellationTokenSource();
        slot.RegisterCancellation(cancel.Token);
        var pending = new ValueTask<Cqe>(slot, slot.Version);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ResultAsync(pending));

        // The CID is still outstanding at the controller: not reused until it completes.
        Assert.Equal(0, owner.Returned);
        Assert.True(slot.InFlight);
        slot.CompleteFromWire(CompletionOf(slot));
        Assert.Empty(owner.Deferred);
        Assert.Equal(1, owner.Returned);
    }

    [Fact]
    public async Task Complete_then_cancel_the_caller_gets_the_result()
    {
        var (owner, slot) = Started();
        slot.TryMarkSent(enterBuffer: false);
        using var cancel = new CancellationTokenSource();
        slot.RegisterCancellation(cancel.Token);
        var pending = new ValueTask<Cqe>(slot, slot.Version);
        slot.CompleteFromWire(CompletionOf(slot));
        await cancel.CancelAsync();
        owner.Dispatch();
        Assert.Equal(0x1234u, (await ResultAsync(pending)).Dw0);
    }

    [Fact]
    public async Task Cancelled_before_it_was_sent_the_command_is_withdrawn()
    {
        var (owner, slot) = Started();
        using var cancel = new CancellationTokenSource();
        slot.RegisterCancellation(cancel.Token);
        var pending = new ValueTask<Cqe>(slot, slot.Version);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ResultAsync(pending));
        Assert.False(slot.TryMarkSent(enterBuffer: false));
        Assert.Equal(1, owner.Returned);
    }

    [Fact]
    public async Task A_stale_generation_is_refused_by_the_buffer_guard()
    {
        var (owner, slot) = Started(read: new byte[512]);
        slot.TryMarkSent(enterBuffer: false);
        var first = slot.Cid;
        var pending = new ValueTask<Cqe>(slot, slot.Version);
        slot.CompleteFromWire(CompletionOf(slot));
        owner.Dispatch();
        await pending;

        // Reused for the next command: a loop still holding the old CID may not touch the new command's buffer.
        slot.Start(0x02, 0, CommandKind.Io, new byte[512], default, false, TimeSpan.FromSeconds(30), long.MaxValue);
        Assert.NotEqual(first, slot.Cid);
        Assert.Equal(first & 0xFFF, slot.Cid & 0xFFF);
        Assert.False(slot.EnterBuffer(first, evenIfCancelled: true));
        Assert.True(slot.EnterBuffer(slot.Cid, evenIfCancelled: true));
        slot.ExitBuffer();
    }

    [Fact]
    public void GetResult_before_completion_throws_and_changes_nothing()
    {
        var (owner, slot) = Started();
        slot.TryMarkSent(enterBuffer: false);
        var version = slot.Version;
        Assert.Throws<InvalidOperationException>(() => ((IValueTaskSource<Cqe>)slot).GetResult(version));
        Assert.Throws<InvalidOperationException>(() => ((IValueTaskSource<Cqe>)slot).GetResult(version));

        slot.CompleteFromWire(CompletionOf(slot));
        owner.Dispatch();
        Assert.Equal(0x1234u, ((IValueTaskSource<Cqe>)slot).GetResult(version).Dw0);
        Assert.Equal(1, owner.Returned);
    }

    [Fact]
    public async Task GetResult_twice_throws()
    {
        // Cancelled with the CID still outstanding: the slot is not reused yet, so the second call sees the same token.
        var (_, slot) = Started();
        slot.TryMarkSent(enterBuffer: false);
        using var cancel = new CancellationTokenSource();
        slot.RegisterCancellation(cancel.Token);
        var version = slot.Version;
        await cancel.CancelAsync();
        for (var i = 0; i < 1000 && slot.GetStatus(version) == ValueTaskSourceStatus.Pending; i++)
        {
            await Task.Delay(1);
        }

        Assert.Throws<OperationCanceledException>(() => ((IValueTaskSource<Cqe>)slot).GetResult(version));
        Assert.Throws<InvalidOperationException>(() => ((IValueTaskSource<Cqe>)slot).GetResult(version));
    }

    [Fact]
    public void GetResult_with_a_wrong_token_throws()
    {
        var (owner, slot) = Started();
        slot.TryMarkSent(enterBuffer: false);
        var version = slot.Version;
        slot.CompleteFromWire(CompletionOf(slot));
        owner.Dispatch();
        Assert.Throws<InvalidOperationException>(() => ((IValueTaskSource<Cqe>)slot).GetResult((short)(version + 1)));
        Assert.Equal(0x1234u, ((IValueTaskSource<Cqe>)slot).GetResult(version).Dw0);
    }

    [Fact]
    public async Task The_caller_of_a_read_is_released_only_when_the_receive_loop_leaves_its_buffer()
    {
        var buffer = new byte[512];
        var (owner, slot) = Started(read: buffer);
        slot.TryMarkSent(enterBuffer: false);
        Assert.True(slot.EnterBuffer(slot.Cid, evenIfCancelled: false));
        slot.FailFromConnection(new NvmeTransportException("gone"));
        var pending = new ValueTask<Cqe>(slot, slot.Version);
        Assert.False(slot.IsReleased);
        slot.ExitBuffer();
        Assert.True(slot.IsReleased);
        await Assert.ThrowsAsync<NvmeTransportException>(() => ResultAsync(pending));
        Assert.Equal(1, owner.Returned);
    }

    [Fact]
    public async Task A_cancelled_write_waits_until_the_data_a_controller_may_ask_for_has_gone_out()
    {
        var data = new byte[8192];
        var (_, slot) = Started(write: data);
        slot.TryMarkSent(enterBuffer: false);
        using var cancel = new CancellationTokenSource();
        slot.RegisterCancellation(cancel.Token);
        var pending = new ValueTask<Cqe>(slot, slot.Version);
        await cancel.CancelAsync();
        Assert.False(slot.IsReleased);
        slot.OnDataSent(4096);
        Assert.False(slot.IsReleased);
        slot.OnDataSent(4096);
        Assert.True(slot.IsReleased);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ResultAsync(pending));
    }
}
