using System.Buffers;
using System.Net.Sockets;
using System.Threading.Channels;
using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Target.Internal.Execution;

namespace NvmeTcp.Target.Internal.Transport;

/// <summary>A PDU waiting to be sent: a rented buffer holding the whole PDU.</summary>
internal readonly record struct OutgoingPdu(byte[] Buffer, int Length, PduType Type);

/// <summary>
/// The send side: encoders that queue PDUs (callable from any thread; the channel is the only shared state), and
/// the send loop, which writes them in order, coalescing small PDUs into one socket send when no fault rule is
/// armed, and applying the rules of <see cref="NvmeTargetFaults"/> when some are.
/// </summary>
internal sealed partial class TargetConnection
{
    private const int BatchSize = 64 * 1024;

    /// <summary>Largest C2HData PDU when <see cref="NvmeTargetOptions.C2HDataChunkSize"/> is not set.</summary>
    private const int DefaultMaxC2HData = 1024 * 1024;

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly List<OutgoingPdu> _batch = [];

    // Where small PDUs are coalesced into one send, by whoever holds _sendLock.
    private readonly byte[] _sendBuffer = GC.AllocateUninitializedArray<byte>(BatchSize);
    private bool _blackHole;

    // The thread running the receive loop while it handles what one socket read brought (0 while it waits). What it
    // queues meanwhile is sent by the loop itself before it waits again: one send per read, and no hand-off to the
    // send loop (a thread wake-up per read, which costs more than the rest of a 4 KiB read on a 2-CPU machine).
    private int _batchThread;

    private void Enqueue(in OutgoingPdu pdu)
    {
        Account(pdu);
        if (_batchThread == Environment.CurrentManagedThreadId && !_target.Testing.Faults.IsArmed)
        {
            _batch.Add(pdu);
            return;
        }

        if (!_tx.Writer.TryWrite(pdu))
        {
            Release(pdu);
        }
    }

    /// <summary>Hands what the receive loop batched to the send loop (armed faults, a C2HTermReq, the end).</summary>
    private void SpillBatch()
    {
        _batchThread = 0;
        foreach (var pdu in _batch)
        {
            if (!_tx.Writer.TryWrite(pdu))
            {
                Release(pdu);
            }
        }

        _batch.Clear();
    }

    /// <summary>Sends what the receive loop batched, before it waits for the socket. False when the host is gone.</summary>
    private async ValueTask<bool> FlushBatchAsync()
    {
        _batchThread = 0;
        if (_batch.Count == 0)
        {
            return true;
        }

        if (_target.Testing.Faults.IsArmed)
        {
            SpillBatch();
            return true;
        }

        if (_blocking)
        {
            // On the receive thread: waiting here keeps the loop on it (the holder's sends are bounded by the deadline).
            _sendLock.Wait();
        }
        else
        {
            await _sendLock.WaitAsync().ConfigureAwait(false);
        }

        try
        {
            var filled = 0;
            foreach (var pdu in _batch)
            {
                filled = await CoalesceAsync(pdu, filled).ConfigureAwait(false);
            }

            await SendCoalescedAsync(filled).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            return false;
        }
        finally
        {
            _sendLock.Release();
            foreach (var pdu in _batch)
            {
                Release(pdu);
            }

            _batch.Clear();
        }
    }

    /// <summary>Completes a command with a CapsuleResp and frees its slot.</summary>
    private void Complete(TargetCommand command, NvmeStatus status, uint dw0 = 0, uint dw1 = 0)
    {
        var cid = command.Cid;
        if (!status.IsSuccess)
        {
            Controller?.RecordError((ushort)Math.Max(0, QueueId), cid, status);
            _target.Log.CommandFailed(QueueId, command.Sqe.Opcode, cid, status.ToString());
        }

        ReturnCommand(command);
        SendResponse(cid, status, dw0, dw1);
    }

