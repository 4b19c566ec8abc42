namespace NvmeTcp.Protocol;

/// <summary>
/// Statuses the library checks for or returns, as <c>SCT &lt;&lt; 8 | SC</c> (the low 11 bits of
/// <see cref="NvmeStatus"/>, the same numbers Linux's <c>NVME_SC_*</c> use). Compare with
/// <see cref="NvmeStatus.Is(ushort)"/>, which ignores DNR, M and CRD. Names follow the status value tables of NVMe
/// Base 2.0, the NVM Command Set 1.0 and NVMe-oF 1.1 (see <see cref="NvmeStatus.Name"/>).
/// </summary>
public static class StatusCodes
{
    /// <summary>SCT 0, SC 0x00: Successful Completion.</summary>
    public const ushort Success = 0x000;

    /// <summary>SCT 0, SC 0x01: Invalid Command Opcode.</summary>
    public const ushort InvalidOpcode = 0x001;

    /// <summary>SCT 0, SC 0x02: Invalid Field in Command.</summary>
    public const ushort InvalidField = 0x002;

    /// <summary>SCT 0, SC 0x03: Command ID Conflict.</summary>
    public const ushort CommandIdConflict = 0x003;

    /// <summary>SCT 0, SC 0x04: Data Transfer Error.</summary>
    public const ushort DataTransferError = 0x004;

    /// <summary>SCT 0, SC 0x06: Internal Error.</summary>
    public const ushort InternalError = 0x006;

    /// <summary>SCT 0, SC 0x07: Command Abort Requested.</summary>
    public const ushort AbortRequested = 0x007;

    /// <summary>SCT 0, SC 0x08: Command Aborted due to SQ Deletion.</summary>
    public const ushort AbortedSqDeletion = 0x008;

    /// <summary>SCT 0, SC 0x0B: Invalid Namespace or Format.</summary>
    public const ushort InvalidNamespaceOrFormat = 0x00B;

    /// <summary>SCT 0, SC 0x0C: Command Sequence Error (e.g. a command before CSTS.RDY, or before Connect).</summary>
    public const ushort CommandSequenceError = 0x00C;

    /// <summary>SCT 0, SC 0x0D: Invalid SGL Segment Descriptor.</summary>
    public const ushort InvalidSglSegmentDescriptor = 0x00D;

    /// <summary>SCT 0, SC 0x0E: Invalid Number of SGL Descriptors.</summary>
    public const ushort InvalidSglDescriptorCount = 0x00E;

    /// <summary>SCT 0, SC 0x0F: Data SGL Length Invalid.</summary>
    public const ushort DataSglLengthInvalid = 0x00F;

    /// <summary>SCT 0, SC 0x11: SGL Descriptor Type Invalid.</summary>
    public const ushort SglDescriptorTypeInvalid = 0x011;

    /// <summary>SCT 0, SC 0x16: SGL Offset Invalid.</summary>
    public const ushort SglOffsetInvalid = 0x016;

    /// <summary>SCT 0, SC 0x18: Host Identifier Inconsistent Format.</summary>
    public const ushort HostIdInconsistentFormat = 0x018;

    /// <summary>SCT 0, SC 0x19: Keep Alive Timer Expired.</summary>
    public const ushort KeepAliveTimerExpired = 0x019;

    /// <summary>SCT 0, SC 0x1A: Keep Alive Timeout Invalid.</summary>
    public const ushort KeepAliveTimeoutInvalid = 0x01A;

    /// <summary>SCT 0, SC 0x21: Command Interrupted (retry it).</summary>
    public const ushort CommandInterrupted = 0x021;

    /// <summary>SCT 0, SC 0x22: Transient Transport Error (e.g. a data digest mismatch).</summary>
    public const ushort TransientTransportError = 0x022;

    /// <summary>SCT 0, SC 0x80: LBA Out of Range.</summary>
    public const ushort LbaOutOfRange = 0x080;

    /// <summary>SCT 0, SC 0x81: Capacity Exceeded.</summary>
    public const ushort CapacityExceeded = 0x081;

