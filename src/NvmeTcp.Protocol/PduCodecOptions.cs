namespace NvmeTcp.Protocol;

/// <summary>Digest types in ICReq/ICResp DGST (NVMe/TCP 3.6.2.2): what the host wants, what the controller enabled.</summary>
[Flags]
public enum DigestTypes : byte
{
    /// <summary>No digest.</summary>
    None = 0,

    /// <summary>HDGST_ENABLE.</summary>
    Header = 1 << 0,

    /// <summary>DDGST_ENABLE.</summary>
    Data = 1 << 1,
}

/// <summary>
/// What one end of a connection has negotiated, for encoding what it sends and validating what it receives.
/// Before ICReq/ICResp complete, <see cref="Initialized"/> is false: only IC PDUs and TermReqs are allowed and none has digests.
/// </summary>
/// <param name="Receiving">The direction of the PDUs this end receives: <see cref="PduDirection.ControllerToHost"/> on a host.</param>
/// <param name="Initialized">ICReq/ICResp exchanged: capsules and data may flow, IC PDUs may not.</param>
/// <param name="HeaderDigest">HDGST on every PDU but IC and TermReq.</param>
/// <param name="DataDigest">DDGST on every PDU that carries data.</param>
/// <param name="HostAlignment">(HPDA + 1) * 4: the alignment in bytes of data in controller-to-host PDUs.</param>
/// <param name="ControllerAlignment">(CPDA + 1) * 4: the alignment in bytes of data in host-to-controller PDUs.</param>
/// <param name="MaxH2CData">MAXH2CDATA from ICResp: the most data one H2CData PDU may carry.</param>
/// <param name="MaxDataLength">
/// The most data one received PDU may carry. A PLEN that claims more is refused before any of it is read, so a
/// peer cannot make us buffer what it merely claims it will send.
/// </param>
/// <param name="CheckReserved">Refuse reserved bytes that are not zero (the in-process target, a test oracle, does).</param>
public readonly record struct PduCodecOptions(
    PduDirection Receiving,
    bool Initialized,
    bool HeaderDigest,
    bool DataDigest,
    int HostAlignment,
    int ControllerAlignment,
    uint MaxH2CData,
    uint MaxDataLength,
    bool CheckReserved)
{
    /// <summary>The smallest MAXH2CDATA a controller may grant (NVMe/TCP 3.6.2.3).</summary>
    public const uint MinMaxH2CData = 4096;

    /// <summary>The most data a C2HTermReq or H2CTermReq carries: the offending PDU's header, up to 128 bytes.</summary>
    public const int MaxTermReqData = 128;

    /// <summary>Options for a host before the ICResp.</summary>
    public static PduCodecOptions HostBeforeInitialize(uint maxDataLength) =>
        new(PduDirection.ControllerToHost, false, false, false, 4, 4, 0, maxDataLength, false);

    /// <summary>Options for a controller before the ICReq.</summary>
    public static PduCodecOptions ControllerBeforeInitialize(uint maxDataLength) =>
        new(PduDirection.HostToController, false, false, false, 4, 4, 0, maxDataLength, true);

    /// <summary>Options after a completed ICReq/ICResp exchange.</summary>
    public PduCodecOptions AfterInitialize(in IcReqPdu icReq, in IcRespPdu icResp) => this with
    {
        Initialized = true,
        HeaderDigest = (icResp.Digests & DigestTypes.Header) != 0,
        DataDigest = (icResp.Digests & DigestTypes.Data) != 0,
        HostAlignment = (icReq.Hpda + 1) * 4,
        ControllerAlignment = (icResp.Cpda + 1) * 4,
        MaxH2CData = icResp.MaxH2CData,
    };

    /// <summary>The data alignment a PDU type must honour.</summary>
    public int AlignmentOf(PduType type) =>
        PduHeader.DirectionOf(type) == PduDirection.HostToController ? ControllerAlignment : HostAlignment;

    /// <summary>Whether a PDU type carries a header digest under these options.</summary>
    public bool HasHeaderDigest(PduType type) => HeaderDigest && Initialized && !IsUndigested(type);

    /// <summary>IC and TermReq PDUs never carry digests.</summary>
    public static bool IsUndigested(PduType type) =>
        type is PduType.ICReq or PduType.ICResp or PduType.H2CTermReq or PduType.C2HTermReq;
}
