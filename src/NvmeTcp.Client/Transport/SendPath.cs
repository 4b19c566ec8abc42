using System.Runtime.CompilerServices;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Transport;

/// <summary>How a request wants to leave.</summary>
internal enum SendMode : byte
{
    /// <summary>Send now on the calling thread if no one else is sending (a submitter at queue depth 1).</summary>
    Now,

    /// <summary>
    /// More requests follow in this batch (the dispatcher runs further continuations after this one): queue it, and
    /// let the end of the batch send them together. Nothing else is woken for it: a thread-pool send scheduled per
    /// batch cost a pool wake (and its spinning) per socket read. Should a continuation after it block, the timeout
    /// timer's tick sends what waits (<see cref="SendPath.FlushIfStalled"/>).
    /// </summary>
    Batched,

    /// <summary>Queue it for a thread-pool send (the receive loop's R2T answers: the receive loop never sends).</summary>
    Background,
}

/// <summary>One request to the send path: a command capsule, or H2CData answering an R2T.</summary>
internal readonly record struct SendRequest(CommandSlot Slot, ushort Cid, Sqe Sqe, ReadOnlyMemory<byte> InCapsuleData, bool IsH2CData, ushort Ttag, int Offset, int Length)
{
    public static SendRequest Capsule(CommandSlot slot, in Sqe sqe, ReadOnlyMemory<byte> inCapsuleData) => new(slot, slot.Cid, sqe, inCapsuleData, false, 0, 0, 0);

    public static SendRequest H2CData(CommandSlot slot, ushort ttag, int offset, int length) => new(slot, slot.Cid, default, default, true, ttag, offset, length);
}

/// <summary>
/// The one writer of a connection. Whoever finds it idle takes it (a submitter on its own thread, the end of a
/// completion batch, a thread-pool work item), encodes every queued request into one buffer so that what was queued
/// together leaves in one write, and releases it when the queue is empty. No caller code runs while it is held.
/// </summary>
/// <remarks>
/// <para>Small data is copied next to its header; larger data leaves from the caller's memory in one gathered send
/// with the headers before it and its digest (writev). The caller's buffer is taken (<see cref="CommandSlot.EnterBuffer"/>)
/// before a PDU's header is encoded and kept until its last byte went out, so a command that completes meanwhile is
/// never read from once released, and a PDU is never left half written.</para>
/// <para>Any exception while writing, whatever its type, fails the connection through its owner; once closed, the
/// writer is released and the owner told (<see cref="QueueConnection.OnSendPathStopped"/>), so pending commands fail.</para>
/// </remarks>
internal sealed class SendPath : IThreadPoolWorkItem
{
    private const int BufferSize = 64 * 1024;

    // Data up to this size is copied next to its header; larger data is sent from the caller's memory.
    private const int CopyThreshold = 16 * 1024;

    private readonly QueueConnection _owner;
    private readonly ConnectionTransport _transport;
    private readonly CancellationToken _abort;
    private readonly Queue<SendRequest> _queue;
    private readonly byte[] _tx = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
    private readonly byte[] _dataDigest = new byte[Crc32C.Size];
    private readonly PduCodecOptions _codec;
    private int _txLength;

    // Under the queue's lock: the writer is held; a background send is queued; no more sending (the connection failed).
    private bool _writing;
    private bool _workQueued;
    private bool _closed;

    public SendPath(QueueConnection owner, ConnectionTransport transport, PduCodecOptions codec, int queueSize, CancellationToken abort)
    {
        _owner = owner;
        _transport = transport;
        _codec = codec;
        _queue = new Queue<SendRequest>(queueSize * 2);
        _abort = abort;
    }

    /// <summary>Queues a request. False when the path is closed: the request will never be sent.</summary>
    public bool Enqueue(in SendRequest request, SendMode mode)
    {
        bool start;
        bool schedule;
        lock (_queue)
        {
            if (_closed)
            {
                return false;
            }

            _queue.Enqueue(request);
            start = !_writing && mode == SendMode.Now;
            schedule = !_writing && mode == SendMode.Background && !_workQueued;
            _writing |= start;
            _workQueued |= schedule;
        }

        if (start)
        {
            _ = DrainAsync();
        }
        else if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
        }

