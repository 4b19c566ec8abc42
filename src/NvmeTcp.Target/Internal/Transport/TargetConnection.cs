using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using NvmeTcp.Protocol;
using NvmeTcp.Target.Internal.Execution;

namespace NvmeTcp.Target.Internal.Transport;

/// <summary>
/// One accepted TCP connection: one queue (NVMe/TCP maps each queue to its own connection), the transport side
/// only, as nvmet's <c>tcp.c</c>. A receive loop validates every host PDU with <see cref="PduDecoder"/> and the
/// connection state, collects each command's host data (in-capsule, or solicited by R2T once the
/// <see cref="CommandExecutor"/> has accepted the command), hands the command to that executor inline (the backing
/// stores are memory), and queues what goes back; a send loop writes it, applying fault rules on the way. A host
/// violation queues a C2HTermReq (FES, FEI, the offending header), is recorded in
/// <see cref="NvmeTargetTestHooks.Violations"/>, and closes the connection once the send loop has drained.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "RunAsync disposes everything the connection owns when its loops end.")]
internal sealed partial class TargetConnection : ITargetQueue
{
    /// <summary>Most commands outstanding on one connection, bounded so TTAGs fit 12 bits.</summary>
    private const int MaxSlots = 4096;

    /// <summary>Entries of a queue before its Connect: the smallest admin queue (ASQSZ 32).</summary>
    private const int MinQueueEntries = 32;

    /// <summary>Most R2Ts kept outstanding per command, whatever the options and MAXR2T say.</summary>
    private const int MaxR2TsCap = 16;

    private readonly NvmeTcpTarget _target;
    private readonly Socket _socket;
    private readonly Channel<OutgoingPdu> _tx = Channel.CreateUnbounded<OutgoingPdu>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _abort = new();
    private readonly Dictionary<ushort, TargetCommand> _outstanding = [];
    private readonly ConcurrentDictionary<ushort, byte> _deferredCids = new(); // CID → DeferredAsyncEvent or DeferredExecution
    private readonly Stack<TargetCommand> _freeCommands = new();
    private readonly int _maxDataLength;
    private readonly CommandExecutor _executor;
    private PduCodecOptions _codec;
    private TargetCommand[] _slots = [];
    private int _maxR2Ts = 1;
    private int _queueId = -1;
    private int _sqSize;
    private bool _sqFlowControlDisabled;
    private int _sqHead;
    private Controller? _controller;
    private int _closing;

    // The TLS session when the host started one (a TLS port, a ClientHello first); null on plain TCP.
    private TlsPskChannel? _tls;

    public TargetConnection(NvmeTcpTarget target, Socket socket, int maxDataLength, TargetPort port)
    {
        _target = target;
        Port = port;
        _socket = socket;
        _maxDataLength = maxDataLength;
        _codec = PduCodecOptions.ControllerBeforeInitialize((uint)maxDataLength) with { CheckReserved = target.Options.ReservedFields != NvmeReservedFieldCheck.Ignore };
        RemoteEndPoint = socket.RemoteEndPoint;
        _executor = new CommandExecutor(target, this);
        // Room for the largest PDU: header, digest and padding (PDO is at most 255), data, data digest.
        _rx = ArrayPool<byte>.Shared.Rent(maxDataLength + 512);
    }

    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The port the connection was accepted on.</summary>
    public TargetPort Port { get; }

    /// <summary>QID once Connect succeeded, else -1.</summary>
    public int QueueId => Volatile.Read(ref _queueId);

    public Controller? Controller => Volatile.Read(ref _controller);

    /// <inheritdoc/>
    public string? TlsIdentity => _tls?.Identity;

    /// <summary>Runs both loops until the connection ends, then frees what it holds; never throws.</summary>
    public async Task RunAsync()
    {
        _target.Log.ConnectionAccepted(RemoteEndPoint);
        StartDeadlines();
        if (Port.Tls != NvmeTargetTls.None && !await StartTlsAsync().ConfigureAwait(false))
        {
            Abort();
            try
            {
                Cleanup();
            }
            catch (Exception e)
            {
                _target.Log.UnhandledError(QueueId, RemoteEndPoint, e);
            }

            return;
        }

        // Plain TCP only: a TLS port peeks the first byte asynchronously above, and TLS sessions read asynchronously.
        _blocking = _target.Options.DedicatedReceiveThreads && Port.Tls == NvmeTargetTls.None;
        var send = Task.Run(SendLoopAsync);
        try
        {
            await (_blocking ? RunReceiveThreadAsync() : ReceiveLoopAsync()).ConfigureAwait(false);
            _tx.Writer.TryComplete();
            await send.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _target.Log.UnhandledError(QueueId, RemoteEndPoint, e);
            Abort();
            await send.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            try
            {
                await WaitForExecutionsAsync().ConfigureAwait(false);
                Cleanup();
            }
            catch (Exception e)
            {
                _target.Log.UnhandledError(QueueId, RemoteEndPoint, e);
            }
        }
    }

