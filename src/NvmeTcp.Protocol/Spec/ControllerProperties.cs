using NvmeTcp.Protocol.Fabrics;

namespace NvmeTcp.Protocol.Spec;

/// <summary>
/// Offsets of the controller properties a host uses (NVMe Base 2.0, "Controller Properties"; over fabrics
/// Property Get and Property Set reach them instead of PCIe registers).
/// </summary>
public static class ControllerProperty
{
    /// <summary>CAP, Controller Capabilities (8 bytes).</summary>
    public const uint Cap = 0x00;

    /// <summary>VS, Version (4 bytes).</summary>
    public const uint Vs = 0x08;

    /// <summary>CC, Controller Configuration (4 bytes).</summary>
    public const uint Cc = 0x14;

    /// <summary>CSTS, Controller Status (4 bytes).</summary>
    public const uint Csts = 0x1C;

    /// <summary>NSSR, NVM Subsystem Reset (4 bytes).</summary>
    public const uint Nssr = 0x20;

    /// <summary>The width of a property: 8 bytes for CAP, 4 for the others this library uses.</summary>
    public static PropertySize SizeOf(uint offset) => offset == Cap ? PropertySize.EightBytes : PropertySize.FourBytes;
}

/// <summary>
/// CAP, Controller Capabilities (NVMe Base 2.0, "Offset 0h: CAP").
/// <code>
/// bits 0-15   MQES    maximum queue entries supported, 0's based
/// bit 16      CQR     contiguous queues required
/// bits 17-18  AMS     arbitration mechanisms supported
/// bits 24-31  TO      timeout: worst time for CSTS.RDY to follow CC.EN, in 500 ms units
/// bits 32-35  DSTRD   doorbell stride
/// bit 36      NSSRS   NVM subsystem reset supported
/// bits 37-44  CSS     command sets supported (bit 37 NVM, bit 43 I/O command sets, bit 44 admin only)
/// bits 48-51  MPSMIN  memory page size minimum, 2 ^ (12 + MPSMIN) bytes
/// bits 52-55  MPSMAX  memory page size maximum, 2 ^ (12 + MPSMAX) bytes
/// </code>
/// </summary>
public static class ControllerCapabilities
{
    /// <summary>CQR, bit 16: I/O queues must be physically contiguous.</summary>
    public const ulong ContiguousQueuesRequired = 1UL << 16;

    /// <summary>NSSRS, bit 36: NSSR is supported.</summary>
    public const ulong SubsystemResetSupported = 1UL << 36;

    /// <summary>The unit of TO, in milliseconds.</summary>
    public const int TimeoutUnitMilliseconds = 500;

    /// <summary>The smallest page MPSMIN and MPSMAX describe (value 0): 4 KiB.</summary>
    public const int BasePageSize = 4096;

    private const int MqesMask = 0xFFFF;
    private const int TimeoutShift = 24;
    private const int CommandSetsShift = 37;
    private const int MpsMinShift = 48;
    private const int MpsMaxShift = 52;
    private const int ByteMask = 0xFF;
    private const int NibbleMask = 0xF;

    /// <summary>MQES + 1: the most entries an I/O queue may have.</summary>
    public static int MaxQueueEntries(ulong cap) => (int)(cap & MqesMask) + 1;

    /// <summary>TO as a time span (0 when the controller reports none).</summary>
    public static TimeSpan Timeout(ulong cap) => TimeSpan.FromMilliseconds((double)((cap >> TimeoutShift) & ByteMask) * TimeoutUnitMilliseconds);

    /// <summary>CSS, bits 37-44.</summary>
    public static CommandSetsSupported CommandSets(ulong cap) => (CommandSetsSupported)((cap >> CommandSetsShift) & ByteMask);

    /// <summary>MPSMIN as bytes: 2 ^ (12 + MPSMIN).</summary>
    public static int MinimumPageSize(ulong cap) => BasePageSize << (int)((cap >> MpsMinShift) & NibbleMask);

    /// <summary>MPSMAX as bytes: 2 ^ (12 + MPSMAX).</summary>
    public static int MaximumPageSize(ulong cap) => BasePageSize << (int)((cap >> MpsMaxShift) & NibbleMask);

