using System.Buffers.Binary;

namespace NvmeTcp.Protocol.Nvm;

/// <summary>RTYPE: the reservation types (NVMe Base 2.0, 8.19, Figure 582).</summary>
public enum ReservationType : byte
{
    /// <summary>No reservation is held.</summary>
    None = 0,

    /// <summary>Write Exclusive: only the holder writes; anyone reads.</summary>
    WriteExclusive = 1,

    /// <summary>Exclusive Access: only the holder reads or writes.</summary>
    ExclusiveAccess = 2,

    /// <summary>Write Exclusive, Registrants Only: registrants write; anyone reads.</summary>
    WriteExclusiveRegistrantsOnly = 3,

    /// <summary>Exclusive Access, Registrants Only: only registrants read or write.</summary>
    ExclusiveAccessRegistrantsOnly = 4,

    /// <summary>Write Exclusive, All Registrants: every registrant holds it.</summary>
    WriteExclusiveAllRegistrants = 5,

    /// <summary>Exclusive Access, All Registrants: every registrant holds it.</summary>
    ExclusiveAccessAllRegistrants = 6,
}

/// <summary>RREGA of Reservation Register.</summary>
public enum ReservationRegisterAction : byte
{
    /// <summary>Register NRKEY.</summary>
    Register = 0,

    /// <summary>Unregister (CRKEY must match).</summary>
    Unregister = 1,

    /// <summary>Replace CRKEY with NRKEY.</summary>
    Replace = 2,
}

/// <summary>RACQA of Reservation Acquire.</summary>
public enum ReservationAcquireAction : byte
{
    /// <summary>Acquire the reservation.</summary>
    Acquire = 0,

    /// <summary>Preempt the registrants (or the holder) with PRKEY.</summary>
    Preempt = 1,

    /// <summary>Preempt and abort their commands.</summary>
    PreemptAndAbort = 2,
}

/// <summary>RRELA of Reservation Release.</summary>
public enum ReservationReleaseAction : byte
{
    /// <summary>Release the reservation held.</summary>
    Release = 0,

    /// <summary>Clear: release it and unregister every registrant.</summary>
    Clear = 1,
}

/// <summary>
/// The reservation commands (NVMe Base 2.0, 7.3-7.6): Register 0Dh, Report 0Eh, Acquire 11h, Release 15h.
/// <code>
/// Register  CDW10 bits 2:0 RREGA, bit 3 IEKEY, bits 31:30 CPTPL; data 16 bytes: CRKEY, NRKEY
/// Acquire   CDW10 bits 2:0 RACQA, bit 3 IEKEY, bits 15:8 RTYPE;  data 16 bytes: CRKEY, PRKEY
/// Release   CDW10 bits 2:0 RRELA, bit 3 IEKEY, bits 15:8 RTYPE;  data 8 bytes: CRKEY
/// Report    CDW10 NUMD (dwords, 0's based), CDW11 bit 0 EDS (extended data: 128-bit host IDs); data from the controller
/// </code>
/// </summary>
public static class ReservationCommands
{
    /// <summary>Data of Register and Acquire.</summary>
    public const int KeyPairSize = 16;

    /// <summary>Data of Release.</summary>
    public const int KeySize = 8;

    private const uint IgnoreExistingKey = 1 << 3;

    /// <summary>Reservation Register; its data is <see cref="WriteKeys"/>(CRKEY, NRKEY).</summary>
    public static Sqe Register(uint nsid, ReservationRegisterAction action, bool ignoreExistingKey = false, byte changePersistThroughPowerLoss = 0)
    {
        var sqe = Sqe.Create((byte)NvmOpcode.ReservationRegister, nsid);
        DataPointer.SetTransport(ref sqe, KeyPairSize);
        sqe.Cdw10 = (uint)action | (ignoreExistingKey ? IgnoreExistingKey : 0) | ((uint)(changePersistThroughPowerLoss & 3) << 30);
        return sqe;
    }

