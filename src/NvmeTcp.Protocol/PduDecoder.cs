using System.Buffers.Binary;

namespace NvmeTcp.Protocol;

/// <summary>
/// Validates and decodes received PDUs (NVMe/TCP 3.6). Every byte is untrusted: a header is checked against its type's
/// fixed HLEN, the flags its type allows, the negotiated digests and data alignment, PLEN against HLEN, digests,
/// padding and data, and against the most data this end accepts; a violation comes back as a <see cref="PduError"/>
/// with the FES and FEI of the TermReq that reports it. Checks that need connection state (CIDs, offsets within a
/// command, R2T limits) belong to the transport.
/// </summary>
/// <remarks>
/// On partial input a decode returns <see cref="DecodeStatus.NeedMoreData"/> and consumes nothing. Checks run in a
/// fixed order: type, direction, state, HLEN, then the header digest (once HLEN is known the digest covers every other
/// field), then flags, PDO, PLEN and the type's own fields. The first violation found is reported.
/// </remarks>
public static class PduDecoder
{
    /// <summary>Validates the header at the start of <paramref name="buffer"/>; the data need not have arrived.</summary>
    public static DecodeStatus TryDecodeHeader(ReadOnlySpan<byte> buffer, in PduCodecOptions options, out ReceivedHeader header, out PduError error)
    {
        header = default;
        error = default;
        if (buffer.Length < PduHeader.Size)
        {
            return DecodeStatus.NeedMoreData;
        }

        var common = PduHeader.Read(buffer);
        var type = common.Type;
        var hlen = PduHeader.HeaderLengthOf(type);
        if (hlen == 0)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, 0, PduRule.UnknownType, type);
        }

        if (PduHeader.DirectionOf(type) != options.Receiving)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, 0, PduRule.WrongDirection, type);
        }

        // IC PDUs only before initialization, capsules and data only after it; a TermReq may come at any time: a
        // controller answers a bad ICReq with a C2HTermReq instead of an ICResp (SPDK's nvmf_tcp_icreq_handle does),
        // and a host answers a bad ICResp with an H2CTermReq.
        var isIc = type is PduType.ICReq or PduType.ICResp;
        var isTermReq = type is PduType.H2CTermReq or PduType.C2HTermReq;
        if (!isTermReq && isIc == options.Initialized)
        {
            return Fail(out error, FatalErrorStatus.PduSequenceError, 0, PduRule.UnexpectedPdu, type);
        }

        if (common.Hlen != hlen)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.HlenOffset, PduRule.HeaderLength, type);
        }

        var hd = options.HasHeaderDigest(type) ? Crc32C.Size : 0;
        if (buffer.Length < hlen + hd)
        {
            return DecodeStatus.NeedMoreData;
        }

        // HDGSTF before the digest, as Linux and FreeBSD check it (lowest field first): without the flag the four bytes
        // after the header are not a digest, and a mismatch would be misreported as a digest error.
        if (!PduCodecOptions.IsUndigested(type) && ((common.Flags & PduFlags.HeaderDigest) != 0) != (hd != 0))
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.FlagsOffset, PduRule.HeaderDigestFlag, type);
        }

        var bytes = buffer[..(hlen + hd)];
        if (hd != 0)
        {
            var received = Crc32C.Read(bytes[hlen..]);
            if (received != Crc32C.Compute(bytes[..hlen]))
            {
                return Fail(out error, FatalErrorStatus.HeaderDigestError, received, PduRule.HeaderDigest, type);
            }
        }

        var status = CheckFlags(common, out error);
        if (status != DecodeStatus.Done)
        {
            return status;
        }

        status = CheckLengths(common, hd, options, out var dataOffset, out var dataLength, out var dd, out var truncated, out error);
        if (status != DecodeStatus.Done)
        {
            return status;
        }

        status = CheckTypeFields(bytes, common, dataLength, options, out error);
        if (status != DecodeStatus.Done)
        {
            return status;
        }

        header = new ReceivedHeader(bytes, common, hd, dataOffset, dataLength, dd, truncated);
        return DecodeStatus.Done;
    }

    /// <summary>
    /// Decodes a whole PDU, data and data digest included. On <see cref="DecodeStatus.Done"/> or
    /// <see cref="DecodeStatus.DataDigestError"/> the PDU is <see cref="ReceivedHeader.Length"/> bytes long.
    /// </summary>
    public static DecodeStatus TryDecode(ReadOnlySpan<byte> buffer, scoped in PduCodecOptions options, out ReceivedHeader header, out ReadOnlySpan<byte> data, out PduError error)
    {
        data = default;
        var status = TryDecodeHeader(buffer, options, out header, out error);
        if (status != DecodeStatus.Done)
        {
            return status;
        }

        if (buffer.Length < header.Length)
        {
            header = default;
            return DecodeStatus.NeedMoreData;
        }

        data = buffer.Slice(header.DataOffset, header.DataLength);
        if (header.DataDigestLength != 0
            && Crc32C.Read(buffer[(header.DataOffset + header.DataLength)..]) != Crc32C.Compute(data))
        {
            return DecodeStatus.DataDigestError;
        }

        return DecodeStatus.Done;
    }

    private static DecodeStatus CheckFlags(PduHeader common, out PduError error)
    {
        var type = common.Type;
        var allowed = type switch
        {
            PduType.CapsuleCmd => PduFlags.HeaderDigest | PduFlags.DataDigest,
            PduType.CapsuleResp or PduType.R2T => PduFlags.HeaderDigest,
            PduType.H2CData => PduFlags.HeaderDigest | PduFlags.DataDigest | PduFlags.LastPdu,
            PduType.C2HData => PduFlags.HeaderDigest | PduFlags.DataDigest | PduFlags.LastPdu | PduFlags.Success,
            _ => PduFlags.None,
        };

        if ((common.Flags & ~allowed) != 0)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.FlagsOffset, PduRule.FlagNotAllowed, type);
        }

        if ((common.Flags & (PduFlags.Success | PduFlags.LastPdu)) == PduFlags.Success)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.FlagsOffset, PduRule.SuccessWithoutLast, type);
        }

        error = default;
        return DecodeStatus.Done;
    }

    private static DecodeStatus CheckLengths(PduHeader common, int hd, in PduCodecOptions options, out int dataOffset, out int dataLength, out int dd, out bool truncated, out PduError error)
    {
        var type = common.Type;
        var hlen = common.Hlen;
        dataOffset = 0;
        dataLength = 0;
        dd = 0;
        truncated = false;
        error = default;
        switch (type)
        {
            case PduType.ICReq or PduType.ICResp:
                if (common.Pdo != 0)
                {
                    return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PdoOffset, PduRule.DataOffset, type);
                }

                return common.Plen == hlen ? DecodeStatus.Done
                    : Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PlenOffset, PduRule.PduLength, type);

            case PduType.H2CTermReq or PduType.C2HTermReq:
                // PDO is reserved in a TermReq (its data always starts at HLEN), and receivers do not check reserved
                // fields: a peer's reason for ending the connection is read whatever it put there.
                if (common.Plen < hlen)
                {
                    return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PlenOffset, PduRule.PduLength, type);
                }

                // The data is the offending header, at most 128 bytes; beyond that only the header is read (the
                // connection is going down), so a claimed PLEN never makes us wait for or buffer more.
                if (common.Plen > TermReqPdu.MaxLength)
                {
                    truncated = true;
                    return DecodeStatus.Done;
                }

                dataLength = (int)common.Plen - hlen;
                dataOffset = dataLength == 0 ? 0 : hlen;
                return DecodeStatus.Done;

            case PduType.CapsuleResp or PduType.R2T:
                // A capsule without data may also say PDO = PLEN: PDO is defined for capsules and PLEN's data part is
                // empty (FreeBSD, nvmet and SPDK accept it). An R2T never carries data: its PDO stays 0.
                if (common.Pdo != 0 && (type == PduType.R2T || common.Pdo != common.Plen))
                {
                    return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PdoOffset, PduRule.DataOffset, type);
                }

                return common.Plen == hlen + hd ? DecodeStatus.Done
                    : Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PlenOffset, PduRule.PduLength, type);

            // No data: PDO 0, or PDO = PLEN = HLEN (+ HDGST), as a Python host sends every command without data.
            case PduType.CapsuleCmd when common.Pdo == 0 || common.Pdo == common.Plen:
                if ((common.Flags & PduFlags.DataDigest) != 0)
                {
                    return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.FlagsOffset, PduRule.DataDigestFlag, type);
                }

                return common.Plen == hlen + hd ? DecodeStatus.Done
                    : Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PlenOffset, PduRule.PduLength, type);

            case PduType.H2CData or PduType.C2HData when common.Pdo == 0:
                return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PdoOffset, PduRule.DataOffset, type);
        }

        // A PDU with data: [header][HDGST][pad][data][DDGST].
        if (common.Pdo < hlen + hd)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PdoOffset, PduRule.DataOffsetTooSmall, type);
        }

        if (common.Pdo % options.AlignmentOf(type) != 0)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PdoOffset, PduRule.DataOffsetAlignment, type);
        }

        var hasDataDigest = (common.Flags & PduFlags.DataDigest) != 0;
        if (hasDataDigest != options.DataDigest)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.FlagsOffset, PduRule.DataDigestFlag, type);
        }

        dd = hasDataDigest ? Crc32C.Size : 0;

        // PLEN counts everything: PDO (header, digest, pad) + data + data digest; at least one byte of data.
        var length = (long)common.Plen - common.Pdo - dd;
        if (length <= 0)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PlenOffset, PduRule.PduLength, type);
        }

        // An H2CData over MAXH2CDATA is Data Transfer Limit Exceeded (NVMe/TCP 3.3.2.2, FES 05h), even when it is also
        // more than this end would buffer: the more precise status first.
        if (type == PduType.H2CData && options.MaxH2CData != 0 && length > options.MaxH2CData)
        {
            return Fail(out error, FatalErrorStatus.LimitExceeded, H2CDataPdu.DatalOffset, PduRule.DataLengthOverMaxH2CData, type);
        }

        // Lengths and offsets are ints from here on (ReceivedHeader.Length, slicing): a PLEN past int.MaxValue is too
        // large whatever MaxDataLength allows, or it would wrap negative and pass the DATAL check.
        if (length > options.MaxDataLength || common.Plen > int.MaxValue)
        {
            return Fail(out error, FatalErrorStatus.InvalidHeaderField, PduHeader.PlenOffset, PduRule.PduLengthTooLarge, type);
        }

        dataOffset = common.Pdo;
        dataLength = (int)length;
        return DecodeStatus.Done;
    }

    private static DecodeStatus CheckTypeFields(ReadOnlySpan<byte> header, PduHeader common, int dataLength, in PduCodecOptions options, out PduError error)
    {
        var type = common.Type;
        error = default;
        switch (type)
        {
            case PduType.ICReq:
            case PduType.ICResp:
                // ICReq and ICResp share the layout of bytes 8-11: PFV, PDA, DGST.
                if (BinaryPrimitives.ReadUInt16LittleEndian(header[IcReqPdu.PfvOffset..]) != 0)
                {
                    return Fail(out error, FatalErrorStatus.UnsupportedParameter, IcReqPdu.PfvOffset, PduRule.IcVersion, type);
                }

                if (header[IcReqPdu.HpdaOffset] > 31)
                {
                    return Fail(out error, FatalErrorStatus.InvalidHeaderField, IcReqPdu.HpdaOffset, PduRule.IcAlignment, type);
                }

                if ((header[IcReqPdu.DigestOffset] & ~(int)(DigestTypes.Header | DigestTypes.Data)) != 0)
                {
                    return Fail(out error, FatalErrorStatus.InvalidHeaderField, IcReqPdu.DigestOffset, PduRule.IcDigestBits, type);
                }

                if (type == PduType.ICResp)
                {
                    var maxData = BinaryPrimitives.ReadUInt32LittleEndian(header[IcRespPdu.MaxH2CDataOffset..]);
                    if (maxData < PduCodecOptions.MinMaxH2CData || maxData % 4 != 0)
                    {
                        return Fail(out error, FatalErrorStatus.InvalidHeaderField, IcRespPdu.MaxH2CDataOffset, PduRule.IcMaxH2CData, type);
                    }
                }

                return CheckReserved(header, 16, 128, options, type, out error);

            case PduType.H2CTermReq or PduType.C2HTermReq:
                return CheckReserved(header, 14, 24, options, type, out error);

            case PduType.C2HData:
                if (BinaryPrimitives.ReadUInt32LittleEndian(header[C2HDataPdu.DatalOffset..]) != (uint)dataLength)
                {
                    return Fail(out error, FatalErrorStatus.InvalidHeaderField, C2HDataPdu.DatalOffset, PduRule.DataLength, type);
                }

                var status = CheckReserved(header, 10, 12, options, type, out error);
                return status != DecodeStatus.Done ? status : CheckReserved(header, 20, 24, options, type, out error);

            case PduType.H2CData:
                var datal = BinaryPrimitives.ReadUInt32LittleEndian(header[H2CDataPdu.DatalOffset..]);
                if (datal != (uint)dataLength)
                {
                    return Fail(out error, FatalErrorStatus.InvalidHeaderField, H2CDataPdu.DatalOffset, PduRule.DataLength, type);
                }

                if (datal > options.MaxH2CData)
                {
                    return Fail(out error, FatalErrorStatus.LimitExceeded, H2CDataPdu.DatalOffset, PduRule.DataLengthOverMaxH2CData, type);
                }

                return CheckReserved(header, 20, 24, options, type, out error);

            case PduType.R2T:
                if (BinaryPrimitives.ReadUInt32LittleEndian(header[R2TPdu.R2tlOffset..]) == 0)
                {
                    return Fail(out error, FatalErrorStatus.InvalidHeaderField, R2TPdu.R2tlOffset, PduRule.R2TLength, type);
                }

                return CheckReserved(header, 20, 24, options, type, out error);

            default:
                return DecodeStatus.Done;
        }
    }

    private static DecodeStatus CheckReserved(ReadOnlySpan<byte> header, int from, int to, in PduCodecOptions options, PduType type, out PduError error)
    {
        error = default;
        if (!options.CheckReserved)
        {
            return DecodeStatus.Done;
        }

        var index = header[from..to].IndexOfAnyExcept((byte)0);
        return index < 0 ? DecodeStatus.Done
            : Fail(out error, FatalErrorStatus.InvalidHeaderField, (uint)(from + index), PduRule.ReservedField, type);
    }

    private static DecodeStatus Fail(out PduError error, FatalErrorStatus fes, uint fei, PduRule rule, PduType type)
    {
        error = new PduError(fes, fei, rule, type);
        return DecodeStatus.Invalid;
    }
}
