using System.Buffers.Binary;

namespace NvmeTcp.Protocol;

/// <summary>
/// The 8-byte PDU common header (NVMe/TCP 3.6.1), first in every PDU.
/// <code>
/// byte 0    PDU-Type
/// byte 1    FLAGS
/// byte 2    HLEN  header length, header digest excluded
/// byte 3    PDO   PDU data offset: where data starts, counted from byte 0; 0 when there is no data
/// byte 4-7  PLEN  PDU length: header, header digest, padding, data and data digest
/// </code>
/// </summary>
public readonly record struct PduHeader(PduType Type, PduFlags Flags, byte Hlen, byte Pdo, uint Plen)
{
    /// <summary>Size of the common header.</summary>
    public const int Size = 8;

    /// <summary>Byte offset of FLAGS, used as FEI.</summary>
    public const int FlagsOffset = 1;

    /// <summary>Byte offset of HLEN, used as FEI.</summary>
    public const int HlenOffset = 2;

    /// <summary>Byte offset of PDO, used as FEI.</summary>
    public const int PdoOffset = 3;

    /// <summary>Byte offset of PLEN, used as FEI.</summary>
    public const int PlenOffset = 4;

    /// <summary>Reads the common header from the first 8 bytes of <paramref name="source"/>.</summary>
    public static PduHeader Read(ReadOnlySpan<byte> source) => new(
        (PduType)source[0],
        (PduFlags)source[1],
        source[2],
        source[3],
        BinaryPrimitives.ReadUInt32LittleEndian(source.Slice(4, 4)));

    /// <summary>Writes the common header into the first 8 bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination.Slice(4, 4), Plen);
        destination[0] = (byte)Type;
        destination[1] = (byte)Flags;
        destination[2] = Hlen;
        destination[3] = Pdo;
    }

    /// <summary>The fixed HLEN of each PDU type, or 0 for a type this transport does not define.</summary>
    public static int HeaderLengthOf(PduType type) => type switch
    {
        PduType.ICReq or PduType.ICResp => 128,
        PduType.CapsuleCmd => 72,
        PduType.H2CTermReq or PduType.C2HTermReq or PduType.CapsuleResp
            or PduType.H2CData or PduType.C2HData or PduType.R2T => 24,
        _ => 0,
    };

    /// <summary>The direction a PDU type travels (bit 0 of the type).</summary>
    public static PduDirection DirectionOf(PduType type) => (PduDirection)((byte)type & 1);
}
