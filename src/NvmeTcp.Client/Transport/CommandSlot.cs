using System.Threading.Tasks.Sources;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Transport;

/// <summary>
/// One command in flight on a queue: its CID, its buffers and transfer progress, and the reusable
/// <see cref="IValueTaskSource"/> its caller awaits. Slots live in a fixed array indexed by the low 12 bits of the CID;
/// the high 4 bits are a generation bumped at every reuse, so a late or duplicated completion for an earlier use of the
/// slot is recognised as stale (as Linux's <c>nvme_cid</c> does).
/// </summary>
/// <remarks>
/// Two lifetimes meet here. The caller's ends when the caller has its result; the wire's ends when the controller has
/// completed the CID (or the connection is gone). The slot is reused only when both have ended. The caller gets its
/// result only when no loop is touching its buffer (<see cref="EnterBuffer"/>), and a write's caller only once all its
/// data went to the socket, so a cancelled or failed command never hands back memory a socket could still use.
/// One state word, changed by compare-and-swap, holds the buffer users and the release flags, so "use the buffer" and
/// "release the caller" can never both win.
/// </remarks>
internal sealed class CommandSlot : IValueTaskSource<Cqe>, IValueTaskSource, IThreadPoolWorkItem
{
    /// <summary>Bits of the CID that index the slot.</summary>
    public const int IndexBits = 12;

    /// <summary>The most slots a queue may have.</summary>
    public const int MaxSlots = 1 << IndexBits;

    private const int Released = 1;
    private const int ReleaseWanted = 2;
    private const int OneUser = 256;

    private readonly QueueConnection _owner;
    private ManualResetValueTaskSourceCore<Cqe> _core;
    private int _sync;
    private int _abandoned;
    private int _wireDone;
    private int _callerDone;
    private int _dataSent;
    private int _r2tsUnanswered;
    private Exception? _pendingError;
    private Cqe _pendingResult;
    private CancellationTokenRegistration _cancellation;

    public CommandSlot(QueueConnection owner, ushort index)
    {
        _owner = owner;
        Index = index;
        _wireDone = 2; // free: not outstanding, nothing to recycle

        // Continuations never run on a loop: completions from the wire are signalled in batches by the connection's
        // dispatcher (a thread pool work item), any other completion by a work item of its own (see Deliver).
        _core.RunContinuationsAsynchronously = false;
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

    /// <summary>Bytes of C2HData received so far: the next DATAO must equal it.</summary>
    public int DataReceived { get; set; }

    /// <summary>Bytes requested by R2Ts so far: the next R2TO must equal it.</summary>
    public int DataRequested { get; set; }

    /// <summary>Bytes of write data handed to the socket so far.</summary>
    public int DataSent => Volatile.Read(ref _dataSent);

    /// <summary>R2Ts whose H2CData has not yet been handed to the socket.</summary>
    public int R2TsUnanswered => Volatile.Read(ref _r2tsUnanswered);

    /// <summary>A C2HData failed its data digest: the command fails with a retryable error when it completes.</summary>
    public bool DataDigestFailed { get; set; }

    /// <summary>The command's timeout, for messages.</summary>
    public TimeSpan Timeout { get; set; }

    /// <summary>When the command times out, in <see cref="Environment.TickCount64"/> milliseconds.</summary>
    public long Deadline { get; private set; }

    /// <summary>Whether the CID is outstanding at the controller.</summary>
    public bool InFlight => Volatile.Read(ref _wireDone) == 0;

    /// <summary>Whether this command moves data from the controller to the host.</summary>
    public bool IsRead => !ReadBuffer.IsEmpty;

    /// <summary>Whether this command's data moves by R2T/H2CData.</summary>
    public bool IsR2TWrite => !WriteData.IsEmpty && !InCapsule;

    /// <summary>The caller's token for the current use.</summary>
    public short Version => _core.Version;

    /// <summary>Prepares the slot for a new command (called with the slot taken from the free list).</summary>
    public void Start(byte opcode, byte fabricsType, CommandKind kind, Memory<byte> readBuffer, ReadOnlyMemory<byte> writeData, bool inCapsule, long deadline)
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
        Deadline = deadline;
        _dataSent = 0;
        _r2tsUnanswered = 0;
        _pendingError = null;
        _pendingResult = default;
        _sync = 0;
        _abandoned = 0;
        _callerDone = 0;
        Volatile.Write(ref _wireDone, 0);
    }

