using System.Net.Sockets;
using System.Runtime.CompilerServices;
using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Target.Internal.Execution;

namespace NvmeTcp.Target.Internal.Transport;

/// <summary>
/// The receive loop: a whole PDU is buffered (its size was validated against the most data this end accepts
/// before any of it is waited for), checked, handled, and consumed.
/// </summary>
internal sealed partial class TargetConnection
{
    // FEI of stateful H2CData checks: NVMe/TCP 3.6.2.9 field offsets.
    private const uint FeiCid = 10;          // CID inside the SQE of a CapsuleCmd
    private const uint FeiFlags = PduHeader.FlagsOffset;

    private readonly byte[] _rx;
    private int _rxStart;
    private int _rxEnd;

    private int Buffered => _rxEnd - _rxStart;

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (Volatile.Read(ref _closing) == 0)
            {
                // The header is validated (and its claimed length refused) before any of the data is waited for.
                var status = PduDecoder.TryDecode(_rx.AsSpan(_rxStart, Buffered), _codec, out var header, out var data, out var error);
                if (status == DecodeStatus.Invalid && error.Rule == PduRule.ReservedField && _target.Options.ReservedFields == NvmeReservedFieldCheck.Record)
                {
                    // The oracle records the reserved byte and goes on: the decoder checks reserved fields last, so the
                    // same PDU decoded without them passes every other check or fails one of them. Recorded once the
                    // PDU is whole, not at every partial read of it.
                    var reserved = error;
                    var lenient = _codec with { CheckReserved = false };
                    status = PduDecoder.TryDecode(_rx.AsSpan(_rxStart, Buffered), lenient, out header, out data, out error);
                    if (status != DecodeStatus.NeedMoreData)
                    {
                        RecordViolation(reserved.Rule.ToString(), reserved.Fes, reserved.Fei, _rx[_rxStart], reserved.ToString());
                    }
                }

                if (status == DecodeStatus.NeedMoreData)
                {
                    if (!await ReceiveMoreAsync().ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                if (status == DecodeStatus.Invalid)
                {
                    var raw = _rx.AsSpan(_rxStart, Buffered);
                    var hlen = raw.Length > 2 ? raw[2] : 0;
                    var length = Math.Min(raw.Length, Math.Clamp(hlen, PduHeader.Size, PduCodecOptions.MaxTermReqData));
                    Violate(error.Rule.ToString(), error.Fes, error.Fei, raw[0], raw[..length], error.ToString());
                    return;
                }

                _batchThread = Environment.CurrentManagedThreadId;
                var keepGoing = Handle(header, _rx.AsSpan(_rxStart, header.Length), data, status != DecodeStatus.DataDigestError);
                _rxStart += header.Length;
                NotePduBoundary();
                if (!keepGoing)
                {
                    return;
                }

                // Back-pressure: past the budget, send and wait instead of handling (and so buffering for) more PDUs.
                if (OverBudget && !await WaitForDrainAsync().ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // The host went away or the target is closing the connection.
        }
        catch (Exception e)
        {
            // A fault of the target, not of the host: logged, and the connection ends with a C2HTermReq (the spec has no
            // FES for it; 02h says the PDU could not be processed in this state) and is removed and freed by RunAsync.
            _target.Log.UnhandledError(QueueId, RemoteEndPoint, e);
            Terminate(FatalErrorStatus.PduSequenceError, 0, _rx.AsSpan(_rxStart, Math.Min(Buffered, PduCodecOptions.MaxTermReqData)));
        }
        finally
        {
            // What the last PDUs produced (a response, a C2HTermReq) leaves through the send loop, which then closes.
            SpillBatch();
        }
    }

    /// <summary>Reads more bytes; false at end of stream (the host closed) or when closing.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReceiveMoreAsync()
    {
        if (!await FlushBatchAsync().ConfigureAwait(false))
        {
            return false;
        }

        if (_rxStart > 0)
        {
            _rx.AsSpan(_rxStart, Buffered).CopyTo(_rx);
            _rxEnd -= _rxStart;
            _rxStart = 0;
        }

        if (Buffered > 0)
        {
            NotePartialPdu();
        }

        var read = await ReceiveRawAsync(_rx.AsMemory(_rxEnd)).ConfigureAwait(false);
        if (read == 0)
        {
            if (Buffered > 0 && Volatile.Read(ref _closing) == 0)
            {
                // End of stream inside a PDU: the host broke the framing. Nobody is left to read a C2HTermReq, so only record it.
                _target.Testing.AddViolation(new NvmeTargetViolation(QueueId, "ConnectionClosedMidPdu", 0, 0, _rx[_rxStart], $"connection closed with {Buffered} bytes of a PDU"));
            }

            return false;
        }

        _rxEnd += read;
        return true;
    }

    private bool Handle(in ReceivedHeader header, ReadOnlySpan<byte> pdu, ReadOnlySpan<byte> data, bool digestOk)
    {
        switch (header.Type)
        {
            case PduType.ICReq:
                OnIcReq(header.IcReq);
                return true;
            case PduType.CapsuleCmd:
                return OnCapsuleCmd(header, pdu, data, digestOk);
            case PduType.H2CData:
                return OnH2CData(header, pdu, data, digestOk);
            case PduType.H2CTermReq:
                _target.Log.HostTerminated(QueueId, (int)header.TermReq.Fes);
                return false;
            default:
                Violate(PduRule.UnexpectedPdu.ToString(), FatalErrorStatus.InvalidHeaderField, 0, (byte)header.Type, pdu[..Math.Min(pdu.Length, PduCodecOptions.MaxTermReqData)], $"unexpected {header.Type}");
                return false;
        }
    }

    /// <summary>
    /// ICReq (NVMe/TCP 3.6.2.2): PFV, HPDA and DGST were range-checked by the decoder. Unlike nvmet, which refuses
    /// HPDA other than 0, any HPDA up to 31 is honoured for C2HData (SPDK does the same). Digests are granted as asked
    /// unless the options refuse them; MAXR2T caps the R2Ts kept outstanding per command.
    /// </summary>
    private void OnIcReq(in IcReqPdu icReq)
    {
        _target.Testing.CountIcReq(_tls is not null);
        var options = _target.Options;
        var granted = DigestTypes.None;
        if ((icReq.Digests & DigestTypes.Header) != 0 && options.HeaderDigest == NvmeDigestPolicy.AsRequested)
        {
            granted |= DigestTypes.Header;
        }

        if ((icReq.Digests & DigestTypes.Data) != 0 && options.DataDigest == NvmeDigestPolicy.AsRequested)
        {
            granted |= DigestTypes.Data;
        }

        var icResp = new IcRespPdu(0, options.Cpda, granted, (uint)options.MaxH2CData);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(IcRespPdu.Length);
        icResp.Encode(buffer);
        _maxR2Ts = (int)Math.Clamp(Math.Min((long)icReq.MaxR2T + 1, options.MaxOutstandingR2Ts), 1, MaxR2TsCap);
        _codec = _codec.AfterInitialize(icReq, icResp);
        _initialized = true;
        _target.Log.Initialized(RemoteEndPoint, icReq.Hpda, (int)icReq.Digests, icReq.MaxR2T, (int)granted);
        Enqueue(new OutgoingPdu(buffer, IcRespPdu.Length, PduType.ICResp));
    }

    private bool OnCapsuleCmd(in ReceivedHeader header, ReadOnlySpan<byte> pdu, ReadOnlySpan<byte> data, bool digestOk)
    {
        var sqe = header.Sqe;
        var cid = sqe.Cid;
        // Lock-free look first: TryRemove takes a lock, and almost every CID is in neither table.
        if (_deferredCids.TryGetValue(cid, out var deferred) && deferred == DeferredAsyncEvent && !_outstanding.ContainsKey(cid)
            && RemoveDeferred(cid, DeferredAsyncEvent))
        {
            // An outstanding AER's CID: SPDK's host completes its AERs itself on detach and then reuses their CIDs.
            // Neither nvmet nor SPDK's target checks CIDs this way; the AER is retired and the new command runs.
            Controller?.RetireAsyncEventRequest(this, cid);
        }

        if (_outstanding.ContainsKey(cid) || _deferredCids.ContainsKey(cid))
        {
            // Two outstanding commands with one CID would make their CQEs ambiguous: the host's bookkeeping is broken.
            Violate("DuplicateCid", FatalErrorStatus.InvalidHeaderField, FeiCid, (byte)PduType.CapsuleCmd, pdu[..CapsuleCmdPdu.HeaderLength], $"CID {cid} is already outstanding");
            return false;
        }

        // More commands outstanding than the queue holds is fatal for the queue, as in nvmet, which keeps twice the
        // queue's entries (nvmet_tcp_alloc_cmds, sq->size * 2) and fails the queue when nvmet_tcp_get_cmd finds none
        // free. Before Connect the queue has the smallest admin queue's 32 entries.
        var entries = _sqSize > 0 ? _sqSize : MinQueueEntries;
        var limit = Math.Min(MaxSlots, 2 * entries);
        if (_outstanding.Count + DeferredCount >= limit)
        {
            Violate("SubmissionQueueOverrun", FatalErrorStatus.PduSequenceError, 0, (byte)PduType.CapsuleCmd, pdu[..CapsuleCmdPdu.HeaderLength], $"more than {limit} commands outstanding on a {entries}-entry queue");
            return false;
        }

        if (_sqSize > 0)
        {
            _sqHead = (_sqHead + 1) % _sqSize;
        }

        Controller?.NoteTraffic();
        var command = RentCommand(sqe);
        var transfer = CommandExecutor.TransferOf(sqe);
        var sglType = sqe.SglType;
        var sglLength = sqe.SglLength;

        // A command that moves no data: SGL1 is not looked at. Property Get/Set reserve those bytes; nvmet's
        // nvmet_tcp_map_data stops at a zero length and SPDK parses no SGL for a command without a transfer.
        if (data.IsEmpty && (transfer == DataTransfer.None || sglLength == 0))
        {
            Execute(command, default);
            return true;
        }

        // SGL1 (NVMe/TCP 1.0, 3.3): one descriptor, in-capsule data (0x01, offset 0) or a transport data block (0x5A).
        if (sglType == DataPointer.InCapsuleDataBlock)
        {
            if (sqe.SglAddress != 0)
            {
                Complete(command, Status.Of(StatusCodes.SglOffsetInvalid));
                return true;
            }

            if (sglLength != data.Length || data.Length > InCapsuleLimit || (!data.IsEmpty && transfer != DataTransfer.HostToController))
            {
                Complete(command, Status.Of(StatusCodes.DataSglLengthInvalid));
                return true;
            }

            if (!digestOk)
            {
                Complete(command, Status.Of(StatusCodes.TransientTransportError, doNotRetry: false));
                return true;
            }

            Execute(command, data);
            return true;
        }

        if (sglType != DataPointer.TransportDataBlock)
        {
            Complete(command, Status.Of(StatusCodes.SglDescriptorTypeInvalid));
            return true;
        }

        if (!data.IsEmpty)
        {
            Complete(command, Status.Of(StatusCodes.DataSglLengthInvalid));
            return true;
        }

        if (transfer == DataTransfer.HostToController && sglLength > 0)
        {
            // Refuse before asking for data, as nvmet does when nvmet_req_init fails: no R2T for a doomed command.
            var status = _executor.PrecheckHostData(command, sglLength);
            if (!status.IsSuccess)
            {
                Complete(command, status);
                return true;
            }

            SolicitOrQueue(command, sglLength);
            return true;
        }

        Execute(command, default);
        return true;
    }

    /// <summary>
    /// Runs a command. An exception there is a fault of the target: it is logged and the command, if still outstanding,
    /// completes with Internal Error, so the host gets a status and the queue goes on.
    /// </summary>
    private void Execute(TargetCommand command, ReadOnlySpan<byte> data)
    {
        var cid = command.Cid;
        try
        {
            _executor.Execute(command, data);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _target.Log.CommandCrashed(QueueId, command.Sqe.Opcode, cid, e);
            if (_outstanding.TryGetValue(cid, out var still) && still == command)
            {
                Complete(command, Status.Of(StatusCodes.InternalError));
            }
        }
    }

    /// <summary>
    /// H2CData (NVMe/TCP 3.6.2.9), only for an R2T this target sent: CCCID names a command waiting for data, TTAG is the
    /// oldest outstanding R2T's, DATAO is the next byte expected, the data stays within that R2T, LAST_PDU marks its
    /// end. DATAL against MAXH2CDATA was checked by the decoder (FES 5), a DATAO that is not the next byte is a PDU
    /// Sequence Error (FES 2), data past the R2T Data Transfer Out of Range (FES 4). nvmet closes without a TermReq on these;
    /// this target reports them (FES/FEI as SPDK's <c>nvmf_tcp_h2c_data_hdr_handle</c> does).
    /// </summary>
    private bool OnH2CData(in ReceivedHeader header, ReadOnlySpan<byte> pdu, ReadOnlySpan<byte> data, bool digestOk)
    {
        var h2c = header.H2CData;
        var offending = pdu[..H2CDataPdu.HeaderLength];
        if (!_outstanding.TryGetValue(h2c.Cccid, out var command) || command.OutstandingR2Ts == 0)
        {
            Violate("UnexpectedH2CData", FatalErrorStatus.InvalidHeaderField, H2CDataPdu.CccidOffset, (byte)PduType.H2CData, offending, $"H2CData for CID {h2c.Cccid} without an outstanding R2T");
            return false;
        }

        if (h2c.Ttag != command.CurrentTag)
        {
            Violate("H2CDataTag", FatalErrorStatus.InvalidHeaderField, H2CDataPdu.TtagOffset, (byte)PduType.H2CData, offending, $"TTAG 0x{h2c.Ttag:X4} for CID {h2c.Cccid}, expected 0x{command.CurrentTag:X4}");
            return false;
        }

        if (h2c.Datao != command.Received)
        {
            // Not where the last one ended: a PDU Sequence Error (NVMe/TCP 3.3.2.2); past the R2T is out of range (below).
            Violate("H2CDataOffset", FatalErrorStatus.PduSequenceError, H2CDataPdu.DataoOffset, (byte)PduType.H2CData, offending, $"DATAO {h2c.Datao} for CID {h2c.Cccid}, expected {command.Received}");
            return false;
        }

        var end = (long)h2c.Datao + h2c.Datal;
        if (end > command.CurrentEnd)
        {
            Violate("H2CDataOffset", FatalErrorStatus.DataTransferOutOfRange, H2CDataPdu.DatalOffset, (byte)PduType.H2CData, offending, $"DATAO {h2c.Datao} + DATAL {h2c.Datal} past the R2T's end {command.CurrentEnd}");
            return false;
        }

        if (h2c.Last != (end == command.CurrentEnd))
        {
            Violate("H2CDataLast", FatalErrorStatus.InvalidHeaderField, FeiFlags, (byte)PduType.H2CData, offending, $"LAST_PDU {(h2c.Last ? "set" : "clear")} at offset {end} of an R2T ending at {command.CurrentEnd}");
            return false;
        }

        data.CopyTo(command.Buffer.AsSpan((int)h2c.Datao));
        command.Received = (uint)end;
        if (!digestOk)
        {
            // The spec (and SPDK) fail only the command; nvmet closes the connection instead (nvmet_tcp_try_recv_ddgst).
            command.DigestError = true;
        }

        Controller?.NoteTraffic();
        if (h2c.Last)
        {
            command.CompleteR2T();
            if (command.Received == command.Length)
            {
                EndSolicited(command);
                if (command.DigestError)
                {
                    Complete(command, Status.Of(StatusCodes.TransientTransportError, doNotRetry: false));
                }
                else
                {
                    Execute(command, command.Buffer.AsSpan(0, (int)command.Length));
                }
            }
            else
            {
                SendR2Ts(command);
            }
        }

        return true;
    }

    /// <summary>Sends R2Ts while the command has data not yet asked for and the outstanding limit allows.</summary>
    private void SendR2Ts(TargetCommand command)
    {
        var size = _target.Options.R2TSize;
        while (command.CanSendR2T)
        {
            var offset = command.Requested;
            var length = command.Length - offset;
            if (size > 0 && length > size)
            {
                length = (uint)size;
            }

            var ttag = command.AddR2T(length);
            SendR2T(new R2TPdu(command.Cid, ttag, offset, length));
        }
    }

    /// <summary>In-capsule data this queue takes: 8 KiB on the admin queue (and before Connect), IOCCSZ * 16 - 64 on I/O queues.</summary>
    private int InCapsuleLimit => QueueId > 0 && Controller is { } c ? c.Subsystem.IoInCapsuleSize : TargetSubsystem.AdminInCapsuleSize;
}
