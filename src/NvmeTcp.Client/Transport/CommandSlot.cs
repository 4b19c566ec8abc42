using System.Threading.Tasks.Sources;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Transport;

/// <summary>What a slot needs from the queue it belongs to.</summary>
internal interface ICommandSlotOwner
{
    /// <summary>The queue ID, for messages.</summary>
    public ushort QueueId { get; }

    /// <summary>The receive loop completed the slot: its caller is signalled with the rest of this socket read's.</summary>
    public void DeferCompletion(CommandSlot slot);

    /// <summary>Both lifetimes of the slot ended: it may carry a new command.</summary>
    public void ReturnSlot(CommandSlot slot);
}

/// <summary>
/// One command in flight on a queue: its CID, its buffers and transfer progress, and the reusable
/// <see cref="IValueTaskSource"/> its caller awaits. Slots live in a fixed array indexed by the low 12 bits of the CID;
/// the high 4 bits are a generation bumped at every reuse, so a late or duplicated completion for an earlier use of the
/// slot is recognised as stale (as Linux's <c>nvme_cid</c> does).
/// </summary>
/// <remarks>
/// <para>Two lifetimes meet here. The wire's ends when the controller has completed the CID (or the connection is
/// gone); the caller's when it has taken its result. The slot is reused only when both have ended.</para>
/// <para>Everything that can happen concurrently is one state word, <see cref="_state"/>, changed only by
/// compare-and-swap (<see cref="Transition"/>). Exactly one of wire completion, cancellation and connection failure
/// decides the outcome; the caller is released only once no loop uses its buffer (and, for a cancelled write, once all
/// data a controller may still ask for went out), so a cancelled or failed command never hands back memory a socket
/// could still use. <see cref="GetResult(short)"/> checks its token and that the result is there before touching
/// anything, as the runtime's own sources do.</para>
/// </remarks>
internal sealed class CommandSlot : IValueTaskSource<Cqe>, IValueTaskSource, IThreadPoolWorkItem
{
    /// <summary>Bits of the CID that index the slot.</summary>
    public const int IndexBits = 12;

    /// <summary>The most slots a queue may have.</summary>
    public const int MaxSlots = 1 << IndexBits;

    private readonly ICommandSlotOwner _owner;
    private ManualResetValueTaskSourceCore<Cqe> _core;
    private int _state = (int)SlotState.Free;
    private int _dataSent;
    private int _r2tsUnanswered;
    private Cqe _wireResult;
    private Exception? _wireError;
    private Exception? _cancelError;
    private Exception? _connectionError;
    private CancellationTokenRegistration _cancellation;

    public CommandSlot(ICommandSlotOwner owner, ushort index)
    {
        _owner = owner;
        Index = index;

        // Continuations never run on a loop: completions from the wire are signalled in batches by the connection's
        // dispatcher, any other by a work item of the slot's own (see Release).
        _core.RunContinuationsAsynchronously = false;
    }

    /// <summary>The state word: flags, and in the bits above them the number of loops using the caller's buffer.</summary>
    [Flags]
    private enum SlotState
    {
        /// <summary>Nothing has happened to the command yet: it is outstanding and its caller waits.</summary>
        Outstanding = 0,

        /// <summary>In the free list.</summary>
        Free = 1 << 0,

        /// <summary>The capsule went to the send path's buffer: from here the controller may execute the command.</summary>
        Sent = 1 << 1,

        /// <summary>The CID is no longer outstanding: completed by the controller, never sent, or the connection is gone.</summary>
        WireDone = 1 << 2,

        /// <summary>The outcome is decided: the controller's result.</summary>
        ByWire = 1 << 3,

        /// <summary>The outcome is decided: the caller cancelled.</summary>
        ByCancellation = 1 << 4,

        /// <summary>The outcome is decided: the connection failed.</summary>
        ByConnection = 1 << 5,

        /// <summary>The caller's result is (being) delivered; no loop may touch its buffer from now on.</summary>
        Released = 1 << 6,

        /// <summary>The caller is taking its result (guards against a second, concurrent GetResult).</summary>
        Taking = 1 << 7,

        /// <summary>The caller took its result.</summary>
        Taken = 1 << 8,

        /// <summary>One loop using the caller's buffer; the count is kept from this bit up.</summary>
        OneUser = 1 << 9,

        /// <summary>Any decided outcome.</summary>
        Decided = ByWire | ByCancellation | ByConnection,

