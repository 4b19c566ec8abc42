namespace NvmeTcp.Protocol;

/// <summary>
/// CapsuleCmd, Command Capsule (NVMe/TCP 3.6.2.6).
/// <code>
/// byte 8-71   SQE
/// then        HDGST, padding to PDO, in-capsule data, DDGST (see <see cref="PduLayout"/>)
/// </code>
/// Without in-capsule data PDO is 0 and PLEN is 72 (+4 with header digests).
/// </summary>
public static class CapsuleCmdPdu
{
    /// <summary>HLEN of a CapsuleCmd.</summary>
    public const int HeaderLength = PduHeader.Size + Sqe.Size;

    /// <summary>Byte offset of the SQE.</summary>
    public const int SqeOffset = 8;

    /// <summary>
    /// Writes everything before the in-capsule data: header, SQE, header digest and padding. The caller then
    /// sends the data and, with data digests, <see cref="Crc32C.Compute"/> of it.
    /// </summary>
    /// <returns>The layout; <see cref="PduLayout.PrefixLength"/> bytes were written.</returns>
    public static PduLayout EncodePrefix(Span<byte> destination, in Sqe sqe, int inCapsuleDataLength, in PduCodecOptions options)
    {
        var layout = PduLayout.Of(PduType.CapsuleCmd, inCapsuleDataLength, options);
        sqe.Write(destination.Slice(SqeOffset, Sqe.Size));
        layout.Complete(destination, PduType.CapsuleCmd, PduFlags.None);
        return layout;
    }

    /// <summary>Reads the SQE from a validated header.</summary>
    public static Sqe ReadSqe(ReadOnlySpan<byte> header) => Sqe.Read(header.Slice(SqeOffset, Sqe.Size));
}

/// <summary>
/// CapsuleResp, Response Capsule (NVMe/TCP 3.6.2.7). PDO 0, never data.
/// <code>
/// byte 8-23   CQE
/// </code>
/// </summary>
public static class CapsuleRespPdu
{
    /// <summary>HLEN of a CapsuleResp.</summary>
    public const int HeaderLength = PduHeader.Size + Cqe.Size;

    /// <summary>Byte offset of the CQE.</summary>
    public const int CqeOffset = 8;

    /// <summary>Writes the whole PDU; returns its length.</summary>
    public static int Encode(Span<byte> destination, in Cqe cqe, in PduCodecOptions options)
    {
        var layout = PduLayout.Of(PduType.CapsuleResp, 0, options);
        cqe.Write(destination.Slice(CqeOffset, Cqe.Size));
        layout.Complete(destination, PduType.CapsuleResp, PduFlags.None);
        return layout.PrefixLength;
    }

    /// <summary>Reads the CQE from a validated header.</summary>
    public static Cqe ReadCqe(ReadOnlySpan<byte> header) => Cqe.Read(header.Slice(CqeOffset, Cqe.Size));
}
