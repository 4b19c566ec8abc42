using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Internal.Transport;

/// <summary>What happened to a PDU on the fault path.</summary>
internal enum FaultOutcome
{
    /// <summary>Sent (or dropped on purpose); the buffer can go back to the pool.</summary>
    Done,

    /// <summary>Held back, to be sent after the next PDU; the caller keeps the buffer.</summary>
    Held,

    /// <summary>The connection was closed or reset; stop sending.</summary>
    Closed,
}

/// <summary>The fault path of the send loop: each outgoing PDU is matched against the rules of <see cref="NvmeTargetFaults"/>.</summary>
internal sealed partial class TargetConnection
{
    private async ValueTask<FaultOutcome> SendWithFaultsAsync(OutgoingPdu pdu, NvmeTargetFaults faults)
    {
        var bytes = pdu.Buffer.AsMemory(0, pdu.Length);
        NvmeTargetFault? decisive = null;
        foreach (var rule in faults.Rules)
        {
            if (!rule.Matches(QueueId, (byte)pdu.Type) || !rule.Take())
            {
                continue;
            }

            _target.Log.FaultApplied(QueueId, rule.Action.ToString(), pdu.Type.ToString(), rule.Seen);
            switch (rule.Action)
            {
                case NvmeFaultAction.Patch:
                    ApplyPatch(bytes.Span, rule);
                    break;
                case NvmeFaultAction.CorruptHeaderDigest:
                    if (((PduFlags)bytes.Span[1] & PduFlags.HeaderDigest) != 0)
                    {
                        bytes.Span[bytes.Span[2]] ^= 0xFF;
                    }

                    break;
                case NvmeFaultAction.CorruptDataDigest:
                    if (((PduFlags)bytes.Span[1] & PduFlags.DataDigest) != 0)
                    {
                        bytes.Span[pdu.Length - 1] ^= 0xFF;
                    }

                    break;
                case NvmeFaultAction.Delay:
                    // Ended by Abort too: a target disposed while its clock is held (a test's fake one) must not wait
                    // for a delay nobody will run out.
                    await Task.Delay(rule.Delay, _target.Options.TimeProvider, _abort.Token).ConfigureAwait(false);
                    break;
                case NvmeFaultAction.InjectC2HData:
                    await InjectC2HDataAsync(pdu, rule.Offset > 0 ? rule.Offset : 4).ConfigureAwait(false);
                    break;
                default:
                    decisive ??= rule;
                    break;
            }
        }

        switch (decisive?.Action)
        {
            case null:
                await SendRawAsync(bytes).ConfigureAwait(false);
                return FaultOutcome.Done;
            case NvmeFaultAction.Drop:
                return FaultOutcome.Done;
            case NvmeFaultAction.Duplicate:
                await SendRawAsync(bytes).ConfigureAwait(false);
                await SendRawAsync(bytes).ConfigureAwait(false);
                return FaultOutcome.Done;
            case NvmeFaultAction.Reorder:
                return FaultOutcome.Held;
            case NvmeFaultAction.BlackHole:
                _blackHole = true;
                return FaultOutcome.Done;
            case NvmeFaultAction.Terminate:
                var term = new TermReqPdu(PduType.C2HTermReq, (FatalErrorStatus)decisive.Fes, decisive.Fei);
                var buffer = ArrayPool<byte>.Shared.Rent(TermReqPdu.MaxLength);
                var headerLength = Math.Min((int)bytes.Span[2], PduCodecOptions.MaxTermReqData);
                var length = term.Encode(buffer, bytes.Span[..Math.Min(headerLength, pdu.Length)]);
                await SendRawAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
                ArrayPool<byte>.Shared.Return(buffer);
                _socket.Shutdown(SocketShutdown.Both);
                return FaultOutcome.Closed;
            case NvmeFaultAction.Close:
                await SendRawAsync(bytes[..Math.Clamp(decisive.Offset, 0, pdu.Length)]).ConfigureAwait(false);
                _socket.Shutdown(SocketShutdown.Both);
                return FaultOutcome.Closed;
            case NvmeFaultAction.Split:
                var at = Math.Clamp(decisive.Offset, 0, pdu.Length);
                await SendRawAsync(bytes[..at]).ConfigureAwait(false);
                await Task.Delay(decisive.Delay, _target.Options.TimeProvider, _abort.Token).ConfigureAwait(false);
                await SendRawAsync(bytes[at..]).ConfigureAwait(false);
                return FaultOutcome.Done;
            case NvmeFaultAction.AppendC2HData:
                await SendRawAsync(bytes).ConfigureAwait(false);
                await InjectC2HDataAsync(pdu, decisive.Offset > 0 ? decisive.Offset : 4).ConfigureAwait(false);
                return FaultOutcome.Done;
            case NvmeFaultAction.AppendNextR2T when pdu.Type == PduType.R2T:
                await SendWithNextR2TAsync(bytes).ConfigureAwait(false);
                return FaultOutcome.Done;
            case NvmeFaultAction.Reset:
                await SendRawAsync(bytes[..Math.Clamp(decisive.Offset, 0, pdu.Length)]).ConfigureAwait(false);
                _socket.LingerState = new LingerOption(true, 0);
                _socket.Close();
                return FaultOutcome.Closed;
            default:
                await SendRawAsync(bytes).ConfigureAwait(false);
                return FaultOutcome.Done;
        }
    }

