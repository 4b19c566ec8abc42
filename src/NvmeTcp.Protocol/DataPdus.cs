using System.Buffers.Binary;

namespace NvmeTcp.Protocol;

/// <summary>
/// C2HData, Controller to Host Data (NVMe/TCP 3.6.2.8).
/// <code>
/// byte 8-9     CCCID  the command's CID
/// byte 10-11   reserved
/// byte 12-15   DATAO  offset of this data in the command's transfer
/// byte 16-19   DATAL  bytes of data in this PDU
/// byte 20-23   reserved
/// </code>
/// FLAGS: LAST_PDU on the last PDU of the transfer; SUCCESS (only with LAST_PDU) when no CapsuleResp follows.
/// </summary>
public readonly record struct C2HDataPdu(ushort Cccid, uint Datao, uint Datal, bool Last, bool Success)
{
    /// <summary>HLEN of a C2HData.</summary>
    public const int HeaderLength = 24;

    /// <summary>Byte offset of CCCID.</summary>
    public const int CccidOffset = 8;

    /// <summary>Byte offset of DATAO.</summary>
    public const int DataoOffset = 12;

    /// <summary>Byte offset of DATAL.</summary>
    public const int DatalOffset = 16;

    /// <summary>Writes header, header digest and padding; the data and its digest follow.</summary>
    public PduLayout EncodePrefix(Span<byte> destination, in PduCodecOptions options)
    {
        var layout = PduLayout.Of(PduType.C2HData, checked((int)Datal), options);
        var header = destination[..HeaderLength];
        header.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(header[CccidOffset..], Cccid);
        BinaryPrimitives.WriteUInt32LittleEndian(header[DataoOffset..], Datao);
        BinaryPrimitives.WriteUInt32LittleEndian(header[DatalOffset..], Datal);
        var flags = (Last ? PduFlags.LastPdu : PduFlags.None) | (Success ? PduFlags.Success : PduFlags.None);
        layout.Complete(destination, PduType.C2HData, flags);
        return layout;
    }

    /// <summary>Reads the fields from a validated header.</summary>
    public static C2HDataPdu Read(ReadOnlySpan<byte> header)
    {
        var flags = (PduFlags)header[1];
        return new(
            BinaryPrimitives.ReadUInt16LittleEndian(header[CccidOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[DataoOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[DatalOffset..]),
            (flags & PduFlags.LastPdu) != 0,
            (flags & PduFlags.Success) != 0);
    }
}

/// <summary>
/// H2CData, Host to Controller Data (NVMe/TCP 3.6.2.9), sent only in answer to an R2T.
/// <code>
/// byte 8-9     CCCID  the command's CID
/// byte 10-11   TTAG   the R2T's transfer tag, echoed
/// byte 12-15   DATAO  offset of this data in the command's transfer
/// byte 16-19   DATAL  bytes of data in this PDU, at most MAXH2CDATA
/// byte 20-23   reserved
/// </code>
/// FLAGS: LAST_PDU on the last PDU answering an R2T.
/// </summary>
public readonly record struct H2CDataPdu(ushort Cccid, ushort Ttag, uint Datao, uint Datal, bool Last)
{
    /// <summary>HLEN of an H2CData.</summary>
    public const int HeaderLength = 24;

    /// <summary>Byte offset of CCCID.</summary>
    public const int CccidOffset = 8;

    /// <summary>Byte offset of TTAG.</summary>
    public const int TtagOffset = 10;

    /// <summary>Byte offset of DATAO.</summary>
    public const int DataoOffset = 12;

    /// <summary>Byte offset of DATAL.</summary>
    public const int DatalOffset = 16;

    /// <summary>Writes header, header digest and padding; the data and its digest follow.</summary>
    public PduLayout EncodePrefix(Span<byte> destination, in PduCodecOptions options)
    {
        var layout = PduLayout.Of(PduType.H2CData, checked((int)Datal), options);
        var header = destination[..HeaderLength];
        header.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(header[CccidOffset..], Cccid);
        BinaryPrimitives.WriteUInt16LittleEndian(header[TtagOffset..], Ttag);
        BinaryPrimitives.WriteUInt32LittleEndian(header[DataoOffset..], Datao);
        BinaryPrimitives.WriteUInt32LittleEndian(header[DatalOffset..], Datal);
        layout.Complete(destination, PduType.H2CData, Last ? PduFlags.LastPdu : PduFlags.None);
        return layout;
    }

    /// <summary>Reads the fields from a validated header.</summary>
    public static H2CDataPdu Read(ReadOnlySpan<byte> header) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(header[CccidOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(header[TtagOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[DataoOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[DatalOffset..]),
        ((PduFlags)header[1] & PduFlags.LastPdu) != 0);
}

/// <summary>
/// R2T, Ready to Transfer (NVMe/TCP 3.6.2.10). PDO 0, no data.
/// <code>
/// byte 8-9     CCCID  the command's CID
/// byte 10-11   TTAG   transfer tag, chosen by the controller
/// byte 12-15   R2TO   offset of the requested data in the command's transfer
/// byte 16-19   R2TL   bytes requested (may exceed MAXH2CDATA: the host splits)
/// byte 20-23   reserved
/// </code>
/// </summary>
public readonly record struct R2TPdu(ushort Cccid, ushort Ttag, uint R2to, uint R2tl)
{
    /// <summary>HLEN of an R2T.</summary>
    public const int HeaderLength = 24;

    /// <summary>Byte offset of CCCID.</summary>
    public const int CccidOffset = 8;

    /// <summary>Byte offset of TTAG.</summary>
    public const int TtagOffset = 10;

    /// <summary>Byte offset of R2TO.</summary>
    public const int R2toOffset = 12;

    /// <summary>Byte offset of R2TL.</summary>
    public const int R2tlOffset = 16;

    /// <summary>Writes the whole PDU; returns its length.</summary>
    public int Encode(Span<byte> destination, in PduCodecOptions options)
    {
        var layout = PduLayout.Of(PduType.R2T, 0, options);
        var header = destination[..HeaderLength];
        header.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(header[CccidOffset..], Cccid);
        BinaryPrimitives.WriteUInt16LittleEndian(header[TtagOffset..], Ttag);
        BinaryPrimitives.WriteUInt32LittleEndian(header[R2toOffset..], R2to);
        BinaryPrimitives.WriteUInt32LittleEndian(header[R2tlOffset..], R2tl);
        layout.Complete(destination, PduType.R2T, PduFlags.None);
        return layout.PrefixLength;
    }

    /// <summary>Reads the fields from a validated header.</summary>
    public static R2TPdu Read(ReadOnlySpan<byte> header) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(header[CccidOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(header[TtagOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[R2toOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[R2tlOffset..]));
}
