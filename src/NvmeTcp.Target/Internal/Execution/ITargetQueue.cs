using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Internal.Execution;

/// <summary>
/// A command as command execution sees it: its SQE and nothing of how it travelled. The transport's own command
/// record (R2T bookkeeping, the host data buffer) derives from it, as nvmet's <c>nvmet_tcp_cmd</c> embeds an
/// <c>nvmet_req</c>.
/// </summary>
internal abstract class TargetRequest
{
    public Sqe Sqe;

    public ushort Cid => Sqe.Cid;
}

/// <summary>
/// What command execution and the controller see of the queue a command arrived on: who it is, and ways to complete
/// a command (nvmet's <c>nvmet_req_complete</c> and the fabrics ops behind it). The transport implements it; nothing
/// here names a socket, a PDU or a codec option.
/// </summary>
internal interface ITargetQueue
{
    /// <summary>QID once Connect succeeded, else -1.</summary>
    public int QueueId { get; }

    /// <summary>The controller of the association, once Connect succeeded.</summary>
    public Controller? Controller { get; }

    /// <summary>The port the queue's connection came through (nvmet's <c>req-&gt;port</c>): its ANA states apply.</summary>
    public TargetPort Port { get; }

    /// <summary>
    /// The PSK identity the queue's connection runs TLS with, or null in the clear (nvmet's
    /// <c>nvmet_queue_tls_keyid</c>): SC_C NEWTLSPSK needs a queue in the clear, REPLACETLSPSK one in TLS.
    /// </summary>
    public string? TlsIdentity { get; }

    /// <summary>Connect succeeded: the queue now belongs to <paramref name="controller"/> as QID <paramref name="queueId"/>.</summary>
    public void Bind(Controller controller, ushort queueId, int sqSize, bool sqFlowControlDisabled);

    /// <summary>Completes <paramref name="request"/> with a CQE carrying <paramref name="status"/>, DW0 and DW1.</summary>
    public void Complete(TargetRequest request, NvmeStatus status, uint dw0 = 0, uint dw1 = 0);

    /// <summary>
    /// Sends <paramref name="length"/> bytes of controller-to-host data, which <paramref name="fill"/> writes chunk by
    /// chunk straight into the outgoing buffers, then completes <paramref name="request"/> with success (and
    /// <paramref name="dw0"/>), in the data's last PDU when the transport may, else in a CQE.
    /// </summary>
    public void SendData<TState>(TargetRequest request, int length, TState state, C2HFill<TState> fill, uint dw0 = 0);

    /// <summary>
    /// Frees the request's slot but keeps its CID taken until <see cref="CompleteDeferred"/> (an Asynchronous Event
    /// Request waits for an event raised on another thread).
    /// </summary>
    public void Defer(TargetRequest request);

    /// <summary>
    /// Completes a deferred CID; callable from any thread. False, and nothing sent, once the CID was completed or its
    /// AER retired (a new command reused the CID).
    /// </summary>
    public bool CompleteDeferred(ushort cid, NvmeStatus status, uint dw0);

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool, off the receive loop (disk I/O): the request's slot is freed
    /// now, its CID stays taken until the work completes it through the <see cref="DeferredCommand"/> it is given. An
    /// exception from the work completes the command with Internal Error.
    /// </summary>
    public void RunDeferred<TState>(TargetRequest request, TState state, Action<TState, DeferredCommand> work);

    /// <summary>Completes a command run by <see cref="RunDeferred"/>; any thread. False once it was completed.</summary>
    public bool CompleteExecution(ushort cid, NvmeStatus status);

    /// <summary>Sends the data of a command run by <see cref="RunDeferred"/> and completes it with success; any thread.</summary>
    public void SendExecutionData<TState>(ushort cid, int length, TState state, C2HFill<TState> fill);

    /// <summary>Closes the queue's connection (controller teardown, target disposal).</summary>
    public void Abort();
}

/// <summary>A command running off the receive loop: the one way it completes.</summary>
internal readonly struct DeferredCommand
{
    private readonly ITargetQueue _queue;

    public DeferredCommand(ITargetQueue queue, ushort cid)
    {
        _queue = queue;
        Cid = cid;
    }

    public ushort Cid { get; }

    public void Complete(NvmeStatus status) => _ = _queue.CompleteExecution(Cid, status);

    public void SendData<TState>(int length, TState state, C2HFill<TState> fill) => _queue.SendExecutionData(Cid, length, state, fill);
}

/// <summary>Fills <paramref name="destination"/> with the data at <paramref name="offset"/> of a transfer.</summary>
internal delegate void C2HFill<in TState>(TState state, int offset, Span<byte> destination);

/// <summary>Bits 0-1 of an opcode: the direction of its data.</summary>
internal enum DataTransfer : byte
{
    None = 0,
    HostToController = 1,
    ControllerToHost = 2,
    Bidirectional = 3,
}