    /// <summary>Registers the caller's cancellation once the command is submitted.</summary>
    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((CommandSlot)state!).Abandon(token), this);
        }
    }

    /// <summary>
    /// A loop is about to touch the caller's buffer. False when it must not: the caller was released, or (for reads,
    /// <paramref name="evenIfAbandoned"/> false) gave up on the command, whose data is then discarded.
    /// </summary>
    public bool EnterBuffer(bool evenIfAbandoned)
    {
        while (true)
        {
            var state = Volatile.Read(ref _sync);
            if ((state & Released) != 0 || (!evenIfAbandoned && Volatile.Read(ref _abandoned) != 0))
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _sync, state + OneUser, state) == state)
            {
                return true;
            }
        }
    }

    /// <summary>A loop is done with the caller's buffer; a release waiting for it happens now.</summary>
    public void ExitBuffer()
    {
        while (true)
        {
            var state = Volatile.Read(ref _sync);
            var next = state - OneUser;
            var releaseNow = next < OneUser && (next & ReleaseWanted) != 0 && (next & Released) == 0;
            if (releaseNow)
            {
                next |= Released;
            }

            if (Interlocked.CompareExchange(ref _sync, next, state) == state)
            {
                if (releaseNow)
                {
                    DeliverToCaller();
                }

                return;
            }
        }
    }

    /// <summary>The send path handed <paramref name="bytes"/> more of the write data to the socket.</summary>
    public void OnDataSent(int bytes)
    {
        if (Interlocked.Add(ref _dataSent, bytes) >= WriteData.Length && Volatile.Read(ref _abandoned) != 0)
        {
            RequestRelease();
        }
    }

    /// <summary>An R2T was accepted for this command.</summary>
    public void OnR2TAccepted() => Interlocked.Increment(ref _r2tsUnanswered);

    /// <summary>All H2CData answering one R2T were handed to the socket.</summary>
    public void OnR2TAnswered() => Interlocked.Decrement(ref _r2tsUnanswered);

    /// <summary>The controller completed the command (CapsuleResp, or C2HData with SUCCESS).</summary>
    public void CompleteFromWire(in Cqe cqe)
    {
        var status = cqe.Status;
        if (!status.IsSuccess)
        {
            _pendingError = new NvmeStatusException(status, _owner.QueueId, cqe.Cid, Opcode, Name, cqe.Dw0, status.NameFor(Kind));
        }
        else if (DataDigestFailed)
        {
            _pendingError = new NvmeTransportException(
                $"Data digest mismatch in the data of {Name} on queue {_owner.QueueId} (CID {cqe.Cid}); the data was discarded.",
                _owner.QueueId,
                isRetryable: true);
        }

        _pendingResult = cqe;
        Volatile.Write(ref _wireDone, 1);
        RequestRelease(fromReceiveLoop: true);
        RecycleIfDone();
    }

    /// <summary>The connection is gone and the CID will never complete. Called only after both loops stopped.</summary>
    public void FailFromConnection(Exception error)
    {
        if (Interlocked.CompareExchange(ref _wireDone, 1, 0) != 0)
        {
            return;
        }

        // A caller that abandoned the command keeps its cancellation exception.
        _pendingError ??= error;
        RequestRelease();
        RecycleIfDone();
    }

    private void Abandon(CancellationToken token)
    {
        if (Interlocked.Exchange(ref _abandoned, 1) != 0 || Volatile.Read(ref _wireDone) != 0)
        {
            return;
        }

        _pendingError ??= new OperationCanceledException(
            $"{Name} on queue {_owner.QueueId} (CID {Cid}) was cancelled; it may still complete at the controller.",
            token);

        // A write's data may still be requested by R2T: its caller waits until all of it went to the socket.
        if (WriteData.IsEmpty || DataSent >= WriteData.Length)
        {
            RequestRelease();
        }
    }

    private void RequestRelease(bool fromReceiveLoop = false)
    {
        while (true)
        {
            var state = Volatile.Read(ref _sync);
            if ((state & Released) != 0)
            {
                return;
            }

            var users = state >= OneUser;
            var next = users ? state | ReleaseWanted : state | Released;
            if (Interlocked.CompareExchange(ref _sync, next, state) == state)
            {
                if (!users)
                {
                    DeliverToCaller(fromReceiveLoop);
                }

                return;
            }
        }
    }

    // The result is final: hand it to the caller, never on the calling loop's thread. The receive loop batches its
    // completions (one work item per socket read, not one per command); any other path queues this slot itself.
    private void DeliverToCaller(bool fromReceiveLoop = false)
    {
        _cancellation.Dispose();
        _cancellation = default;
        if (fromReceiveLoop)
        {
            _owner.DeferCompletion(this);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>Runs the caller's continuation, inline on the dispatching thread.</summary>
    public void Signal()
    {
        if (_pendingError is { } error)
        {
            _core.SetException(error);
        }
        else
        {
            _core.SetResult(_pendingResult);
        }
    }

    /// <inheritdoc/>
    void IThreadPoolWorkItem.Execute() => Signal();

    private void RecycleIfDone()
    {
        if (Volatile.Read(ref _callerDone) == 0)
        {
            return;
        }

        // Each use of the slot ends once, from whichever side finished last.
        if (Interlocked.CompareExchange(ref _wireDone, 2, 1) == 1)
        {
            ReadBuffer = default;
            WriteData = default;
            Generation = (Generation + 1) & 0xF;
            _core.Reset();
            _owner.ReturnSlot(this);
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
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Volatile.Write(ref _callerDone, 1);
            RecycleIfDone();
        }
    }

    /// <inheritdoc/>
    void IValueTaskSource.GetResult(short token) => GetResult(token);
}
