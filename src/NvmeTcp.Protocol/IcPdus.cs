using System.Buffers.Binary;

namespace NvmeTcp.Protocol;

/// <summary>
/// ICReq, Initialize Connection Request (NVMe/TCP 3.6.2.2). PLEN 128, PDO 0, no digests.
/// <code>
/// byte 8-9     PFV     PDU format version, 0
/// byte 10      HPDA    host PDU data alignment, 0's based dwords (0-31)
/// byte 11      DGST    bit 0 header digest wanted, bit 1 data digest wanted
/// byte 12-15   MAXR2T  R2Ts per command the host accepts outstanding, 0's based
/// byte 16-127  reserved
/// </code>
/// </summary>
public readonly record struct IcReqPdu(ushort Pfv, byte Hpda, DigestTypes Digests, uint MaxR2T)
{
    /// <summary>HLEN and PLEN of an ICReq.</summary>
    public const int Length = 128;

    /// <summary>Byte offset of PFV.</summary>
    public const int PfvOffset = 8;

    /// <summary>Byte offset of HPDA.</summary>
    public const int HpdaOffset = 10;

    /// <summary>Byte offset of DGST.</summary>
    public const int DigestOffset = 11;

    /// <summary>Byte offset of MAXR2T.</summary>
    public const int MaxR2TOffset = 12;

    /// <summary>Writes the 128-byte PDU.</summary>
    public void Encode(Span<byte> destination)
    {
        var pdu = destination[..Length];
        pdu.Clear();
        new PduHeader(PduType.ICReq, PduFlags.None, Length, 0, Length).Write(pdu);
        BinaryPrimitives.WriteUInt16LittleEndian(pdu[PfvOffset..], Pfv);
        pdu[HpdaOffset] = Hpda;
        pdu[DigestOffset] = (byte)Digests;
        BinaryPrimitives.WriteUInt32LittleEndian(pdu[MaxR2TOffset..], MaxR2T);
    }

    /// <summary>Reads the fields from a validated header.</summary>
    public static IcReqPdu Read(ReadOnlySpan<byte> header) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(header[PfvOffset..]),
        header[HpdaOffset],
        (DigestTypes)header[DigestOffset],
        BinaryPrimitives.ReadUInt32LittleEndian(header[MaxR2TOffset..]));
}

/// <summary>
/// ICResp, Initialize Connection Response (NVMe/TCP 3.6.2.3). PLEN 128, PDO 0, no digests.
/// <code>
/// byte 8-9     PFV         PDU format version, 0
/// byte 10      CPDA        controller PDU data alignment, 0's based dwords (0-31)
/// byte 11      DGST        digests enabled: only ones the host asked for
/// byte 12-15   MAXH2CDATA  most data in one H2CData PDU: a dword multiple, at least 4096
/// byte 16-127  reserved
/// </code>
/// </summary>
public readonly record struct IcRespPdu(ushort Pfv, byte Cpda, DigestTypes Digests, uint MaxH2CData)
{
    /// <summary>HLEN and PLEN of an ICResp.</summary>
    public const int Length = 128;

    /// <summary>Byte offset of PFV.</summary>
    public const int PfvOffset = 8;

    /// <summary>Byte offset of CPDA.</summary>
    public const int CpdaOffset = 10;

    /// <summary>Byte offset of DGST.</summary>
    public const int DigestOffset = 11;

    /// <summary>Byte offset of MAXH2CDATA.</summary>
    public const int MaxH2CDataOffset = 12;

    /// <summary>Writes the 128-byte PDU.</summary>
    public void Encode(Span<byte> destination)
    {
        var pdu = destination[..Length];
        pdu.Clear();
        new PduHeader(PduType.ICResp, PduFlags.None, Length, 0, Length).Write(pdu);
        BinaryPrimitives.WriteUInt16LittleEndian(pdu[PfvOffset..], Pfv);
        pdu[CpdaOffset] = Cpda;
        pdu[DigestOffset] = (byte)Digests;
        BinaryPrimitives.WriteUInt32LittleEndian(pdu[MaxH2CDataOffset..], MaxH2CData);
    }

    /// <summary>Reads the fields from a validated header.</summary>
    public static IcRespPdu Read(ReadOnlySpan<byte> header) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(header[PfvOffset..]),
        header[CpdaOffset],
        (DigestTypes)header[DigestOffset],
        BinaryPrimitives.ReadUInt32LittleEndian(header[MaxH2CDataOffset..]));

    /// <summary>
    /// The host's check of an ICResp against the ICReq it sent: a digest the host did not ask for is fatal
    /// (NVMe/TCP 3.6.2.3), and this host also refuses one that it asked for and was not granted, as Linux does.
    /// PFV, CPDA and MAXH2CDATA were range-checked by <see cref="PduDecoder"/>.
    /// </summary>
    /// <returns>True when the host can go on; otherwise <paramref name="error"/> says why, with FES and FEI.</returns>
    public bool IsAcceptableFor(in IcReqPdu request, out PduError error)
    {
        if (Digests != request.Digests)
        {
            error = new PduError(FatalErrorStatus.InvalidHeaderField, DigestOffset, PduRule.IcDigestsNotAsRequested, PduType.ICResp);
            return false;
        }

        error = default;
        return true;
    }
}