        /// <summary>The flags, without the user count.</summary>
        Flags = OneUser - 1,
    }

    /// <summary>The slot's index (low 12 bits of the CID).</summary>
    public ushort Index { get; }

    /// <summary>The generation (high 4 bits of the CID).</summary>
    public int Generation { get; private set; }

    /// <summary>The CID of the current use.</summary>
    public ushort Cid => (ushort)((Generation << IndexBits) | Index);

    /// <summary>The opcode, for messages.</summary>
    public byte Opcode { get; private set; }

    /// <summary>FCTYPE of a fabrics command, for messages.</summary>
    public byte FabricsType { get; private set; }

    /// <summary>The command's name, for messages.</summary>
    public string Name => Kind == CommandKind.Fabrics ? CommandNames.OfFabrics(FabricsType) : CommandNames.Of(Kind, Opcode);

    /// <summary>What kind of command, for status names.</summary>
    public CommandKind Kind { get; private set; }

    /// <summary>Where C2HData goes (reads); empty for other commands.</summary>
    public Memory<byte> ReadBuffer { get; private set; }

    /// <summary>The command's write data, in-capsule or fetched by R2T; empty when it sends none.</summary>
    public ReadOnlyMemory<byte> WriteData { get; private set; }

    /// <summary>Whether <see cref="WriteData"/> travels in the capsule.</summary>
    public bool InCapsule { get; private set; }

    /// <summary>Bytes of C2HData received so far: the next DATAO must equal it (receive loop only).</summary>
    public int DataReceived { get; set; }

    /// <summary>Bytes requested by R2Ts so far: the next R2TO must equal it (receive loop only).</summary>
    public int DataRequested { get; set; }

    /// <summary>Bytes of write data handed to the socket so far.</summary>
    public int DataSent => Volatile.Read(ref _dataSent);

    /// <summary>R2Ts whose H2CData has not yet been handed to the socket.</summary>
    public int R2TsUnanswered => Volatile.Read(ref _r2tsUnanswered);

    /// <summary>A C2HData failed its data digest: the command fails with a retryable error when it completes.</summary>
    public bool DataDigestFailed { get; set; }

    /// <summary>The command's timeout, for messages.</summary>
    public TimeSpan Timeout { get; private set; }

    /// <summary>When the command times out, as a <see cref="TimeProvider"/> timestamp; <see cref="long.MaxValue"/> for never.</summary>
    public long Deadline { get; private set; }

    /// <summary>Whether the CID is outstanding at the controller: its capsule went out, and it has not completed.</summary>
    public bool InFlight => (State & (SlotState.Sent | SlotState.Free | SlotState.WireDone)) == SlotState.Sent;

    /// <summary>Whether the slot carries a command not yet completed, sent or still queued (what a timeout watches).</summary>
    public bool IsOutstanding => (State & (SlotState.Free | SlotState.WireDone)) == 0;

    /// <summary>Whether the caller's result is decided and delivered (or on its way): no loop touches its buffer any more.</summary>
    public bool IsReleased => (State & SlotState.Released) != 0;

    /// <summary>Whether this command moves data from the controller to the host.</summary>
    public bool IsRead => !ReadBuffer.IsEmpty;

    /// <summary>Whether this command's data moves by R2T/H2CData.</summary>
    public bool IsR2TWrite => !WriteData.IsEmpty && !InCapsule;

    /// <summary>The caller's token for the current use.</summary>
    public short Version => _core.Version;

    private SlotState State => (SlotState)Volatile.Read(ref _state);

    /// <summary>Prepares the slot, taken from the free list, for a new command.</summary>
    public void Start(byte opcode, byte fabricsType, CommandKind kind, Memory<byte> readBuffer, ReadOnlyMemory<byte> writeData, bool inCapsule, TimeSpan timeout, long deadline)
    {
        Opcode = opcode;
        FabricsType = fabricsType;
        Kind = kind;
        ReadBuffer = readBuffer;
        WriteData = writeData;
        InCapsule = inCapsule;
        DataReceived = 0;
        DataRequested = 0;
        DataDigestFailed = false;
        Timeout = timeout;
        Deadline = deadline;
        _dataSent = 0;
        _r2tsUnanswered = 0;
        _wireResult = default;
        _wireError = null;
        _cancelError = null;
        _connectionError = null;
        Volatile.Write(ref _state, (int)SlotState.Outstanding);
    }

