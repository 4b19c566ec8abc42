using System.Runtime.CompilerServices;

namespace NvmeTcp.Protocol;

/// <summary>Result of <see cref="PduDecoder"/>: the PDU is complete and valid, needs more bytes, is invalid, or had a bad data digest.</summary>
public enum DecodeStatus : byte
{
    /// <summary>Decoded and valid.</summary>
    Done,

    /// <summary>Not enough bytes yet; nothing was consumed.</summary>
    NeedMoreData,

    /// <summary>A fatal violation; the error says which, with FES and FEI.</summary>
    Invalid,

    /// <summary>The PDU is well formed but its data digest does not match: only its command fails.</summary>
    DataDigestError,
}

/// <summary>Room for the longest header plus header digest (ICReq/ICResp: 128 bytes, never digested).</summary>
[InlineArray(MaxLength)]
public struct HeaderBuffer
{
    /// <summary>The longest PDU header with its header digest.</summary>
    public const int MaxLength = 128;

    private byte _element0;
}

/// <summary>
/// A validated PDU header and where its data lies. Holds a copy of the header bytes, so it stays valid after the
/// receive buffer moves on; the typed accessors read the fields of the type named by <see cref="Type"/>.
/// </summary>
public readonly struct ReceivedHeader
{
    private readonly HeaderBuffer _bytes;

    /// <summary>Creates the header from validated bytes.</summary>
    public ReceivedHeader(ReadOnlySpan<byte> headerBytes, PduHeader common, int headerDigestLength, int dataOffset, int dataLength, int dataDigestLength, bool truncated)
    {
        headerBytes[..Math.Min(headerBytes.Length, HeaderBuffer.MaxLength)].CopyTo(_bytes);
        Common = common;
        HeaderDigestLength = headerDigestLength;
        DataOffset = dataOffset;
        DataLength = dataLength;
        DataDigestLength = dataDigestLength;
        IsTruncated = truncated;
    }

    /// <summary>The common header.</summary>
    public PduHeader Common { get; }

    /// <summary>PDU-Type.</summary>
    public PduType Type => Common.Type;

    /// <summary>4 with a header digest, else 0.</summary>
    public int HeaderDigestLength { get; }

    /// <summary>Where the data starts in the PDU (PDO; for a TermReq, HLEN); 0 when there is no data.</summary>
    public int DataOffset { get; }

    /// <summary>Bytes of data the PDU carries.</summary>
    public int DataLength { get; }

    /// <summary>4 when a data digest follows the data, else 0.</summary>
    public int DataDigestLength { get; }

    /// <summary>A TermReq with PLEN over 152: only its header is decoded; the connection is closing anyway.</summary>
    public bool IsTruncated { get; }

    /// <summary>The bytes this PDU takes on the wire as decoded: PLEN, or HLEN for a truncated TermReq.</summary>
    public int Length => IsTruncated ? Common.Hlen : (int)Common.Plen;

    /// <summary>ICReq fields.</summary>
    public IcReqPdu IcReq => IcReqPdu.Read(_bytes);

    /// <summary>ICResp fields.</summary>
    public IcRespPdu IcResp => IcRespPdu.Read(_bytes);

    /// <summary>TermReq fields.</summary>
    public TermReqPdu TermReq => TermReqPdu.Read(_bytes);

    /// <summary>The SQE of a CapsuleCmd.</summary>
    public Sqe Sqe => CapsuleCmdPdu.ReadSqe(_bytes);

    /// <summary>The CQE of a CapsuleResp.</summary>
    public Cqe Cqe => CapsuleRespPdu.ReadCqe(_bytes);

    /// <summary>C2HData fields.</summary>
    public C2HDataPdu C2HData => C2HDataPdu.Read(_bytes);

    /// <summary>H2CData fields.</summary>
    public H2CDataPdu H2CData => H2CDataPdu.Read(_bytes);

    /// <summary>R2T fields.</summary>
    public R2TPdu R2T => R2TPdu.Read(_bytes);

    /// <summary>Copies the header (HLEN bytes, at most 128) for the data of a TermReq that reports it; returns the length.</summary>
    public int CopyHeaderTo(Span<byte> destination)
    {
        var length = Math.Min((int)Common.Hlen, HeaderBuffer.MaxLength);
        ((ReadOnlySpan<byte>)_bytes)[..length].CopyTo(destination);
        return length;
    }
}