    /// <summary>Builds CAP from its fields (the others 0).</summary>
    /// <param name="maxQueueEntries">MQES + 1, 2 to 65536.</param>
    /// <param name="timeout">TO, rounded up to 500 ms units, at most 127.5 s.</param>
    /// <param name="commandSets">CSS.</param>
    /// <param name="contiguousQueuesRequired">CQR.</param>
    /// <param name="minimumPageSize">MPSMIN as bytes, a power of two from 4 KiB to 128 MiB.</param>
    /// <param name="maximumPageSize">MPSMAX as bytes, likewise, not below <paramref name="minimumPageSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A field that does not fit.</exception>
    public static ulong Create(int maxQueueEntries, TimeSpan timeout, CommandSetsSupported commandSets, bool contiguousQueuesRequired = false, int minimumPageSize = BasePageSize, int maximumPageSize = BasePageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueueEntries, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxQueueEntries, MqesMask + 1);
        var units = Math.Ceiling(timeout.TotalMilliseconds / TimeoutUnitMilliseconds);
        if (units is < 0 or > ByteMask)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "CAP.TO holds 0 to 255 units of 500 ms.");
        }

        var mpsMin = PageSizeField(minimumPageSize, nameof(minimumPageSize));
        var mpsMax = PageSizeField(maximumPageSize, nameof(maximumPageSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(mpsMax, mpsMin, nameof(maximumPageSize));
        return (uint)(maxQueueEntries - 1)
            | (contiguousQueuesRequired ? ContiguousQueuesRequired : 0)
            | ((ulong)units << TimeoutShift)
            | ((ulong)commandSets << CommandSetsShift)
            | ((ulong)mpsMin << MpsMinShift)
            | ((ulong)mpsMax << MpsMaxShift);
    }

    /// <summary>The 4-bit MPS value of a page size: log2(size) - 12 (shared with CC.MPS).</summary>
    internal static int PageSizeField(int pageSize, string paramName)
    {
        if (pageSize < BasePageSize || !int.IsPow2(pageSize) || int.Log2(pageSize / BasePageSize) > NibbleMask)
        {
            throw new ArgumentOutOfRangeException(paramName, pageSize, "A memory page size is a power of two from 4 KiB to 128 MiB.");
        }

        return int.Log2(pageSize / BasePageSize);
    }
}

/// <summary>CAP.CSS, bits 37-44: the command sets a controller supports (NVMe Base 2.0, "Offset 0h: CAP").</summary>
[Flags]
public enum CommandSetsSupported : byte
{
    /// <summary>No bit set.</summary>
    None = 0,

    /// <summary>CSS bit 0 (CAP bit 37): the NVM command set.</summary>
    Nvm = 1 << 0,

    /// <summary>CSS bit 6 (CAP bit 43): one or more I/O command sets, selected with CC.CSS 110b.</summary>
    IoCommandSets = 1 << 6,

    /// <summary>CSS bit 7 (CAP bit 44): no I/O command set, only the admin command set.</summary>
    NoIoCommandSet = 1 << 7,
}

/// <summary>
/// CC, Controller Configuration (NVMe Base 2.0, "Offset 14h: CC").
/// <code>
/// bit 0       EN      enable
/// bits 4-6    CSS     I/O command set selected
/// bits 7-10   MPS     memory page size, 2 ^ (12 + MPS) bytes
/// bits 11-13  AMS     arbitration mechanism selected
/// bits 14-15  SHN     shutdown notification
/// bits 16-19  IOSQES  I/O submission queue entry size, 2 ^ IOSQES bytes
/// bits 20-23  IOCQES  I/O completion queue entry size, 2 ^ IOCQES bytes
/// </code>
/// </summary>
public static class ControllerConfiguration
{
    /// <summary>EN, bit 0.</summary>
    public const uint Enable = 1u << 0;

    /// <summary>log2 of the 64-byte SQE: IOSQES and Identify SQES for the NVM command set.</summary>
    public const int SqeSizeLog2 = 6;

    /// <summary>log2 of the 16-byte CQE: IOCQES and Identify CQES.</summary>
    public const int CqeSizeLog2 = 4;

