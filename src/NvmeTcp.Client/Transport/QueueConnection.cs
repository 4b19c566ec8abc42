using System.Net;
using System.Net.Sockets;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Transport;

/// <summary>
/// One NVMe/TCP connection carrying one queue (NVMe/TCP 3.3: a queue pair per connection). It owns the transport, the
/// command slots and the failure of the connection; its <see cref="SendPath"/> owns the writer, its receive loop the
/// reader. It knows PDUs and CIDs, not what the commands mean.
/// </summary>
/// <remarks>
/// Failure is one-way: the first fatal error (protocol violation, transport loss, timeout, dispose) aborts the
/// transport; once both the receive loop and the send path have stopped, every outstanding command fails with that
/// error. Only then, so no command's memory is handed back while a transport operation could still touch it.
/// </remarks>
internal sealed partial class QueueConnection : IAsyncDisposable, ICommandSlotOwner
{
    private readonly ConnectionTransport _transport;
    private readonly QueueConnectionOptions _options;
    private readonly TimeProvider _time;
    private readonly CommandSlot[] _slots;
    private readonly Stack<CommandSlot> _freeSlots;
    private readonly SemaphoreSlim _slotsAvailable;
    private readonly object _slotLock = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ResourceCounters _resources;
    private readonly PduCodecOptions _codec;
    private readonly SendPath _send;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;
    private Exception? _sendFailure;
    private int _receiveStopped;
    private int _sendStopped;
    private int _failing;
    private long _completions;
    private int _pendingFailed;
    private Task _receiveLoop = Task.CompletedTask;
    private ITimer? _timeoutTimer;
    private TimeSpan _timerPeriod;

    // Set (under _slotLock) once the connection has closed: from then on, slots taken and returned are counted.
    private bool _countSlots;

    private QueueConnection(ConnectionTransport transport, QueueConnectionOptions options, PduCodecOptions codec, EndPoint remote)
    {
        _transport = transport;
        _options = options;
        _time = options.TimeProvider;
        _resources = options.Resources;
        _codec = codec;
        RemoteEndPoint = remote;
        var size = options.QueueSize;
        _slots = new CommandSlot[size];
        _freeSlots = new Stack<CommandSlot>(size);
        for (var i = size - 1; i >= 0; i--)
        {
            _slots[i] = new CommandSlot(this, (ushort)i);
            _freeSlots.Push(_slots[i]);
        }

        _slotsAvailable = new SemaphoreSlim(size, size);
        _completed = new CommandSlot[size];
        _ready = new Queue<CommandSlot>(size);
        _dispatcher = new CompletionDispatcher(this);
        _send = new SendPath(this, transport, codec, size, _shutdown.Token);
        _rx = GC.AllocateUninitializedArray<byte>(RxBufferSize, pinned: true);
    }

    /// <summary>The queue ID.</summary>
    public ushort QueueId => _options.QueueId;

    /// <summary>Commands outstanding at once.</summary>
    public int QueueSize => _slots.Length;

    /// <summary>The controller's endpoint.</summary>
    public EndPoint RemoteEndPoint { get; }

    /// <summary>The TLS session's PSK identity and cipher suite, or null on plain TCP.</summary>
    public (string Identity, string CipherSuite)? Tls => _transport is TlsTransport tls ? (_options.Tls!.Identity, tls.CipherSuite) : null;

    /// <summary>What was negotiated in ICReq/ICResp.</summary>
    public PduCodecOptions Codec => _codec;

    /// <summary>Largest write that goes in the capsule (IOCCSZ on I/O queues, 8 KiB on the admin queue).</summary>
    public int InCapsuleDataSize => _options.InCapsuleDataSize;

    /// <summary>The largest transfer of one command on this connection.</summary>
    public int MaxTransferSize => _options.MaxTransferSize;

    /// <summary>Told, once, when the connection starts to fail (on the failing thread; must not block).</summary>
    public Action<QueueConnection, Exception>? FailureObserver { get; set; }

    /// <summary>Completions received so far (for traffic based keep-alive: any completion shows the association is alive).</summary>
    public long Completions => Volatile.Read(ref _completions);

    /// <summary>The error that ended the connection, or null while it is up.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Completes when the connection has failed or closed and every pending command has completed.</summary>
    public Task Completion => _closed.Task;

