namespace NvmeTcp.Protocol;

/// <summary>Which rule a received PDU broke; each maps to the FES and FEI a TermReq would carry.</summary>
public enum PduRule : byte
{
    /// <summary>No violation.</summary>
    None = 0,

    /// <summary>PDU-Type is not one NVMe/TCP defines.</summary>
    UnknownType,

    /// <summary>A PDU type that travels the other way.</summary>
    WrongDirection,

    /// <summary>An IC PDU after initialization, or a capsule or data PDU before it (a TermReq may come at any time).</summary>
    UnexpectedPdu,

    /// <summary>HLEN is not the fixed length of the type.</summary>
    HeaderLength,

    /// <summary>FLAGS has a bit the type does not allow (or a reserved bit).</summary>
    FlagNotAllowed,

    /// <summary>HDGSTF differs from what was negotiated.</summary>
    HeaderDigestFlag,

    /// <summary>DDGSTF differs from what was negotiated for a PDU with (or without) data.</summary>
    DataDigestFlag,

    /// <summary>SUCCESS without LAST_PDU.</summary>
    SuccessWithoutLast,

    /// <summary>PDO is not 0 where the type has no data, or is 0 where data is required.</summary>
    DataOffset,

    /// <summary>PDO overlaps the header or header digest.</summary>
    DataOffsetTooSmall,

    /// <summary>PDO is not a multiple of the negotiated alignment.</summary>
    DataOffsetAlignment,

    /// <summary>PLEN does not fit HLEN, digests, padding and data.</summary>
    PduLength,

    /// <summary>PLEN claims more data than this end accepts in one PDU.</summary>
    PduLengthTooLarge,

    /// <summary>DATAL differs from the data the PDU carries, or is 0.</summary>
    DataLength,

    /// <summary>H2CData DATAL over MAXH2CDATA.</summary>
    DataLengthOverMaxH2CData,

    /// <summary>R2TL is 0.</summary>
    R2TLength,

    /// <summary>A reserved field is not zero.</summary>
    ReservedField,

    /// <summary>The received header digest does not match the header.</summary>
    HeaderDigest,

    /// <summary>PFV is not 0.</summary>
    IcVersion,

    /// <summary>HPDA or CPDA over 31.</summary>
    IcAlignment,

    /// <summary>DGST has a reserved bit.</summary>
    IcDigestBits,

    /// <summary>ICResp MAXH2CDATA below 4096 or not a dword multiple.</summary>
    IcMaxH2CData,

    /// <summary>ICResp enabled digests other than those the ICReq asked for.</summary>
    IcDigestsNotAsRequested,
}

/// <summary>A violation found in a received PDU, with the FES and FEI of the TermReq that reports it.</summary>
/// <param name="Fes">Fatal error status.</param>
/// <param name="Fei">Fatal error information: the offending field's byte offset, or for a header digest error the received digest.</param>
/// <param name="Rule">The rule broken.</param>
/// <param name="Type">The type of the offending PDU (as received, possibly not a valid type).</param>
public readonly record struct PduError(FatalErrorStatus Fes, uint Fei, PduRule Rule, PduType Type)
{
    /// <summary>A short English description for logs and exception messages.</summary>
    public override string ToString() => $"{Describe(Rule)} in {TypeName(Type)} PDU (FES {(int)Fes}, FEI {(Fes == FatalErrorStatus.HeaderDigestError ? $"0x{Fei:X8}" : Fei.ToString(System.Globalization.CultureInfo.InvariantCulture))})";

    private static string TypeName(PduType type) => Enum.IsDefined(type) ? type.ToString() : $"0x{(byte)type:X2}";

    private static string Describe(PduRule rule) => rule switch
    {
        PduRule.UnknownType => "unknown PDU type",
        PduRule.WrongDirection => "PDU type sent the wrong way",
        PduRule.UnexpectedPdu => "PDU not allowed in this connection state",
        PduRule.HeaderLength => "wrong HLEN",
        PduRule.FlagNotAllowed => "flag not allowed",
        PduRule.HeaderDigestFlag => "HDGSTF not as negotiated",
        PduRule.DataDigestFlag => "DDGSTF not as negotiated",
        PduRule.SuccessWithoutLast => "SUCCESS without LAST_PDU",
        PduRule.DataOffset => "PDO not allowed",
        PduRule.DataOffsetTooSmall => "PDO inside the header",
        PduRule.DataOffsetAlignment => "PDO not aligned to the negotiated PDA",
        PduRule.PduLength => "PLEN inconsistent with the header",
        PduRule.PduLengthTooLarge => "PLEN over the accepted maximum",
        PduRule.DataLength => "DATAL does not match the data carried",
        PduRule.DataLengthOverMaxH2CData => "DATAL over MAXH2CDATA",
        PduRule.R2TLength => "R2TL is zero",
        PduRule.ReservedField => "reserved field not zero",
        PduRule.HeaderDigest => "header digest mismatch",
        PduRule.IcVersion => "unsupported PFV",
        PduRule.IcAlignment => "PDA over 31",
        PduRule.IcDigestBits => "reserved DGST bits",
        PduRule.IcMaxH2CData => "MAXH2CDATA below 4096 or not a dword multiple",
        PduRule.IcDigestsNotAsRequested => "digests enabled other than those requested",
        _ => rule.ToString(),
    };
}