    private const int CommandSetShift = 4;
    private const int MpsShift = 7;
    private const int AmsShift = 11;
    private const int ShnShift = 14;
    private const int IosqesShift = 16;
    private const int IocqesShift = 20;
    private const uint ThreeBits = 0x7;
    private const uint TwoBits = 0x3;
    private const uint FourBits = 0xF;

    /// <summary>SHN, bits 14-15, in place.</summary>
    public const uint ShutdownMask = TwoBits << ShnShift;

    /// <summary>EN.</summary>
    public static bool IsEnabled(uint cc) => (cc & Enable) != 0;

    /// <summary>CSS, bits 4-6.</summary>
    public static CommandSetSelection CommandSet(uint cc) => (CommandSetSelection)((cc >> CommandSetShift) & ThreeBits);

    /// <summary>MPS as bytes: 2 ^ (12 + MPS).</summary>
    public static int MemoryPageSize(uint cc) => ControllerCapabilities.BasePageSize << (int)((cc >> MpsShift) & FourBits);

    /// <summary>AMS, bits 11-13 (0 round robin).</summary>
    public static int ArbitrationMechanism(uint cc) => (int)((cc >> AmsShift) & ThreeBits);

    /// <summary>SHN, bits 14-15.</summary>
    public static ShutdownNotification Shutdown(uint cc) => (ShutdownNotification)((cc >> ShnShift) & TwoBits);

    /// <summary>IOSQES, bits 16-19, as log2 of the size in bytes.</summary>
    public static int IoSubmissionQueueEntrySize(uint cc) => (int)((cc >> IosqesShift) & FourBits);

    /// <summary>IOCQES, bits 20-23, as log2 of the size in bytes.</summary>
    public static int IoCompletionQueueEntrySize(uint cc) => (int)((cc >> IocqesShift) & FourBits);

    /// <summary><paramref name="cc"/> with SHN set to <paramref name="shutdown"/>, the other fields kept.</summary>
    public static uint WithShutdown(uint cc, ShutdownNotification shutdown) => (cc & ~ShutdownMask) | (((uint)shutdown & TwoBits) << ShnShift);

    /// <summary>Builds CC from its fields.</summary>
    /// <param name="enable">EN.</param>
    /// <param name="commandSet">CSS.</param>
    /// <param name="memoryPageSize">MPS as bytes, a power of two from 4 KiB to 128 MiB.</param>
    /// <param name="ioSubmissionQueueEntrySize">IOSQES, log2 of bytes (6 for NVM).</param>
    /// <param name="ioCompletionQueueEntrySize">IOCQES, log2 of bytes (4 for NVM).</param>
    /// <param name="arbitrationMechanism">AMS, 0 to 7.</param>
    /// <param name="shutdown">SHN.</param>
    /// <exception cref="ArgumentOutOfRangeException">A field that does not fit.</exception>
    public static uint Create(
        bool enable,
        CommandSetSelection commandSet = CommandSetSelection.Nvm,
        int memoryPageSize = ControllerCapabilities.BasePageSize,
        int ioSubmissionQueueEntrySize = SqeSizeLog2,
        int ioCompletionQueueEntrySize = CqeSizeLog2,
        int arbitrationMechanism = 0,
        ShutdownNotification shutdown = ShutdownNotification.None)
    {
        var mps = ControllerCapabilities.PageSizeField(memoryPageSize, nameof(memoryPageSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)ioSubmissionQueueEntrySize, FourBits, nameof(ioSubmissionQueueEntrySize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)ioCompletionQueueEntrySize, FourBits, nameof(ioCompletionQueueEntrySize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)arbitrationMechanism, ThreeBits, nameof(arbitrationMechanism));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)commandSet, ThreeBits, nameof(commandSet));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)shutdown, TwoBits, nameof(shutdown));
        return (enable ? Enable : 0)
            | ((uint)commandSet << CommandSetShift)
            | ((uint)mps << MpsShift)
            | ((uint)arbitrationMechanism << AmsShift)
            | ((uint)shutdown << ShnShift)
            | ((uint)ioSubmissionQueueEntrySize << IosqesShift)
            | ((uint)ioCompletionQueueEntrySize << IocqesShift);
    }
}

