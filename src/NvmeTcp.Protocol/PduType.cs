namespace NvmeTcp.Protocol;

/// <summary>NVMe/TCP PDU-Type (NVMe/TCP Transport 1.0, 3.6.1). Bit 0 is the direction: 0 host to controller, 1 controller to host.</summary>
public enum PduType : byte
{
    /// <summary>Initialize Connection Request (host to controller).</summary>
    ICReq = 0x00,

    /// <summary>Initialize Connection Response (controller to host).</summary>
    ICResp = 0x01,

    /// <summary>Host to Controller Terminate Connection Request.</summary>
    H2CTermReq = 0x02,

    /// <summary>Controller to Host Terminate Connection Request.</summary>
    C2HTermReq = 0x03,

    /// <summary>Command Capsule: an SQE, optionally with in-capsule data.</summary>
    CapsuleCmd = 0x04,

    /// <summary>Response Capsule: a CQE.</summary>
    CapsuleResp = 0x05,

    /// <summary>Host to Controller Data, sent in answer to an R2T.</summary>
    H2CData = 0x06,

    /// <summary>Controller to Host Data.</summary>
    C2HData = 0x07,

    /// <summary>Ready to Transfer.</summary>
    R2T = 0x09,
}

/// <summary>Which way a PDU travels.</summary>
public enum PduDirection : byte
{
    /// <summary>Sent by the host, received by the controller (even PDU types).</summary>
    HostToController = 0,

    /// <summary>Sent by the controller, received by the host (odd PDU types).</summary>
    ControllerToHost = 1,
}

/// <summary>PDU header FLAGS (NVMe/TCP 3.6.1). Which bits a PDU type may carry is checked by <see cref="PduDecoder"/>.</summary>
[Flags]
public enum PduFlags : byte
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>HDGSTF: a header digest follows the header.</summary>
    HeaderDigest = 1 << 0,

    /// <summary>DDGSTF: a data digest follows the data.</summary>
    DataDigest = 1 << 1,

    /// <summary>LAST_PDU: the last data PDU of a transfer (H2CData, C2HData).</summary>
    LastPdu = 1 << 2,

    /// <summary>SUCCESS: the command completed successfully and no CapsuleResp follows (C2HData with LAST_PDU only).</summary>
    Success = 1 << 3,
}

/// <summary>Fatal Error Status of a TermReq (NVMe/TCP 3.6.2.4, 3.6.2.5).</summary>
public enum FatalErrorStatus : ushort
{
    /// <summary>Invalid PDU Header Field; FEI is the byte offset of the field.</summary>
    InvalidHeaderField = 0x01,

    /// <summary>PDU Sequence Error: a PDU that is not allowed in the current state.</summary>
    PduSequenceError = 0x02,

    /// <summary>Header Digest Error; FEI is the received HDGST.</summary>
    HeaderDigestError = 0x03,

    /// <summary>Data Transfer Out of Range.</summary>
    DataTransferOutOfRange = 0x04,

    /// <summary>In an H2CTermReq, R2T Limit Exceeded; in a C2HTermReq, Data Transfer Limit Exceeded (an H2CData over MAXH2CDATA).</summary>
    LimitExceeded = 0x05,

    /// <summary>Unsupported Parameter; FEI is the byte offset of the field.</summary>
    UnsupportedParameter = 0x06,
}
