namespace NvmeTcp.Protocol;

/// <summary>
/// Where each part of an outgoing PDU goes (NVMe/TCP 3.6.1, 3.6.3):
/// <code>
/// [0, HLEN)              header
/// [HLEN, HLEN+4)         HDGST when header digests are on
/// [.., PDO)              zero padding to the receiver's alignment
/// [PDO, PDO+n)           data
/// [PDO+n, PDO+n+4)       DDGST when data digests are on (it covers the data only)
/// </code>
/// Without data, PDO is 0 and PLEN is HLEN plus the header digest.
/// </summary>
public readonly record struct PduLayout(byte Hlen, byte Pdo, uint Plen, PduFlags DigestFlags, int HeaderDigestLength, int DataLength, int DataDigestLength)
{
    /// <summary>Bytes before the data: header, header digest and padding (the whole PDU when there is no data).</summary>
    public int PrefixLength => DataLength == 0 ? Hlen + HeaderDigestLength : Pdo;

    /// <summary>The layout of a PDU of <paramref name="type"/> carrying <paramref name="dataLength"/> bytes of data.</summary>
    public static PduLayout Of(PduType type, int dataLength, in PduCodecOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        var hlen = PduHeader.HeaderLengthOf(type);
        var hd = options.HasHeaderDigest(type) ? Crc32C.Size : 0;
        var flags = hd != 0 ? PduFlags.HeaderDigest : PduFlags.None;
        if (dataLength == 0)
        {
            return new((byte)hlen, 0, (uint)(hlen + hd), flags, hd, 0, 0);
        }

        var alignment = options.AlignmentOf(type);
        var pdo = (hlen + hd + alignment - 1) / alignment * alignment;
        if (pdo > byte.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "The data alignment puts PDO past 255.");
        }

        var dd = options.DataDigest && options.Initialized ? Crc32C.Size : 0;
        if (dd != 0)
        {
            flags |= PduFlags.DataDigest;
        }

        var plen = (long)pdo + dataLength + dd;
        if (plen > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(dataLength));
        }

        return new((byte)hlen, (byte)pdo, (uint)plen, flags, hd, dataLength, dd);
    }

    /// <summary>
    /// Writes the common header, the header digest over <paramref name="header"/>[0, HLEN) and zero padding.
    /// The type-specific header fields must already be in place.
    /// </summary>
    public void Complete(Span<byte> header, PduType type, PduFlags flags)
    {
        new PduHeader(type, flags | DigestFlags, Hlen, Pdo, Plen).Write(header);
        if (HeaderDigestLength != 0)
        {
            Crc32C.Write(header.Slice(Hlen, Crc32C.Size), Crc32C.Compute(header[..Hlen]));
        }

        if (DataLength != 0)
        {
            header[(Hlen + HeaderDigestLength)..Pdo].Clear();
        }
    }
}