    /// <summary>
    /// Opens the TCP connection (TCP_NODELAY), runs the TLS handshake when <see cref="QueueConnectionOptions.Tls"/> is set,
    /// and exchanges ICReq/ICResp (NVMe/TCP 3.6.2.2-3) before anything else,
    /// validating the ICResp against what was asked, all within <see cref="QueueConnectionOptions.ConnectTimeout"/>.
    /// </summary>
    public static async Task<QueueConnection> ConnectAsync(EndPoint endPoint, QueueConnectionOptions options, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.QueueSize, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.QueueSize, CommandSlot.MaxSlots);

        // The connect timeout runs on the options' clock, as every other timer of the connection does.
        using var deadline = new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        ConnectionTransport transport;
        try
        {
            transport = options.Tls is { } psk
                ? await TlsTransport.ConnectAsync(endPoint, psk, options.QueueId, timeout.Token).ConfigureAwait(false)
                : options.DedicatedReceiveThread
                    ? await BlockingSocketTransport.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false)
                    : await SocketTransport.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new NvmeTransportException($"Cannot connect queue {options.QueueId} to {endPoint}: {e.Message}", options.QueueId, isRetryable: true, e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var what = options.Tls is null ? "no connection" : "no TLS session";
            throw new NvmeTimeoutException($"Queue {options.QueueId}: {what} to {endPoint} within {options.ConnectTimeout.TotalSeconds:0.#} s.", options.QueueId, options.ConnectTimeout);
        }