    /// <summary>Closes the connection from outside (controller teardown, target disposal): RST-free shutdown of both directions.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 0)
        {
            _tx.Writer.TryComplete();
        }

        _abort.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    void ITargetQueue.Bind(Controller controller, ushort queueId, int sqSize, bool sqFlowControlDisabled)
    {
        _sqSize = sqSize;
        // The Connect itself is the first entry consumed: its CQE reports SQHD 1, as nvmet's does.
        _sqHead = 1 % _sqSize;
        _sqFlowControlDisabled = sqFlowControlDisabled;
        Volatile.Write(ref _controller, controller);
        Volatile.Write(ref _queueId, queueId);
    }

    void ITargetQueue.Complete(TargetRequest request, NvmeStatus status, uint dw0, uint dw1) =>
        Complete((TargetCommand)request, status, dw0, dw1);

    void ITargetQueue.SendData<TState>(TargetRequest request, int length, TState state, C2HFill<TState> fill, uint dw0) =>
        SendData((TargetCommand)request, length, state, fill, dw0);

    /// <summary>Records a host violation, queues the C2HTermReq reporting it and stops receiving.</summary>
    private void Violate(string rule, FatalErrorStatus fes, uint fei, byte pduType, ReadOnlySpan<byte> offendingHeader, string message)
    {
        var violation = new NvmeTargetViolation(QueueId, rule, (int)fes, fei, pduType, message);
        _target.Testing.AddViolation(violation);
        _target.Log.Violation(QueueId, RemoteEndPoint, rule, (int)fes, fei, message);
        Terminate(fes, fei, offendingHeader);
    }

    /// <summary>Queues a C2HTermReq after what is already queued and stops receiving; the send loop then closes.</summary>
    private void Terminate(FatalErrorStatus fes, uint fei, ReadOnlySpan<byte> offendingHeader)
    {
        var term = new TermReqPdu(PduType.C2HTermReq, fes, fei);
        var buffer = ArrayPool<byte>.Shared.Rent(TermReqPdu.MaxLength);
        var length = term.Encode(buffer, offendingHeader);

        // Straight to the send loop, after anything batched before it, since the channel is completed next.
        SpillBatch();
        Enqueue(new OutgoingPdu(buffer, length, PduType.C2HTermReq));
        if (Interlocked.Exchange(ref _closing, 1) == 0)
        {
            _tx.Writer.TryComplete();
        }
    }

    /// <summary>Records a violation the connection survives (a reserved field in <see cref="NvmeReservedFieldCheck.Record"/> mode).</summary>
    private void RecordViolation(string rule, FatalErrorStatus fes, uint fei, byte pduType, string message)
    {
        _target.Testing.AddViolation(new NvmeTargetViolation(QueueId, rule, (int)fes, fei, pduType, message));
        _target.Log.ViolationRecorded(QueueId, RemoteEndPoint, rule, (int)fes, fei, message);
    }

    private void Cleanup()
    {
        StopDeadlines();
        try
        {
            _socket.Dispose();
            _tls?.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }

        foreach (var command in _outstanding.Values)
        {
            command.Release();
        }

        _outstanding.Clear();
        ArrayPool<byte>.Shared.Return(_rx);
        if (Controller is { } controller && QueueId >= 0)
        {
            controller.OnQueueClosed((ushort)QueueId, this);
        }

        // _abort is not disposed: Abort may still be called by a controller teardown racing this cleanup, and a
        // CancellationTokenSource without a timer holds nothing that needs releasing.
        _target.Log.ConnectionClosed(RemoteEndPoint, QueueId);
    }

    private TargetCommand RentCommand(in Sqe sqe)
    {
        if (!_freeCommands.TryPop(out var command))
        {
            var slot = _slots.Length;
            if (slot >= MaxSlots)
            {
                throw new InvalidOperationException("Too many commands outstanding on one connection.");
            }

            command = new TargetCommand(slot, _maxR2Ts);
            Array.Resize(ref _slots, slot + 1);
            _slots[slot] = command;
        }

        command.Start(sqe);
        _outstanding[sqe.Cid] = command;
        return command;
    }

    private void ReturnCommand(TargetCommand command)
    {
        _outstanding.Remove(command.Cid);
        command.Release();
        _freeCommands.Push(command);
    }
}
