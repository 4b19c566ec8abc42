namespace NvmeTcp.Protocol;

/// <summary>
/// SGL1, the data pointer of an SQE over NVMe/TCP (NVMe Base 2.0 "Scatter Gather List (SGL)";
/// NVMe/TCP 1.0 "Capsules and Data Transfer"): one 16-byte descriptor in bytes 24-39.
/// <code>
/// byte 24-31  address  0 (transport data block), or the offset into the in-capsule data (data block, offset)
/// byte 32-35  length   bytes to move, 0 when the command moves no data
/// byte 36-38  reserved
/// byte 39     type     descriptor type (bits 4-7) and subtype (bits 0-3)
/// </code>
/// NVMe/TCP accepts exactly two descriptors. 0x5A (type 5 "transport data block", subtype 0xA "transport
/// specific") when the data moves in C2HData or R2T/H2CData PDUs, and when there is none (length 0, as Linux
/// sends it). 0x01 (type 0 "data block", subtype 1 "offset") when the data rides in the command capsule; the
/// address is then the offset into it, always 0 because Linux refuses an ICDOFF other than 0.
/// </summary>
public static class DataPointer
{
    /// <summary>Type byte of a transport data block descriptor: data moves in data PDUs.</summary>
    public const byte TransportDataBlock = 0x5A;

    /// <summary>Type byte of a data block descriptor with the offset subtype: in-capsule data.</summary>
    public const byte InCapsuleDataBlock = 0x01;

    /// <summary>Points SGL1 at data moved by C2HData, or by R2T and H2CData; length 0 for no data.</summary>
    public static void SetTransport(ref Sqe sqe, uint length)
    {
        sqe.SglAddress = 0;
        sqe.SglLength = length;
        sqe.SglType = TransportDataBlock;
    }

    /// <summary>Points SGL1 at <paramref name="length"/> bytes of in-capsule data starting at offset 0.</summary>
    public static void SetInCapsule(ref Sqe sqe, uint length)
    {
        sqe.SglAddress = 0;
        sqe.SglLength = length;
        sqe.SglType = InCapsuleDataBlock;
    }

    /// <summary>Sets SGL1 for in-capsule data when <paramref name="inCapsule"/> is true and there is data, otherwise for data PDUs.</summary>
    public static void Set(ref Sqe sqe, uint length, bool inCapsule)
    {
        if (inCapsule && length != 0)
        {
            SetInCapsule(ref sqe, length);
        }
        else
        {
            SetTransport(ref sqe, length);
        }
    }

    /// <summary>
    /// Whether host-to-controller data of <paramref name="length"/> bytes should travel in the capsule: it must
    /// exist and fit the queue's in-capsule capacity (IOCCSZ * 16 - 64 on I/O queues, 8 KiB on the admin queue),
    /// as Linux decides. Controller-to-host data never does.
    /// </summary>
    public static bool FitsInCapsule(uint length, uint inCapsuleCapacity) => length != 0 && length <= inCapsuleCapacity;
}
