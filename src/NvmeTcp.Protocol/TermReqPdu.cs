using System.Buffers.Binary;

namespace NvmeTcp.Protocol;

/// <summary>
/// H2CTermReq or C2HTermReq, Terminate Connection Request (NVMe/TCP 3.6.2.4, 3.6.2.5). FLAGS 0, PDO 0, no digests.
/// <code>
/// byte 8-9     FES   fatal error status
/// byte 10-13   FEI   fatal error information: the offending field's byte offset (FES 1, 6), the received HDGST (FES 3)
/// byte 14-23   reserved
/// byte 24-     the header of the PDU in error, up to 128 bytes (PLEN 24 to 152)
/// </code>
/// After a TermReq both ends close the connection.
/// </summary>
public readonly record struct TermReqPdu(PduType Type, FatalErrorStatus Fes, uint Fei)
{
    /// <summary>HLEN of a TermReq.</summary>
    public const int HeaderLength = 24;

    /// <summary>Byte offset of FES.</summary>
    public const int FesOffset = 8;

    /// <summary>Byte offset of FEI.</summary>
    public const int FeiOffset = 10;

    /// <summary>The largest PLEN: the header plus 128 bytes of the PDU in error.</summary>
    public const int MaxLength = HeaderLength + PduCodecOptions.MaxTermReqData;

    /// <summary>Writes the PDU, with up to 128 bytes of the offending PDU's header; returns the bytes written.</summary>
    public int Encode(Span<byte> destination, ReadOnlySpan<byte> offendingHeader)
    {
        if (Type is not (PduType.H2CTermReq or PduType.C2HTermReq))
        {
            throw new InvalidOperationException($"{Type} is not a TermReq.");
        }

        var data = offendingHeader.Length > PduCodecOptions.MaxTermReqData ? offendingHeader[..PduCodecOptions.MaxTermReqData] : offendingHeader;
        var length = HeaderLength + data.Length;
        var pdu = destination[..length];
        pdu[..HeaderLength].Clear();
        new PduHeader(Type, PduFlags.None, HeaderLength, 0, (uint)length).Write(pdu);
        BinaryPrimitives.WriteUInt16LittleEndian(pdu[FesOffset..], (ushort)Fes);
        BinaryPrimitives.WriteUInt32LittleEndian(pdu[FeiOffset..], Fei);
        data.CopyTo(pdu[HeaderLength..]);
        return length;
    }

    /// <summary>Reads the fields from a validated header.</summary>
    public static TermReqPdu Read(ReadOnlySpan<byte> header) => new(
        (PduType)header[0],
        (FatalErrorStatus)BinaryPrimitives.ReadUInt16LittleEndian(header[FesOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[FeiOffset..]));

    /// <summary>The TermReq that answers <paramref name="error"/>, sent by the end that found it.</summary>
    public static TermReqPdu For(in PduError error, PduDirection sending) =>
        new(sending == PduDirection.HostToController ? PduType.H2CTermReq : PduType.C2HTermReq, error.Fes, error.Fei);
}