    /// <summary>Reservation Acquire; its data is <see cref="WriteKeys"/>(CRKEY, PRKEY).</summary>
    public static Sqe Acquire(uint nsid, ReservationAcquireAction action, ReservationType type, bool ignoreExistingKey = false)
    {
        var sqe = Sqe.Create((byte)NvmOpcode.ReservationAcquire, nsid);
        DataPointer.SetTransport(ref sqe, KeyPairSize);
        sqe.Cdw10 = (uint)action | (ignoreExistingKey ? IgnoreExistingKey : 0) | ((uint)type << 8);
        return sqe;
    }

    /// <summary>Reservation Release; its data is CRKEY (8 bytes, little-endian).</summary>
    public static Sqe Release(uint nsid, ReservationReleaseAction action, ReservationType type, bool ignoreExistingKey = false)
    {
        var sqe = Sqe.Create((byte)NvmOpcode.ReservationRelease, nsid);
        DataPointer.SetTransport(ref sqe, KeySize);
        sqe.Cdw10 = (uint)action | (ignoreExistingKey ? IgnoreExistingKey : 0) | ((uint)type << 8);
        return sqe;
    }

    /// <summary>Reservation Report of <paramref name="length"/> bytes (a multiple of 4).</summary>
    public static Sqe Report(uint nsid, int length, bool extended = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 4);
        var sqe = Sqe.Create((byte)NvmOpcode.ReservationReport, nsid);
        DataPointer.SetTransport(ref sqe, (uint)length);
        sqe.Cdw10 = (uint)(length / 4) - 1;
        sqe.Cdw11 = extended ? 1u : 0u;
        return sqe;
    }

    /// <summary>Writes two keys (little-endian), the data of Register and Acquire.</summary>
    public static void WriteKeys(Span<byte> destination, ulong first, ulong second)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, first);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], second);
    }
}

/// <summary>
/// The Reservation Status data structure Reservation Report returns (NVMe Base 2.0, Figures 588-591).
/// <code>
/// header: bytes 0-3 GEN, 4 RTYPE, 5-6 REGCTL (registered controllers), 9 PTPLS; 24 bytes, 64 when extended
/// entry (24 bytes):          0-1 CNTLID, 2 RCSTS (bit 0: holds the reservation), 8-15 HOSTID (64-bit), 16-23 RKEY
/// extended entry (64 bytes): 0-1 CNTLID, 2 RCSTS, 8-15 RKEY, 16-31 HOSTID (128-bit)
/// </code>
/// </summary>
public static class ReservationReportLayout
{
    /// <summary>GEN.</summary>
    public const int GenerationOffset = 0;

    /// <summary>RTYPE.</summary>
    public const int TypeOffset = 4;

    /// <summary>REGCTL.</summary>
    public const int RegisteredControllersOffset = 5;

    /// <summary>PTPLS.</summary>
    public const int PersistThroughPowerLossOffset = 9;

    /// <summary>Header size without extended data.</summary>
    public const int HeaderSize = 24;

    /// <summary>Header size with extended data.</summary>
    public const int ExtendedHeaderSize = 64;

    /// <summary>Registrant entry size.</summary>
    public const int EntrySize = 24;

    /// <summary>Extended registrant entry size.</summary>
    public const int ExtendedEntrySize = 64;

    /// <summary>CNTLID in an entry.</summary>
    public const int ControllerIdOffset = 0;

    /// <summary>RCSTS in an entry.</summary>
    public const int StatusOffset = 2;

    /// <summary>RKEY in an extended entry.</summary>
    public const int ExtendedKeyOffset = 8;

    /// <summary>HOSTID (128-bit) in an extended entry.</summary>
    public const int ExtendedHostIdOffset = 16;

    /// <summary>HOSTID (64-bit) in an entry.</summary>
    public const int HostIdOffset = 8;

    /// <summary>RKEY in an entry.</summary>
    public const int KeyOffset = 16;
}