    // One write holding the R2T and the one after it, so that the host reads both before it can answer the first.
    private async ValueTask SendWithNextR2TAsync(ReadOnlyMemory<byte> r2t)
    {
        var first = R2TPdu.Read(r2t.Span);
        var next = new R2TPdu(first.Cccid, (ushort)(first.Ttag + 1), first.R2to + first.R2tl, first.R2tl);
        var buffer = ArrayPool<byte>.Shared.Rent(2 * r2t.Length + R2TPdu.HeaderLength + Crc32C.Size);
        r2t.Span.CopyTo(buffer);
        var length = r2t.Length + next.Encode(buffer.AsSpan(r2t.Length), _codec);
        await SendRawAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private static void ApplyPatch(Span<byte> pdu, NvmeTargetFault rule)
    {
        var patch = rule.Bytes.Span;
        if (rule.Offset < 0 || rule.Offset >= pdu.Length)
        {
            return;
        }

        patch[..Math.Min(patch.Length, pdu.Length - rule.Offset)].CopyTo(pdu[rule.Offset..]);
        var hlen = PduHeader.HeaderLengthOf((PduType)pdu[0]);
        if (!rule.KeepHeaderDigest && hlen != 0 && ((PduFlags)pdu[1] & PduFlags.HeaderDigest) != 0 && pdu.Length >= hlen + Crc32C.Size)
        {
            Crc32C.Write(pdu[hlen..], Crc32C.Compute(pdu[..hlen]));
        }
    }

    /// <summary>Sends a C2HData of zeros for the CID the matched PDU names, valid in every other respect.</summary>
    private async ValueTask InjectC2HDataAsync(OutgoingPdu matched, int length)
    {
        var span = matched.Buffer.AsSpan(0, matched.Length);
        var cid = matched.Type switch
        {
            PduType.CapsuleResp => BinaryPrimitives.ReadUInt16LittleEndian(span[NvmeTargetFault.CqeCidOffset..]),
            PduType.R2T or PduType.C2HData => BinaryPrimitives.ReadUInt16LittleEndian(span[R2TPdu.CccidOffset..]),
            _ => (ushort)0,
        };
        length = (length + 3) & ~3;
        var pdu = new C2HDataPdu(cid, 0, (uint)length, Last: true, Success: false);
        var layout = PduLayout.Of(PduType.C2HData, length, _codec);
        var buffer = ArrayPool<byte>.Shared.Rent((int)layout.Plen);
        pdu.EncodePrefix(buffer, _codec);
        buffer.AsSpan(layout.Pdo, length).Clear();
        if (layout.DataDigestLength != 0)
        {
            Crc32C.Write(buffer.AsSpan(layout.Pdo + length), Crc32C.Compute(buffer.AsSpan(layout.Pdo, length)));
        }

        await SendRawAsync(buffer.AsMemory(0, (int)layout.Plen)).ConfigureAwait(false);
        ArrayPool<byte>.Shared.Return(buffer);
    }
}
