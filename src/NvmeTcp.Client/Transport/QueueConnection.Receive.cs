using System.Runtime.CompilerServices;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Transport;

/// <summary>
/// The receive loop: validates every PDU (the wire rules in <see cref="PduDecoder"/>, then the command state: CID
/// outstanding, C2HData only for reads with contiguous in-range offsets, R2T within the command and within MAXR2T),
/// copies C2HData into the caller's memory (straight from the socket for what has not yet arrived), and completes
/// commands. Completions run their continuations on the thread pool, never here (see QueueConnection.Dispatch.cs).
/// </summary>
internal sealed partial class QueueConnection
{
    private const int RxBufferSize = 64 * 1024;

    // FEI offsets of stateful checks: CCCID in C2HData/R2T, CID inside the CQE of a CapsuleResp.
    private const uint CccidFei = 8;
    private const uint CapsuleRespCidFei = CapsuleRespPdu.CqeOffset + 12;

    private readonly byte[] _rx;
    private readonly Crc32C _rxDigest = new();
    private int _rxStart;
    private int _rxEnd;

    private int Buffered => _rxEnd - _rxStart;

    // Every await of the receive path is in this one method, so its state machine is allocated once per connection:
    // no nested async method (and no pooled box) per PDU.
    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                var status = PduDecoder.TryDecodeHeader(_rx.AsSpan(_rxStart, Buffered), _codec, out var header, out var error);
                if (status == DecodeStatus.NeedMoreData)
                {
                    OnReceived(await ReceiveDispatching(PrepareReceive(1)));
                    continue;
                }

                if (status != DecodeStatus.Done)
                {
                    throw new PduViolation(error, null, _rx[_rxStart]);
                }