    /// <summary>Frees a command's slot without a CapsuleResp (the last C2HData carried SUCCESS).</summary>
    private void CompleteSilently(TargetCommand command) => ReturnCommand(command);

    private void SendResponse(ushort cid, NvmeStatus status, uint dw0, uint dw1, ushort? sqhd = null)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CapsuleRespPdu.HeaderLength + Crc32C.Size);
        var head = sqhd ?? (_sqFlowControlDisabled ? (ushort)0xFFFF : (ushort)Volatile.Read(ref _sqHead));
        var cqe = new Cqe(dw0, dw1, head, (ushort)Math.Max(0, QueueId), cid, status);
        var length = CapsuleRespPdu.Encode(buffer, cqe, _codec);
        Enqueue(new OutgoingPdu(buffer, length, PduType.CapsuleResp));
    }

    private void SendR2T(in R2TPdu r2t)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(R2TPdu.HeaderLength + Crc32C.Size);
        var length = r2t.Encode(buffer, _codec);
        Enqueue(new OutgoingPdu(buffer, length, PduType.R2T));
    }

    /// <summary>
    /// Sends <paramref name="length"/> bytes of controller-to-host data for <paramref name="command"/>, filled by
    /// <paramref name="fill"/> chunk by chunk straight into the outgoing buffers, in C2HData PDUs of at most the
    /// configured chunk size, then completes the command: with SUCCESS on the last PDU when the policy allows, else
    /// with a CapsuleResp.
    /// </summary>
    private void SendData<TState>(TargetCommand command, int length, TState state, C2HFill<TState> fill, uint dw0 = 0)
    {
        var success = dw0 == 0 && _target.Options.C2HSuccess switch
        {
            NvmeC2HSuccessPolicy.Always => true,
            NvmeC2HSuccessPolicy.WhenSqFlowControlDisabled => _sqFlowControlDisabled,
            _ => false,
        };
        EnqueueC2HData(command.Cid, length, state, fill, success);
        if (success)
        {
            CompleteSilently(command);
        }
        else
        {
            Complete(command, NvmeStatus.Success, dw0);
        }
    }

    /// <summary>Queues the C2HData PDUs of a transfer, each filled as it is built; SUCCESS on the last when asked.</summary>
    private void EnqueueC2HData<TState>(ushort cid, int length, TState state, C2HFill<TState> fill, bool success)
    {
        // One PDU per transfer by default, as nvmet, but never one buffer larger than DefaultMaxC2HData: with MDTS 0 a
        // single read may be 64 MiB, and each chunk is built only as it is queued.
        var chunk = _target.Options.C2HDataChunkSize is > 0 and var c ? c : Math.Min(length, DefaultMaxC2HData);
        for (var offset = 0; offset < length; offset += chunk)
        {
            var size = Math.Min(chunk, length - offset);
            var last = offset + size == length;
            var pdu = new C2HDataPdu(cid, (uint)offset, (uint)size, last, last && success);
            var layout = PduLayout.Of(PduType.C2HData, size, _codec);
            var buffer = ArrayPool<byte>.Shared.Rent((int)layout.Plen);
            try
            {
                pdu.EncodePrefix(buffer, _codec);
                var data = buffer.AsSpan(layout.Pdo, size);
                fill(state, offset, data);
                if (layout.DataDigestLength != 0)
                {
                    Crc32C.Write(buffer.AsSpan(layout.Pdo + size), Crc32C.Compute(data));
                }
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }

            Enqueue(new OutgoingPdu(buffer, (int)layout.Plen, PduType.C2HData));
        }
    }

    private async Task SendLoopAsync()
    {
        var reader = _tx.Reader;
        var faults = _target.Testing.Faults;
        var held = default(OutgoingPdu?);
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // The receive loop sends its own batches under the same lock: never two writers on the socket.
                await _sendLock.WaitAsync().ConfigureAwait(false);
                try
                {
                    if (!faults.IsArmed)
                    {
                        await SendQueuedAsync(reader).ConfigureAwait(false);
                        continue;
                    }

                    while (reader.TryRead(out var pdu))
                    {
                        var outcome = await SendWithFaultsAsync(pdu, faults).ConfigureAwait(false);
                        if (held is { } h && outcome != FaultOutcome.Held)
                        {
                            held = null;
                            await SendRawAsync(h.Buffer.AsMemory(0, h.Length)).ConfigureAwait(false);
                            Release(h);
                        }

                        if (outcome == FaultOutcome.Held)
                        {
                            held = pdu;
                            continue;
                        }

                        Release(pdu);
                        if (outcome == FaultOutcome.Closed)
                        {
                            return;
                        }
                    }
                }
                finally
                {
                    _sendLock.Release();
                }
            }

            // Drained after the receive side stopped (host closed, violation, teardown): close our side in order.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // The host is gone; the receive loop sees it too.
        }
        finally
        {
            if (held is { } h)
            {
                Release(h);
            }

            while (reader.TryRead(out var left))
            {
                Release(left);
            }

            Abort();
        }
    }

    // Fast path: coalesces what is queued into one send (a PDU larger than the buffer goes on its own).
    private async ValueTask SendQueuedAsync(ChannelReader<OutgoingPdu> reader)
    {
        var filled = 0;
        while (reader.TryPeek(out var next) && (filled == 0 || filled + next.Length <= BatchSize))
        {
            reader.TryRead(out var pdu);
            try
            {
                filled = await CoalesceAsync(pdu, filled).ConfigureAwait(false);
            }
            finally
            {
                Release(pdu);
            }

            if (pdu.Length > BatchSize)
            {
                break;
            }
        }

        await SendCoalescedAsync(filled).ConfigureAwait(false);
    }

    // Under _sendLock: adds a PDU to the coalescing buffer (sending the buffer first when it would not fit), or sends a
    // PDU larger than the buffer on its own. Returns the bytes now in the buffer.
    private async ValueTask<int> CoalesceAsync(OutgoingPdu pdu, int filled)
    {
        if (filled > 0 && filled + pdu.Length > BatchSize)
        {
            await SendRawAsync(_sendBuffer.AsMemory(0, filled)).ConfigureAwait(false);
            filled = 0;
        }

        if (pdu.Length > BatchSize)
        {
            await SendRawAsync(pdu.Buffer.AsMemory(0, pdu.Length)).ConfigureAwait(false);
            return filled;
        }

        pdu.Buffer.AsSpan(0, pdu.Length).CopyTo(_sendBuffer.AsSpan(filled));
        return filled + pdu.Length;
    }

    private ValueTask SendCoalescedAsync(int filled) =>
        filled == 0 ? ValueTask.CompletedTask : SendRawAsync(_sendBuffer.AsMemory(0, filled));

    private async ValueTask SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        if (_blackHole)
        {
            return;
        }

        if (_tls is { } tls)
        {
            // Encrypted whole; a host that takes nothing stalls it like a plain send.
            var pending = tls.SendAsync(bytes, CancellationToken.None);
            if (!pending.IsCompleted)
            {
                NoteSendStalled();
                try
                {
                    await pending.ConfigureAwait(false);
                }
                finally
                {
                    NoteSendMoved();
                }
            }
            else
            {
                await pending.ConfigureAwait(false);
            }

            return;
        }

        if (_blocking)
        {
            SendBlocking(bytes.Span);
            return;
        }

        while (!bytes.IsEmpty)
        {
            var send = _socket.SendAsync(bytes, SocketFlags.None);
            int sent;
            if (send.IsCompleted)
            {
                sent = send.Result;
            }
            else
            {
                // The host is not taking what we send (its window is full): a deadline runs until it does.
                NoteSendStalled();
                try
                {
                    sent = await send.ConfigureAwait(false);
                }
                finally
                {
                    NoteSendMoved();
                }
            }

            bytes = bytes[sent..];
        }
    }
}