        return true;
    }

    /// <summary>The end of a batch: sends what it queued, on this thread, unless someone is sending already.</summary>
    public void Flush()
    {
        lock (_queue)
        {
            if (_writing || _closed || _queue.Count == 0)
            {
                return;
            }

            _writing = true;
        }

        _ = DrainAsync();
    }

    /// <summary>
    /// The timeout timer's tick: requests queued by a batch whose end has not come (a continuation in it blocks) get a
    /// background send. A tick in the middle of a healthy batch only sends its first requests a little early.
    /// </summary>
    public void FlushIfStalled()
    {
        bool schedule;
        lock (_queue)
        {
            schedule = !_writing && !_closed && !_workQueued && _queue.Count > 0;
            _workQueued |= schedule;
        }

        if (schedule)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <inheritdoc/>
    void IThreadPoolWorkItem.Execute()
    {
        lock (_queue)
        {
            _workQueued = false;
            if (_writing || _closed || _queue.Count == 0)
            {
                return;
            }

            _writing = true;
        }

        _ = DrainAsync();
    }

    /// <summary>Stops the path for good; true when no send is in progress (else the writer tells the owner as it leaves).</summary>
    public bool Close()
    {
        lock (_queue)
        {
            _closed = true;
            _queue.Clear();
            return !_writing;
        }
    }

    /// <summary>
    /// Sends <paramref name="pdu"/> (an H2CTermReq) as the last thing on this connection, if no send is in progress (a
    /// PDU half sent cannot be interrupted); then the path is closed. Best effort: it gives up after a second.
    /// </summary>
    public async ValueTask TryTerminateAsync(ReadOnlyMemory<byte> pdu, TimeProvider timeProvider)
    {
        lock (_queue)
        {
            if (_writing || _closed)
            {
                return;
            }

            _writing = true;
            _closed = true;
            _queue.Clear();
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1), timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _abort);
            await _transport.SendAsync(pdu, linked.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Best effort: the connection is being closed either way.
        }
        finally
        {
            lock (_queue)
            {
                _writing = false;
            }
        }
    }

    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                SendRequest request;
                lock (_queue)
                {
                    if (_closed)
                    {
                        break;
                    }

                    if (!_queue.TryDequeue(out request))
                    {
                        if (_txLength == 0)
                        {
                            _writing = false;
                            return;
                        }

                        request = default;
                    }
                }

                if (request.Slot is null)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
                else if (request.IsH2CData)
                {
                    await WriteH2CDataAsync(request).ConfigureAwait(false);
                }
                else
                {
                    await WriteCapsuleAsync(request).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e)
        {
            // Whatever broke the writer breaks the connection: it cannot tell what reached the controller.
            _owner.OnSendFailed(new NvmeTransportException($"Queue {_owner.QueueId}: sending to {_transport.RemoteEndPoint} failed: {e.Message}", _owner.QueueId, isRetryable: true, e));
        }

        // Closed: leave, and let the owner fail what is pending now that no send can touch a caller's buffer.
        lock (_queue)
        {
            _writing = false;
            _txLength = 0;
        }

        _owner.OnSendPathStopped();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteCapsuleAsync(SendRequest request)
    {
        var slot = request.Slot;
        var data = request.InCapsuleData;
        var layout = PduLayout.Of(PduType.CapsuleCmd, data.Length, _codec);
        await EnsureRoomAsync(layout.PrefixLength + CopiedLength(data.Length)).ConfigureAwait(false);

        // A command cancelled before it got here is withdrawn; its data is taken with the decision, before the header.
        if (!slot.TryMarkSent(enterBuffer: !data.IsEmpty))
        {
            return;
        }

        CapsuleCmdPdu.EncodePrefix(_tx.AsSpan(_txLength), request.Sqe, data.Length, _codec);
        _txLength += layout.PrefixLength;
        if (data.IsEmpty)
        {
            return;
        }

        try
        {
            await WriteDataAsync(data, layout.DataDigestLength != 0).ConfigureAwait(false);
        }
        finally
        {
            slot.ExitBuffer();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteH2CDataAsync(SendRequest request)
    {
        var slot = request.Slot;
        var offset = request.Offset;
        var end = request.Offset + request.Length;

        // One H2CData per R2T unless MAXH2CDATA forces a split, as the Linux host sends. Linux nvmet (6.1, 6.12) checks an
        // H2CData's data digest against the CRC of the command's whole transfer, so a split R2T answer fails its digest
        // there (seen on the interop VM); splitting only when the controller demands it keeps such targets working.
        var chunk = (int)Math.Min(_codec.MaxH2CData, int.MaxValue);
        while (offset < end)
        {
            var length = Math.Min(chunk, end - offset);
            var last = offset + length == end;
            var layout = PduLayout.Of(PduType.H2CData, length, _codec);
            await EnsureRoomAsync(layout.PrefixLength + CopiedLength(length)).ConfigureAwait(false);

            // Taken before the header is encoded: a command completed or reused meanwhile is skipped whole.
            if (!slot.EnterBuffer(request.Cid, evenIfCancelled: true))
            {
                return;
            }

            try
            {
                if (!slot.InFlight)
                {
                    return;
                }

                new H2CDataPdu(request.Cid, request.Ttag, (uint)offset, (uint)length, last).EncodePrefix(_tx.AsSpan(_txLength), _codec);
                _txLength += layout.PrefixLength;
                if (last)
                {
                    // Counted before the bytes leave: the controller cannot send its next R2T before it has them.
                    slot.OnR2TAnswered();
                }

                await WriteDataAsync(slot.WriteData.Slice(offset, length), layout.DataDigestLength != 0).ConfigureAwait(false);
            }
            finally
            {
                slot.ExitBuffer();
            }

            slot.OnDataSent(length);
            offset += length;
        }
    }

    private static int CopiedLength(int dataLength) => dataLength <= CopyThreshold ? dataLength + Crc32C.Size : 0;

    // One PDU's data after its header: copied with its digest, or sent from the caller's memory with everything
    // encoded before it and its digest in one gathered write.
    private ValueTask WriteDataAsync(ReadOnlyMemory<byte> data, bool digest)
    {
        if (data.Length <= CopyThreshold)
        {
            data.Span.CopyTo(_tx.AsSpan(_txLength));
            _txLength += data.Length;
            if (digest)
            {
                Crc32C.Write(_tx.AsSpan(_txLength), Crc32C.Compute(data.Span));
                _txLength += Crc32C.Size;
            }

            return ValueTask.CompletedTask;
        }

        if (digest)
        {
            Crc32C.Write(_dataDigest, Crc32C.Compute(data.Span));
        }

        var head = _tx.AsMemory(0, _txLength);
        _txLength = 0;
        return _transport.SendAsync(head, data, digest ? _dataDigest : ReadOnlyMemory<byte>.Empty, _abort);
    }

    private ValueTask EnsureRoomAsync(int bytes) =>
        _txLength + bytes <= _tx.Length ? ValueTask.CompletedTask : FlushAsync();

    private ValueTask FlushAsync()
    {
        if (_txLength == 0)
        {
            return ValueTask.CompletedTask;
        }

        var length = _txLength;
        _txLength = 0;
        return _transport.SendAsync(_tx.AsMemory(0, length), _abort);
    }
}