                // Stateful checks below report the header validated here, not what follows it in the buffer.
                switch (header.Type)
                {
                    case PduType.CapsuleResp:
                        _rxStart += header.Length;
                        OnCapsuleResp(header);
                        break;
                    case PduType.R2T:
                        _rxStart += header.Length;
                        OnR2T(header);
                        break;
                    case PduType.C2HData:
                        var transfer = BeginC2HData(header);

                        // Skip the header, digest and padding up to PDO.
                        while (Buffered < header.DataOffset)
                        {
                            OnReceived(await ReceiveDispatching(PrepareReceive(header.DataOffset - Buffered)));
                        }

                        _rxStart += header.DataOffset;
                        try
                        {
                            CopyBufferedData(ref transfer);
                            while (transfer.Done < transfer.Length)
                            {
                                // What has not arrived yet goes from the socket straight into the caller's memory.
                                var target = transfer.Destination.IsEmpty
                                    ? _rx.AsMemory(0, Math.Min(_rx.Length, transfer.Length - transfer.Done))
                                    : transfer.Destination[transfer.Done..];
                                var read = await ReceiveDispatching(target);
                                if (read == 0)
                                {
                                    throw new EndOfStreamException($"the controller closed the connection after {transfer.Done} of {transfer.Length} bytes of C2HData");
                                }

                                if (transfer.CheckDigest)
                                {
                                    _rxDigest.Append(target.Span[..read]);
                                }

                                transfer.Done += read;
                            }
                        }
                        finally
                        {
                            if (!transfer.Destination.IsEmpty)
                            {
                                transfer.Slot.ExitBuffer();
                            }
                        }

                        while (transfer.CheckDigest && Buffered < Crc32C.Size)
                        {
                            OnReceived(await ReceiveDispatching(PrepareReceive(Crc32C.Size - Buffered)));
                        }

                        EndC2HData(header, transfer);
                        break;
                    case PduType.C2HTermReq:
                        // The header is enough to report; the controller is closing anyway.
                        Fail(TermReqReceived(QueueId, header.TermReq));
                        return;
                    default:
                        throw new PduViolation(new PduError(FatalErrorStatus.InvalidHeaderField, 0, PduRule.UnexpectedPdu, header.Type), null, (byte)header.Type) { Header = header };
                }
            }
        }
        catch (PduViolation violation)
        {
            await TerminateAsync(violation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            Fail(Volatile.Read(ref _sendFailure) ?? new NvmeTransportException($"Queue {QueueId}: connection to {RemoteEndPoint} lost: {e.Message}", QueueId, isRetryable: true, e));
        }
        catch (Exception e)
        {
            Fail(new NvmeTransportException($"Queue {QueueId}: receive loop failed: {e.Message}", QueueId, isRetryable: true, e));
        }
        finally
        {
            // Commands completed before the loop ended still get their results.
            DispatchCompleted();
            Volatile.Write(ref _receiveStopped, 1);
            TryFailPending();
            _resources.TaskEnded();
        }
    }

    // On the connection's own receive thread the transport blocks and the loop's awaits complete synchronously (but
    // where it parks for inline completions), so the loop runs there; otherwise it is the transport's asynchronous receive.
    private ValueTask<int> ReceiveAsync(Memory<byte> buffer) =>
        _receiveThread ? new ValueTask<int>(_transport.ReceiveBlocking(buffer.Span, _shutdown.Token)) : _transport.ReceiveAsync(buffer, _shutdown.Token);

    // Makes room for at least `atLeast` more bytes and returns the free part of the receive buffer.
    private Memory<byte> PrepareReceive(int atLeast)
    {
        if (_rxStart == _rxEnd)
        {
            _rxStart = _rxEnd = 0;
        }
        else if (_rx.Length - _rxEnd < Math.Max(atLeast, HeaderBuffer.MaxLength + Crc32C.Size))
        {
            // Keep what is left of a PDU at the front so that a whole header always fits.
            _rx.AsSpan(_rxStart, Buffered).CopyTo(_rx);
            _rxEnd = Buffered;
            _rxStart = 0;
        }

        return _rx.AsMemory(_rxEnd);
    }

    private void OnReceived(int read)
    {
        if (read == 0)
        {
            throw new EndOfStreamException(Buffered == 0 ? "the controller closed the connection" : $"the controller closed the connection in the middle of a PDU ({Buffered} bytes of it received)");
        }

        _rxEnd += read;
    }

    private void OnCapsuleResp(in ReceivedHeader header)
    {
        var cqe = header.Cqe;
        var slot = FindInFlight(cqe.Cid)
            ?? throw Violation(header, FatalErrorStatus.InvalidHeaderField, CapsuleRespCidFei, cqe.Cid, "CapsuleResp for a CID that is not outstanding");
        if (cqe.Status.IsSuccess)
        {
            // NVMe has no short read: success means every byte arrived (as Linux's nvme_tcp_data_in_short checks).
            if (slot.IsRead && slot.DataReceived != slot.ReadBuffer.Length)
            {
                throw Violation(header, FatalErrorStatus.PduSequenceError, 0, cqe.Cid, $"success after {slot.DataReceived} of {slot.ReadBuffer.Length} data bytes");
            }

            if (slot.IsR2TWrite && slot.DataRequested != slot.WriteData.Length)
            {
                throw Violation(header, FatalErrorStatus.PduSequenceError, 0, cqe.Cid, $"success after requesting {slot.DataRequested} of {slot.WriteData.Length} data bytes");
            }
        }

        Volatile.Write(ref _completions, _completions + 1);
        slot.CompleteFromWire(cqe);
    }

    private void OnR2T(in ReceivedHeader header)
    {
        var r2t = header.R2T;
        var slot = FindInFlight(r2t.Cccid)
            ?? throw Violation(header, FatalErrorStatus.InvalidHeaderField, CccidFei, r2t.Cccid, "R2T for a CID that is not outstanding");
        if (!slot.IsR2TWrite)
        {
            throw Violation(header, FatalErrorStatus.InvalidHeaderField, CccidFei, r2t.Cccid, "R2T for a command with no data to fetch");
        }

        if ((long)r2t.R2to + r2t.R2tl > slot.WriteData.Length)
        {
            throw Violation(header, FatalErrorStatus.DataTransferOutOfRange, 0, r2t.Cccid, $"R2T for bytes {r2t.R2to}+{r2t.R2tl} of a {slot.WriteData.Length}-byte write");
        }

        if (r2t.R2to != slot.DataRequested)
        {
            throw Violation(header, FatalErrorStatus.PduSequenceError, 0, r2t.Cccid, $"R2T at offset {r2t.R2to}, expected {slot.DataRequested}");
        }

        if (slot.R2TsUnanswered > _options.MaxR2T)
        {
            throw Violation(header, FatalErrorStatus.LimitExceeded, 0, r2t.Cccid, $"more than MAXR2T+1 = {_options.MaxR2T + 1} R2Ts outstanding");
        }

        slot.DataRequested += (int)r2t.R2tl;
        slot.OnR2TAccepted();

        // The receive loop never sends: a controller that stops reading must not stall the receive side.
        _send.Enqueue(SendRequest.H2CData(slot, r2t.Ttag, (int)r2t.R2to, (int)r2t.R2tl), SendMode.Background);
    }

    private C2HTransfer BeginC2HData(in ReceivedHeader header)
    {
        var pdu = header.C2HData;
        var slot = FindInFlight(pdu.Cccid)
            ?? throw Violation(header, FatalErrorStatus.InvalidHeaderField, CccidFei, pdu.Cccid, "C2HData for a CID that is not outstanding");
        if (!slot.IsRead)
        {
            throw Violation(header, FatalErrorStatus.InvalidHeaderField, CccidFei, pdu.Cccid, "C2HData for a command that reads no data");
        }

        if ((long)pdu.Datao + pdu.Datal > slot.ReadBuffer.Length)
        {
            throw Violation(header, FatalErrorStatus.DataTransferOutOfRange, 0, pdu.Cccid, $"data at {pdu.Datao}+{pdu.Datal} of a {slot.ReadBuffer.Length}-byte read");
        }

        if (pdu.Datao != slot.DataReceived)
        {
            throw Violation(header, FatalErrorStatus.PduSequenceError, 0, pdu.Cccid, $"data at offset {pdu.Datao}, expected {slot.DataReceived}");
        }

        var checkDigest = header.DataDigestLength != 0;
        if (checkDigest)
        {
            _rxDigest.Reset();
        }

        // A caller that abandoned the read gets nothing more in its buffer: the data is read and dropped.
        var destination = slot.EnterBuffer(pdu.Cccid, evenIfCancelled: false) ? slot.ReadBuffer.Slice((int)pdu.Datao, (int)pdu.Datal) : Memory<byte>.Empty;
        return new C2HTransfer(slot, destination, (int)pdu.Datal, checkDigest);
    }

    // The part of the data that arrived with the header is copied from the receive buffer.
    private void CopyBufferedData(ref C2HTransfer transfer)
    {
        var count = Math.Min(transfer.Length, Buffered);
        var buffered = _rx.AsSpan(_rxStart, count);
        if (transfer.CheckDigest)
        {
            _rxDigest.Append(buffered);
        }

        if (!transfer.Destination.IsEmpty)
        {
            buffered.CopyTo(transfer.Destination.Span);
        }

        _rxStart += count;
        transfer.Done = count;
        if (_rxStart == _rxEnd)
        {
            _rxStart = _rxEnd = 0;
        }
    }

    private void EndC2HData(in ReceivedHeader header, in C2HTransfer transfer)
    {
        var pdu = header.C2HData;
        var slot = transfer.Slot;
        if (transfer.CheckDigest)
        {
            // A data digest error fails only this command, with a retryable error (NVMe/TCP 3.6.4.2).
            if (Crc32C.Read(_rx.AsSpan(_rxStart, Crc32C.Size)) != _rxDigest.Value)
            {
                slot.DataDigestFailed = true;
            }

            _rxStart += Crc32C.Size;
        }

        slot.DataReceived += transfer.Length;
        var complete = slot.DataReceived == slot.ReadBuffer.Length;
        if (pdu.Last != complete)
        {
            throw Violation(header, FatalErrorStatus.PduSequenceError, 0, pdu.Cccid, pdu.Last ? $"LAST_PDU after {slot.DataReceived} of {slot.ReadBuffer.Length} bytes" : "all data received without LAST_PDU");
        }

        if (pdu.Success)
        {
            Volatile.Write(ref _completions, _completions + 1);
            slot.CompleteFromWire(new Cqe(0, 0, 0, QueueId, pdu.Cccid, NvmeStatus.Success));
        }
    }

    /// <summary>One C2HData PDU's data on its way into a caller's buffer (dropped when Destination is empty).</summary>
    private record struct C2HTransfer(CommandSlot Slot, Memory<byte> Destination, int Length, bool CheckDigest)
    {
        public int Done { get; set; }
    }

    private static PduViolation Violation(in ReceivedHeader header, FatalErrorStatus fes, uint fei, ushort cid, string rule) =>
        new(new PduError(fes, fei, PduRule.None, header.Type), cid, (byte)header.Type, rule) { Header = header };

    // Reports a violation with an H2CTermReq when the send path is idle (a PDU half sent cannot be interrupted),
    // then closes the connection. The offending header is the one validated (for checks of connection state), or
    // what sits at the head of the buffer (for a header the decoder refused).
    private async ValueTask TerminateAsync(PduViolation violation)
    {
        var error = violation.Error;
        var exception = violation.Rule is null
            ? ProtocolError(QueueId, violation.Cid, violation.PduType, error, "invalid PDU")
            : new NvmeTcpProtocolException(
                $"Queue {QueueId}{(violation.Cid is { } c ? $" (CID {c})" : string.Empty)}: {violation.Rule} in {(PduType)violation.PduType} PDU (FES {(int)error.Fes}).",
                QueueId,
                violation.Cid,
                violation.PduType,
                violation.Rule,
                (int)error.Fes,
                error.Fei,
                sentByController: false);

        var offending = new byte[PduCodecOptions.MaxTermReqData];
        int length;
        if (violation.Header is { } header)
        {
            length = header.CopyHeaderTo(offending);
        }
        else
        {
            var hlen = Buffered > 2 ? _rx[_rxStart + 2] : 0;
            length = Math.Min(Math.Min(Buffered, offending.Length), Math.Max((int)PduHeader.Size, hlen));
            _rx.AsSpan(_rxStart, length).CopyTo(offending);
        }

        var pdu = new byte[TermReqPdu.MaxLength];
        var size = TermReqPdu.For(error, PduDirection.HostToController).Encode(pdu, offending.AsSpan(0, length));

        // Published before the send path closes: a command submitted in between finds it closed and fails with this
        // error (without it, that command would fail with none, and signalling a null exception ends the process).
        Volatile.Write(ref _sendFailure, exception);
        await _send.TryTerminateAsync(pdu.AsMemory(0, size), _time).ConfigureAwait(false);
        Fail(exception);
    }

    private sealed class PduViolation(PduError error, int? cid, byte pduType, string? rule = null) : Exception(rule)
    {
        public PduError Error { get; } = error;

        public int? Cid { get; } = cid;

        public byte PduType { get; } = pduType;

        public string? Rule { get; } = rule;

        /// <summary>The validated header the violation is about, when a check of connection state found it.</summary>
        public ReceivedHeader? Header { get; init; }
    }
}