/// <summary>CC.CSS, bits 4-6: the I/O command set selected (NVMe Base 2.0, "Offset 14h: CC").</summary>
public enum CommandSetSelection : byte
{
    /// <summary>000b: the NVM command set.</summary>
    Nvm = 0,

    /// <summary>110b: all supported I/O command sets (when CAP.CSS bit 43 is set).</summary>
    AllIoCommandSets = 6,

    /// <summary>111b: the admin command set only.</summary>
    AdminOnly = 7,
}

/// <summary>CC.SHN, bits 14-15 (NVMe Base 2.0, "Offset 14h: CC").</summary>
public enum ShutdownNotification : byte
{
    /// <summary>00b: no notification.</summary>
    None = 0,

    /// <summary>01b: normal shutdown.</summary>
    Normal = 1,

    /// <summary>10b: abrupt shutdown.</summary>
    Abrupt = 2,
}

/// <summary>
/// CSTS, Controller Status (NVMe Base 2.0, "Offset 1Ch: CSTS").
/// <code>
/// bit 0       RDY    ready
/// bit 1       CFS    controller fatal status
/// bits 2-3    SHST   shutdown status: 00b normal, 01b occurring, 10b complete
/// bit 4       NSSRO  NVM subsystem reset occurred
/// bit 5       PP     processing paused
/// </code>
/// </summary>
public static class ControllerStatus
{
    /// <summary>RDY, bit 0.</summary>
    public const uint Ready = 1u << 0;

    /// <summary>CFS, bit 1.</summary>
    public const uint Fatal = 1u << 1;

    /// <summary>NSSRO, bit 4.</summary>
    public const uint SubsystemResetOccurred = 1u << 4;

    /// <summary>PP, bit 5.</summary>
    public const uint ProcessingPaused = 1u << 5;

    private const int ShstShift = 2;
    private const uint TwoBits = 0x3;

    /// <summary>SHST, bits 2-3, in place.</summary>
    public const uint ShutdownMask = TwoBits << ShstShift;

    /// <summary>RDY.</summary>
    public static bool IsReady(uint csts) => (csts & Ready) != 0;

    /// <summary>CFS.</summary>
    public static bool IsFatal(uint csts) => (csts & Fatal) != 0;

    /// <summary>SHST, bits 2-3.</summary>
    public static ShutdownStatus Shutdown(uint csts) => (ShutdownStatus)((csts >> ShstShift) & TwoBits);

    /// <summary><paramref name="csts"/> with SHST set to <paramref name="status"/>, the other bits kept.</summary>
    public static uint WithShutdown(uint csts, ShutdownStatus status) => (csts & ~ShutdownMask) | (((uint)status & TwoBits) << ShstShift);
}

/// <summary>CSTS.SHST, bits 2-3 (NVMe Base 2.0, "Offset 1Ch: CSTS").</summary>
public enum ShutdownStatus : byte
{
    /// <summary>00b: normal operation, no shutdown requested.</summary>
    Normal = 0,

    /// <summary>01b: shutdown processing occurring.</summary>
    Occurring = 1,

    /// <summary>10b: shutdown processing complete.</summary>
    Complete = 2,
}

/// <summary>
/// VS, Version, and Identify Controller VER (NVMe Base 2.0, "Offset 8h: VS"): major bits 16-31, minor bits 8-15, tertiary
/// bits 0-7.
/// </summary>
public static class ControllerVersion
{
    private const int MajorShift = 16;
    private const int MinorShift = 8;
    private const uint ByteMask = 0xFF;

    /// <summary>Encodes a version, e.g. 2, 0, 0 as 0x00020000.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Major above 65535, minor or tertiary above 255.</exception>
    public static uint Create(int major, int minor, int tertiary = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)major, ushort.MaxValue, nameof(major));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)minor, ByteMask, nameof(minor));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)tertiary, ByteMask, nameof(tertiary));
        return ((uint)major << MajorShift) | ((uint)minor << MinorShift) | (uint)tertiary;
    }

    /// <summary>Decodes a version as major.minor.tertiary.</summary>
    public static Version ToVersion(uint value) =>
        new((int)(value >> MajorShift), (int)((value >> MinorShift) & ByteMask), (int)(value & ByteMask));
}