    /// <summary>Registers the caller's cancellation once the command is submitted.</summary>
    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((CommandSlot)state!).Cancel(token), this);
        }
    }

    /// <summary>
    /// The send path is about to put the capsule in its buffer; with <paramref name="enterBuffer"/> it also takes the
    /// caller's buffer (in-capsule data follows the header), as <see cref="EnterBuffer"/> does. False when the caller
    /// cancelled first: the command is withdrawn, never reaches the controller, and its CID is free once the caller
    /// has its result.
    /// </summary>
    public bool TryMarkSent(bool enterBuffer)
    {
        var taken = enterBuffer ? (int)SlotState.Sent + (int)SlotState.OneUser : (int)SlotState.Sent;
        while (true)
        {
            var state = State;
            var withdrawn = (state & SlotState.ByCancellation) != 0;
            var next = withdrawn ? state | SlotState.WireDone : state + taken;
            if (Interlocked.CompareExchange(ref _state, (int)next, (int)state) != (int)state)
            {
                continue;
            }

            if (withdrawn)
            {
                RecycleIfDone(next);
            }

            return !withdrawn;
        }
    }

    /// <summary>
    /// A loop is about to touch the buffer of command <paramref name="cid"/>. False when it must not: that command is no
    /// longer the slot's, its caller was released, or (<paramref name="evenIfCancelled"/> false, for reads) it gave up
    /// on the command, whose data is then discarded. While entered, the caller is not released and the slot not reused.
    /// </summary>
    public bool EnterBuffer(ushort cid, bool evenIfCancelled)
    {
        while (true)
        {
            var state = State;
            if ((state & (SlotState.Released | SlotState.Free)) != 0 || (!evenIfCancelled && (state & SlotState.ByCancellation) != 0))
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _state, (int)(state + (int)SlotState.OneUser), (int)state) == (int)state)
            {
                // Entered: this use of the slot cannot end before ExitBuffer, so its CID is stable; is it the one meant?
                if (Cid == cid)
                {
                    return true;
                }

                ExitBuffer();
                return false;
            }
        }
    }

    /// <summary>A loop is done with the caller's buffer; a release waiting for it happens now.</summary>
    public void ExitBuffer()
    {
        var state = (SlotState)Interlocked.Add(ref _state, -(int)SlotState.OneUser);
        TryRelease(state);
    }

    /// <summary>The send path handed <paramref name="bytes"/> more of the write data to the socket.</summary>
    public void OnDataSent(int bytes)
    {
        Interlocked.Add(ref _dataSent, bytes);
        TryRelease(State);
    }

    /// <summary>An R2T was accepted for this command.</summary>
    public void OnR2TAccepted() => Interlocked.Increment(ref _r2tsUnanswered);

    /// <summary>All H2CData answering one R2T were handed to the socket.</summary>
    public void OnR2TAnswered() => Interlocked.Decrement(ref _r2tsUnanswered);

    /// <summary>
    /// The controller completed the command (CapsuleResp, or C2HData with SUCCESS). Receive loop only, and only for a
    /// command <see cref="InFlight"/>: the loop refuses a CID that is not as a protocol violation before it gets here.
    /// </summary>
    public void CompleteFromWire(in Cqe cqe)
    {
        var status = cqe.Status;
        _wireError = !status.IsSuccess
            ? new NvmeStatusException(status, _owner.QueueId, cqe.Cid, Opcode, Name, cqe.Dw0, status.NameFor(Kind))
            : DataDigestFailed
                ? new NvmeTransportException($"Data digest mismatch in the data of {Name} on queue {_owner.QueueId} (CID {cqe.Cid}); the data was discarded.", _owner.QueueId, isRetryable: true)
                : null;

        // Written before the transition that publishes them; read only by whoever finds ByWire set.
        _wireResult = cqe;
        var after = Transition(static s => (s & SlotState.Decided) == 0 ? s | SlotState.WireDone | SlotState.ByWire : s | SlotState.WireDone);
        TryRelease(after, fromReceiveLoop: true);
        RecycleIfDone(after);
    }

    /// <summary>The connection is gone and the CID will never complete. Called only once both loops stopped.</summary>
    public void FailFromConnection(Exception error)
    {
        if (!IsOutstanding)
        {
            return;
        }

        _connectionError = error;
        var after = Transition(static s => (s & SlotState.Decided) == 0 ? s | SlotState.WireDone | SlotState.ByConnection : s | SlotState.WireDone);
        TryRelease(after);
        RecycleIfDone(after);
    }

    // The caller gave up. The first to decide wins: a command already completed keeps its result.
    private void Cancel(CancellationToken token)
    {
        if ((State & (SlotState.Decided | SlotState.Free)) != 0)
        {
            return;
        }

        _cancelError = new OperationCanceledException(
            $"{Name} on queue {_owner.QueueId} (CID {Cid}) was cancelled; it may still complete at the controller.",
            token);
        while (true)
        {
            var state = State;
            if ((state & (SlotState.Decided | SlotState.Free)) != 0)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _state, (int)(state | SlotState.ByCancellation), (int)state) == (int)state)
            {
                TryRelease(state | SlotState.ByCancellation);
                return;
            }
        }
    }

    // Releases the caller once the outcome is decided and nothing holds its buffer. A cancelled write whose capsule went
    // out keeps its caller until all its data did too: the controller may still ask for it by R2T.
    private void TryRelease(SlotState state, bool fromReceiveLoop = false)
    {
        while (true)
        {
            if ((state & SlotState.Decided) == 0 || (state & SlotState.Released) != 0 || state >= SlotState.OneUser)
            {
                return;
            }

            if ((state & (SlotState.ByCancellation | SlotState.Sent | SlotState.WireDone)) == (SlotState.ByCancellation | SlotState.Sent)
                && IsR2TWrite && DataSent < WriteData.Length)
            {
                return;
            }

            var seen = (SlotState)Interlocked.CompareExchange(ref _state, (int)(state | SlotState.Released), (int)state);
            if (seen == state)
            {
                _cancellation.Unregister();
                _cancellation = default;
                if (fromReceiveLoop)
                {
                    _owner.DeferCompletion(this);
                }
                else
                {
                    ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                }

                return;
            }

            state = seen;
        }
    }

    /// <summary>Hands the result to the caller, running its continuation inline on the dispatching thread.</summary>
    public void Signal()
    {
        var state = State;
        if ((state & SlotState.ByWire) != 0)
        {
            if (_wireError is { } wireError)
            {
                _core.SetException(wireError);
            }
            else
            {
                _core.SetResult(_wireResult);
            }
        }
        else
        {
            _core.SetException((state & SlotState.ByCancellation) != 0 ? _cancelError! : _connectionError!);
        }
    }

    /// <inheritdoc/>
    void IThreadPoolWorkItem.Execute() => Signal();

    // Each use of the slot ends once, from whichever side finished last.
    private void RecycleIfDone(SlotState state)
    {
        if ((state & (SlotState.WireDone | SlotState.Taken | SlotState.Free)) != (SlotState.WireDone | SlotState.Taken)
            || Interlocked.CompareExchange(ref _state, (int)SlotState.Free, (int)state) != (int)state)
        {
            return;
        }

        ReadBuffer = default;
        WriteData = default;
        _wireError = null;
        _cancelError = null;
        _connectionError = null;
        Generation = (Generation + 1) & 0xF;
        _core.Reset();
        _owner.ReturnSlot(this);
    }

    // Applies `change` atomically to the state word; returns the state it left (unchanged when `change` returns it as is).
    private SlotState Transition(Func<SlotState, SlotState> change)
    {
        while (true)
        {
            var state = State;
            var next = change(state);
            if (next == state || Interlocked.CompareExchange(ref _state, (int)next, (int)state) == (int)state)
            {
                return next;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <inheritdoc/>
    public Cqe GetResult(short token)
    {
        // A wrong token, a result not there yet or already taken: refuse before changing anything.
        if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            throw new InvalidOperationException($"The command on queue {_owner.QueueId} has not completed; await it instead of reading its result.");
        }

        while (true)
        {
            var state = State;
            if ((state & (SlotState.Taking | SlotState.Free)) != 0 || token != _core.Version)
            {
                throw new InvalidOperationException($"The result of the command on queue {_owner.QueueId} was already taken.");
            }

            if (Interlocked.CompareExchange(ref _state, (int)(state | SlotState.Taking), (int)state) == (int)state)
            {
                break;
            }
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            RecycleIfDone(Transition(static s => s | SlotState.Taken));
        }
    }

    /// <inheritdoc/>
    void IValueTaskSource.GetResult(short token) => GetResult(token);
}