        options.Resources.SocketOpened();
        return await StartAsync(transport, options, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Exchanges ICReq/ICResp over an open transport (counted as an open socket in the options' resources) and starts
    /// the connection; the transport is closed if that fails.
    /// </summary>
    public static async Task<QueueConnection> StartAsync(ConnectionTransport transport, QueueConnectionOptions options, CancellationToken cancellationToken)
    {
        options.Resources.SocketOpened();
        using var deadline = new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        return await StartAsync(transport, options, timeout, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<QueueConnection> StartAsync(ConnectionTransport transport, QueueConnectionOptions options, CancellationTokenSource timeout, CancellationToken cancellationToken)
    {
        var endPoint = transport.RemoteEndPoint;
        try
        {
            var request = new IcReqPdu(0, options.Hpda, (options.HeaderDigest ? DigestTypes.Header : 0) | (options.DataDigest ? DigestTypes.Data : 0), options.MaxR2T);
            var buffer = new byte[IcReqPdu.Length];
            request.Encode(buffer);
            await transport.SendAsync(buffer, timeout.Token).ConfigureAwait(false);

            // Nothing but the ICResp (or a C2HTermReq) may come first; read exactly its 128 bytes.
            var codec = PduCodecOptions.HostBeforeInitialize((uint)options.MaxTransferSize);
            var received = 0;
            while (true)
            {
                var status = PduDecoder.TryDecodeHeader(buffer.AsSpan(0, received), codec, out var header, out var error);
                if (status == DecodeStatus.Invalid)
                {
                    throw ProtocolError(options.QueueId, null, buffer[0], error, "ICResp rejected");
                }

                if (status == DecodeStatus.Done)
                {
                    if (header.Type == PduType.C2HTermReq)
                    {
                        throw TermReqReceived(options.QueueId, header.TermReq);
                    }

                    var response = header.IcResp;
                    if (!response.IsAcceptableFor(request, out error))
                    {
                        throw ProtocolError(options.QueueId, null, (byte)PduType.ICResp, error, $"ICResp granted digests {response.Digests} but {request.Digests} were asked for");
                    }

                    var connection = new QueueConnection(transport, options, codec.AfterInitialize(request, response), endPoint);
                    connection.Start();
                    return connection;
                }

                var read = await transport.ReceiveAsync(buffer.AsMemory(received, IcRespPdu.Length - received), timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    // A port that requires TLS closes a plain ICReq unanswered (nvmet reads its first byte, finds no TLS record).
                    var hint = received == 0 && options.Tls is null ? " If its port requires TLS, configure a TLS key (NvmeTcpOptions.Tls)." : string.Empty;
                    throw new NvmeTransportException($"Queue {options.QueueId}: the controller closed the connection before its ICResp ({received} of 128 bytes).{hint}", options.QueueId, isRetryable: true);
                }

                received += read;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            CloseTransport(transport, options.Resources);
            throw new NvmeTimeoutException($"Queue {options.QueueId}: no ICResp from {endPoint} within {options.ConnectTimeout.TotalSeconds:0.#} s.", options.QueueId, options.ConnectTimeout);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            CloseTransport(transport, options.Resources);
            throw new NvmeTransportException($"Queue {options.QueueId}: connection to {endPoint} lost during ICReq/ICResp: {e.Message}", options.QueueId, isRetryable: true, e);
        }
        catch
        {
            CloseTransport(transport, options.Resources);
            throw;
        }
    }

    private static void CloseTransport(ConnectionTransport transport, ResourceCounters resources)
    {
        transport.Dispose();
        resources.SocketClosed();
    }

    // Whether the receive loop runs on a thread of its own with blocking reads (DedicatedReceiveThread).
    private bool _receiveThread;

    private void Start()
    {
        // Three pieces of background work end with the connection: the receive loop, the send path (ends when the
        // connection has failed and no send is in progress) and the timeout timer.
        _resources.TaskStarted();
        _resources.TaskStarted();
        _resources.TaskStarted();
        _receiveThread = _options.DedicatedReceiveThread && _transport.CanReceiveBlocking;
        if (_receiveThread)
        {
            var loop = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
            StartReceiveThread(() =>
            {
                loop.SetResult(ReceiveLoopAsync());
                DriveReceiveThread(generation: 0);
            });
            _receiveLoop = loop.Task.Unwrap();
        }
        else
        {
            _receiveLoop = Task.Run(ReceiveLoopAsync);
        }
        _timerPeriod = TimeSpan.FromMilliseconds(Math.Clamp(_options.CommandTimeout.TotalMilliseconds / 10, 10, 1000));
        _timeoutTimer = _time.CreateTimer(static s => ((QueueConnection)s!).CheckTimeouts(), this, _timerPeriod, _timerPeriod);
    }

    /// <summary>
    /// Submits a command and returns what its caller awaits: the CQE, or an exception (status, transport, protocol,
    /// timeout, cancellation). Waits for a free slot when the queue is full; never fails for that.
    /// </summary>
    /// <param name="sqe">The command; its CID, PSDT and SGL1 are set here.</param>
    /// <param name="kind">Admin, I/O or fabrics, for status names.</param>
    /// <param name="writeData">Data to send: in the capsule when it fits (see <see cref="Submit"/>), else by R2T.</param>
    /// <param name="readBuffer">Where the controller's data goes.</param>
    /// <param name="cancellationToken">Cancels the wait for a slot, withdraws the command before it is sent, or abandons it after.</param>
    /// <param name="timeout">This command's timeout instead of the queue's: KATO for Keep Alive, infinite for Asynchronous Event Requests (they complete only when an event happens).</param>
    public ValueTask<Cqe> SubmitAsync(Sqe sqe, CommandKind kind, ReadOnlyMemory<byte> writeData, Memory<byte> readBuffer, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        Validate(writeData, readBuffer);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Cqe>(cancellationToken);
        }

        if (Volatile.Read(ref _failure) is { } failure)
        {
            return ValueTask.FromException<Cqe>(failure);
        }

        if (!_slotsAvailable.Wait(0, CancellationToken.None))
        {
            return SubmitSlowAsync(sqe, kind, writeData, readBuffer, cancellationToken, timeout);
        }

        var slot = Submit(sqe, kind, writeData, readBuffer, cancellationToken, out var version, timeout);
        return new ValueTask<Cqe>(slot, version);
    }

    /// <summary>As <see cref="SubmitAsync"/>, for callers that need only success or an exception: no result, no allocation.</summary>
    public ValueTask SubmitNoResultAsync(Sqe sqe, CommandKind kind, ReadOnlyMemory<byte> writeData, Memory<byte> readBuffer, CancellationToken cancellationToken)
    {
        Validate(writeData, readBuffer);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (Volatile.Read(ref _failure) is { } failure)
        {
            return ValueTask.FromException(failure);
        }

        if (!_slotsAvailable.Wait(0, CancellationToken.None))
        {
            return new ValueTask(SubmitSlowAsync(sqe, kind, writeData, readBuffer, cancellationToken).AsTask());
        }

        var slot = Submit(sqe, kind, writeData, readBuffer, cancellationToken, out var version);
        return new ValueTask(slot, version);
    }

    private void Validate(ReadOnlyMemory<byte> writeData, Memory<byte> readBuffer)
    {
        if (!writeData.IsEmpty && !readBuffer.IsEmpty)
        {
            throw new ArgumentException("A command moves data one way only.", nameof(readBuffer));
        }

        if (writeData.Length > _options.MaxTransferSize || readBuffer.Length > _options.MaxTransferSize)
        {
            throw new ArgumentOutOfRangeException(nameof(writeData), $"A transfer on queue {QueueId} may not exceed {_options.MaxTransferSize} bytes.");
        }
    }

    private async ValueTask<Cqe> SubmitSlowAsync(Sqe sqe, CommandKind kind, ReadOnlyMemory<byte> writeData, Memory<byte> readBuffer, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        // Back-pressure: the queue is full, so wait for a slot (cancellable), never fail for it.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        try
        {
            await _slotsAvailable.WaitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Volatile.Read(ref _failure) ?? new ObjectDisposedException(nameof(QueueConnection));
        }

        var slot = Submit(sqe, kind, writeData, readBuffer, cancellationToken, out var version, timeout);
        return await new ValueTask<Cqe>(slot, version).ConfigureAwait(false);
    }

    // Takes a slot, decides where the data goes and points SGL1 at it, and hands the capsule to the send path.
    private CommandSlot Submit(Sqe sqe, CommandKind kind, ReadOnlyMemory<byte> writeData, Memory<byte> readBuffer, CancellationToken cancellationToken, out short version, TimeSpan? timeout = null)
    {
        CommandSlot slot;
        lock (_slotLock)
        {
            slot = _freeSlots.Pop();
            if (_countSlots)
            {
                _resources.SlotsHeld(1);
            }
        }

        // The one place that decides in-capsule data against R2T. Fabrics commands (Connect's 1024 bytes) may use the
        // admin queue's 8 KiB on every queue, as Linux's nvme_tcp_inline_data_size allows them.
        var inCapsuleLimit = kind == CommandKind.Fabrics ? Math.Max(AdminInCapsuleDataSize, _options.InCapsuleDataSize) : _options.InCapsuleDataSize;
        var inCapsule = DataPointer.FitsInCapsule((uint)writeData.Length, (uint)inCapsuleLimit);
        sqe.Cid = slot.Cid;
        sqe.Flags = (byte)((sqe.Flags & 0x3F) | Sqe.PsdtSgl);
        DataPointer.Set(ref sqe, (uint)(writeData.IsEmpty ? readBuffer.Length : writeData.Length), inCapsule);
        var limit = timeout ?? _options.CommandTimeout;
        slot.Start(sqe.Opcode, sqe.FabricsCommandType, kind, readBuffer, writeData, inCapsule, limit, Deadline(limit));
        version = slot.Version;
        slot.RegisterCancellation(cancellationToken);

        // In a completion batch with more continuations to run, the capsule waits for the batch's end (see Dispatch).
        var mode = IsBatching ? SendMode.Batched : SendMode.Now;
        if (!_send.Enqueue(SendRequest.Capsule(slot, sqe, inCapsule ? writeData : default), mode))
        {
            // The connection failed after the check above. The capsule never reached the send path, so nothing can
            // touch its buffers: it fails now (the sweep of pending commands may be over already).
            slot.FailFromConnection(Volatile.Read(ref _failure) ?? Volatile.Read(ref _sendFailure)
                ?? new NvmeTransportException($"Queue {QueueId}: the connection to {RemoteEndPoint} is closing.", QueueId, isRetryable: true));
        }

        return slot;
    }

    /// <summary>Commands holding a slot now (sent, or waiting for the wire or the caller to finish with it).</summary>
    public int InFlight
    {
        get
        {
            lock (_slotLock)
            {
                return _slots.Length - _freeSlots.Count;
            }
        }
    }

    /// <summary>In-capsule data the admin queue takes (Linux's NVME_TCP_ADMIN_CCSZ).</summary>
    public const int AdminInCapsuleDataSize = 8192;

    private long Deadline(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);

    /// <inheritdoc/>
    public void ReturnSlot(CommandSlot slot)
    {
        lock (_slotLock)
        {
            _freeSlots.Push(slot);
            if (_countSlots)
            {
                _resources.SlotReturned();
            }
        }

        _slotsAvailable.Release();
    }

    /// <summary>The slot a CID names, if that CID is outstanding; null for an unknown, stale or completed CID.</summary>
    private CommandSlot? FindInFlight(ushort cid)
    {
        var index = cid & (CommandSlot.MaxSlots - 1);
        if (index >= _slots.Length)
        {
            return null;
        }

        var slot = _slots[index];
        return slot.InFlight && slot.Cid == cid ? slot : null;
    }

    private void CheckTimeouts()
    {
        if (Volatile.Read(ref _failure) is not null)
        {
            return;
        }

        var now = _time.GetTimestamp();
        TakeOverParkedLoop(now, force: false);
        CheckDispatch(now);
        _send.FlushIfStalled();
        foreach (var slot in _slots)
        {
            if (slot.IsOutstanding && now > slot.Deadline)
            {
                // As Linux does for a command past its timeout: reset the association; every pending command fails.
                Fail(new NvmeTimeoutException(
                    $"{slot.Name} on queue {QueueId} (CID {slot.Cid}) did not complete within {slot.Timeout.TotalSeconds:0.###} s; the connection to {RemoteEndPoint} was reset.",
                    QueueId,
                    slot.Timeout));
                return;
            }
        }
    }

    /// <summary>Ends the connection with <paramref name="error"/> (the first error wins) and aborts the transport.</summary>
    public void Fail(Exception error)
    {
        if (Interlocked.Exchange(ref _failing, 1) != 0)
        {
            return;
        }

        // The owner hears of it before the failure is published, so that a caller who then finds this connection
        // failed also finds the controller no longer live, and waits for the reconnect instead of using it.
        FailureObserver?.Invoke(this, error);
        Volatile.Write(ref _failure, error);

        if (_timeoutTimer is { } timer)
        {
            timer.Dispose();
            _resources.TaskEnded();
        }

        _shutdown.Cancel();
        _transport.Abort();
        CloseTransport(_transport, _resources);

        // A loop parked behind callers' code that may never return must still see the abort and end.
        TakeOverParkedLoop(0, force: true);
        if (_send.Close())
        {
            OnSendPathStopped();
        }

        TryFailPending();
    }

    /// <summary>
    /// The send path broke. A reset by the peer (a controller that sent a C2HTermReq and closed, say) also ends the
    /// receive side, after what already arrived: the receive loop reads that first, so the controller's own reason
    /// wins over "connection reset". Anything else fails the connection now.
    /// </summary>
    internal void OnSendFailed(NvmeTransportException error)
    {
        if (error.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown }
            && Volatile.Read(ref _receiveStopped) == 0)
        {
            Volatile.Write(ref _sendFailure, error);
            _send.Close();
            return;
        }

        Fail(error);
    }

    /// <summary>The send path will send no more (the connection failed and no send is in progress).</summary>
    internal void OnSendPathStopped()
    {
        if (Interlocked.Exchange(ref _sendStopped, 1) == 0)
        {
            _resources.TaskEnded();
            TryFailPending();
        }
    }

    // Pending commands fail only when neither loop can touch their buffers any more.
    private void TryFailPending()
    {
        if (Volatile.Read(ref _receiveStopped) == 0 || Volatile.Read(ref _sendStopped) == 0 || Volatile.Read(ref _failure) is not { } failure)
        {
            return;
        }

        if (Interlocked.Exchange(ref _pendingFailed, 1) != 0)
        {
            return;
        }

        lock (_slotLock)
        {
            _countSlots = true;
            _resources.SlotsHeld(_slots.Length - _freeSlots.Count);
        }

        foreach (var slot in _slots)
        {
            slot.FailFromConnection(failure);
        }

        _closed.TrySetResult();
    }

    /// <summary>Closes the connection; pending commands fail with a retryable transport error.</summary>
    public async ValueTask DisposeAsync()
    {
        Fail(new NvmeTransportException($"Queue {QueueId}: the connection was closed by the host.", QueueId, isRetryable: true));
        await _receiveLoop.ConfigureAwait(false);
        await _closed.Task.ConfigureAwait(false);
        _shutdown.Dispose();

        // _slotsAvailable is not disposed: callers may still take their results (and so return slots) after the
        // connection is gone, and a SemaphoreSlim whose wait handle was never used holds nothing to release.
    }

    private static NvmeTcpProtocolException ProtocolError(ushort queueId, int? cid, byte pduType, in PduError error, string context) =>
        new(
            $"Queue {queueId}{(cid is { } c ? $" (CID {c})" : string.Empty)}: {context}: {error}.",
            queueId,
            cid,
            pduType,
            error.ToString(),
            (int)error.Fes,
            error.Fei,
            sentByController: false);

    private static NvmeTcpProtocolException TermReqReceived(ushort queueId, in TermReqPdu term) =>
        new(
            $"Queue {queueId}: the controller terminated the connection (C2HTermReq, FES {(int)term.Fes} {term.Fes}, FEI 0x{term.Fei:X}).",
            queueId,
            null,
            (byte)PduType.C2HTermReq,
            "C2HTermReq received",
            (int)term.Fes,
            term.Fei,
            sentByController: true);
}
