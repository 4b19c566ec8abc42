using System.Net.Sockets;
using System.Runtime.CompilerServices;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Transport;

/// <summary>
/// The send path. Submitters and the receive loop queue requests; whoever finds no send in progress becomes the
/// sender and drains the queue, encoding PDUs into one buffer so that PDUs queued together leave in one socket write.
/// A submitter sends on its own thread (no hop at queue depth 1); the receive loop never sends itself (its R2T answers
/// go to the thread pool), so a controller that stops reading can never stall the receive side.
/// </summary>
internal sealed partial class QueueConnection : IThreadPoolWorkItem
{
    private const int TxBufferSize = 64 * 1024;

    // Data up to this size is copied into the send buffer and leaves with its header; larger data goes to the socket
    // straight from the caller's memory.
    private const int CopyThreshold = 16 * 1024;

    private readonly byte[] _tx;
    private readonly Queue<SendRequest> _sendQueue;
    private readonly Crc32C _txDigest = new();
    private int _txLength;
    private bool _sending;

    private enum SendKind : byte
    {
        Capsule,
        H2CData,
    }

    private void EnqueueCapsule(CommandSlot slot, in Sqe sqe, ReadOnlyMemory<byte> inCapsuleData) =>
        Enqueue(new SendRequest(SendKind.Capsule, slot, slot.Cid, sqe, inCapsuleData, 0, 0, 0), sendInline: true);

    private void EnqueueH2CData(CommandSlot slot, ushort ttag, int offset, int length) =>
        Enqueue(new SendRequest(SendKind.H2CData, slot, slot.Cid, default, default, ttag, offset, length), sendInline: false);

    private void Enqueue(in SendRequest request, bool sendInline)
    {
        bool start;
        lock (_sendQueue)
        {
            if (Volatile.Read(ref _failure) is { } failure)
            {
                // Never reached the socket, so no loop holds its buffers: fail it now.
                if (request.Kind == SendKind.Capsule)
                {
                    request.Slot.FailFromConnection(failure);
                }

                return;
            }

            _sendQueue.Enqueue(request);
            start = !_sending;
            _sending |= start;
        }

        if (!start)
        {
            return;
        }

        if (sendInline)
        {
            _ = DrainAsync();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <inheritdoc/>
    void IThreadPoolWorkItem.Execute() => _ = DrainAsync();

    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                SendRequest request;
                var flush = false;
                lock (_sendQueue)
                {
                    if (!_sendQueue.TryDequeue(out request))
                    {
                        if (_txLength == 0 || Volatile.Read(ref _failure) is not null)
                        {
                            _sending = false;
                            break;
                        }

                        flush = true;
                    }
                }

                if (flush)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
                else if (request.Kind == SendKind.Capsule)
                {
                    await SendCapsuleAsync(request).ConfigureAwait(false);
                }
                else
                {
                    await SendH2CDataAsync(request).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            lock (_sendQueue)
            {
                _sending = false;
            }

            Fail(new NvmeTransportException($"Queue {QueueId}: sending to {RemoteEndPoint} failed: {e.Message}", QueueId, isRetryable: true, e));
        }

        if (Volatile.Read(ref _failure) is not null)
        {
            TryFailPending();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendCapsuleAsync(SendRequest request)
    {
        var data = request.Data;
        var layout = PduLayout.Of(PduType.CapsuleCmd, data.Length, _codec);
        await EnsureRoomAsync(layout.PrefixLength + Math.Min(data.Length, CopyThreshold) + Crc32C.Size).ConfigureAwait(false);
        CapsuleCmdPdu.EncodePrefix(_tx.AsSpan(_txLength), request.Sqe, data.Length, _codec);
        _txLength += layout.PrefixLength;
        if (data.IsEmpty)
        {
            return;
        }

        await SendDataAsync(request.Slot, data, layout.DataDigestLength != 0).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendH2CDataAsync(SendRequest request)
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
            // The command may have completed or failed meanwhile: then its data must not be read any more.
            if (slot.Cid != request.Cid || !slot.InFlight)
            {
                return;
            }

            var length = Math.Min(chunk, end - offset);
            var last = offset + length == end;
            var pdu = new H2CDataPdu(request.Cid, request.Ttag, (uint)offset, (uint)length, last);
            var layout = PduLayout.Of(PduType.H2CData, length, _codec);
            await EnsureRoomAsync(layout.PrefixLength + Math.Min(length, CopyThreshold) + Crc32C.Size).ConfigureAwait(false);
            pdu.EncodePrefix(_tx.AsSpan(_txLength), _codec);
            _txLength += layout.PrefixLength;
            if (last)
            {
                // Counted before the bytes leave: the controller cannot send its next R2T before it has them.
                slot.OnR2TAnswered();
            }

            if (!await SendDataAsync(slot, slot.WriteData.Slice(offset, length), layout.DataDigestLength != 0).ConfigureAwait(false))
            {
                return;
            }

            offset += length;
        }
    }

    // Sends one PDU's data from the caller's memory (copied into the send buffer when small), then its digest.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendDataAsync(CommandSlot slot, ReadOnlyMemory<byte> data, bool digest)
    {
        if (!slot.EnterBuffer(evenIfAbandoned: true))
        {
            // The caller was released (the command completed): the half-written PDU cannot be finished.
            throw new ObjectDisposedException(nameof(CommandSlot), $"Queue {QueueId}: command {slot.Cid} completed while its data was being sent.");
        }

        try
        {
            if (data.Length <= CopyThreshold)
            {
                data.Span.CopyTo(_tx.AsSpan(_txLength));
                _txLength += data.Length;
            }
            else
            {
                await FlushAsync().ConfigureAwait(false);
                await SendAllAsync(data).ConfigureAwait(false);
            }

            if (digest)
            {
                Crc32C.Write(_tx.AsSpan(_txLength), Crc32C.Compute(data.Span));
                _txLength += Crc32C.Size;
            }
        }
        finally
        {
            slot.ExitBuffer();
        }

        slot.OnDataSent(data.Length);
        return true;
    }

    private ValueTask EnsureRoomAsync(int bytes) =>
        _txLength + bytes <= _tx.Length ? ValueTask.CompletedTask : FlushAsync();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync()
    {
        if (_txLength == 0)
        {
            return;
        }

        var length = _txLength;
        _txLength = 0;
        await SendAllAsync(_tx.AsMemory(0, length)).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        await _transport.SendAsync(data, _shutdown.Token).ConfigureAwait(false);
    }

    private readonly record struct SendRequest(SendKind Kind, CommandSlot Slot, ushort Cid, Sqe Sqe, ReadOnlyMemory<byte> Data, ushort Ttag, int Offset, int Length);
}