    /// <summary>SCT 0, SC 0x82: Namespace Not Ready.</summary>
    public const ushort NamespaceNotReady = 0x082;

    /// <summary>SCT 0, SC 0x83: Reservation Conflict.</summary>
    public const ushort ReservationConflict = 0x083;

    /// <summary>SCT 1, SC 0x01: Invalid Queue Identifier.</summary>
    public const ushort InvalidQueueIdentifier = 0x101;

    /// <summary>SCT 1, SC 0x02: Invalid Queue Size.</summary>
    public const ushort InvalidQueueSize = 0x102;

    /// <summary>SCT 1, SC 0x05: Asynchronous Event Request Limit Exceeded.</summary>
    public const ushort AsyncEventRequestLimitExceeded = 0x105;

    /// <summary>SCT 1, SC 0x09: Invalid Log Page.</summary>
    public const ushort InvalidLogPage = 0x109;

    /// <summary>SCT 1, SC 0x80 for an NVM I/O command: Conflicting Attributes.</summary>
    public const ushort ConflictingAttributes = 0x180;

    /// <summary>SCT 1, SC 0x82 for an NVM I/O command: Attempted Write to Read Only Range.</summary>
    public const ushort WriteToReadOnlyRange = 0x182;

    /// <summary>SCT 1, SC 0x80 for a fabrics command: Connect Incompatible Format.</summary>
    public const ushort ConnectIncompatibleFormat = 0x180;

    /// <summary>SCT 1, SC 0x81 for a fabrics command: Connect Controller Busy.</summary>
    public const ushort ConnectControllerBusy = 0x181;

    /// <summary>SCT 1, SC 0x82 for a fabrics command: Connect Invalid Parameters (CQE DW0 locates the field).</summary>
    public const ushort ConnectInvalidParameters = 0x182;

    /// <summary>SCT 1, SC 0x83 for a fabrics command: Connect Restart Discovery.</summary>
    public const ushort ConnectRestartDiscovery = 0x183;

    /// <summary>SCT 1, SC 0x84 for a fabrics command: Connect Invalid Host.</summary>
    public const ushort ConnectInvalidHost = 0x184;

    /// <summary>SCT 1, SC 0x85 for a fabrics command: Invalid Queue Type.</summary>
    public const ushort InvalidQueueType = 0x185;

    /// <summary>SCT 1, SC 0x90 for a fabrics command: Discover Restart.</summary>
    public const ushort DiscoverRestart = 0x190;

    /// <summary>SCT 1, SC 0x91 for a fabrics command: Authentication Required.</summary>
    public const ushort AuthenticationRequired = 0x191;

    /// <summary>SCT 2, SC 0x81: Unrecovered Read Error.</summary>
    public const ushort UnrecoveredReadError = 0x281;

    /// <summary>SCT 2, SC 0x85: Compare Failure.</summary>
    public const ushort CompareFailure = 0x285;

    /// <summary>SCT 2, SC 0x86: Access Denied.</summary>
    public const ushort AccessDenied = 0x286;

    /// <summary>SCT 3, SC 0x00: Internal Path Error.</summary>
    public const ushort InternalPathError = 0x300;

    /// <summary>SCT 3, SC 0x01: Asymmetric Access Persistent Loss.</summary>
    public const ushort AnaPersistentLoss = 0x301;

    /// <summary>SCT 3, SC 0x02: Asymmetric Access Inaccessible.</summary>
    public const ushort AnaInaccessible = 0x302;

    /// <summary>SCT 3, SC 0x03: Asymmetric Access Transition.</summary>
    public const ushort AnaTransition = 0x303;

    /// <summary>SCT 3, SC 0x70: Host Pathing Error (the host lost the path; the command never completed there).</summary>
    public const ushort HostPathingError = 0x370;

    /// <summary>SCT 3, SC 0x71: Command Aborted By Host.</summary>
    public const ushort AbortedByHost = 0x371;
}
