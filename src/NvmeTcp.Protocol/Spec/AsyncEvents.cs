using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Protocol.Spec;

/// <summary>
/// CDW11 of Set Features Asynchronous Event Configuration (FID 0Bh), and Identify Controller OAES with the same
/// bits (NVMe Base 2.0, "Asynchronous Event Configuration" and Figure 275): which events complete an Asynchronous Event Request.
/// </summary>
[Flags]
public enum AsyncEventConfiguration : uint
{
    /// <summary>No events.</summary>
    None = 0,

    /// <summary>Bit 0: SMART critical warning Available Spare.</summary>
    SmartAvailableSpare = (uint)SmartCriticalWarning.AvailableSpare,

    /// <summary>Bit 1: SMART critical warning Temperature.</summary>
    SmartTemperature = (uint)SmartCriticalWarning.Temperature,

    /// <summary>Bit 2: SMART critical warning NVM subsystem reliability degraded.</summary>
    SmartReliability = (uint)SmartCriticalWarning.Reliability,

    /// <summary>Bit 3: SMART critical warning read-only media.</summary>
    SmartReadOnly = (uint)SmartCriticalWarning.ReadOnly,

    /// <summary>Bit 4: SMART critical warning volatile memory backup failed.</summary>
    SmartVolatileMemoryBackup = (uint)SmartCriticalWarning.VolatileMemoryBackup,

    /// <summary>Bit 5: SMART critical warning persistent memory region read-only.</summary>
    SmartPersistentMemoryRegionReadOnly = (uint)SmartCriticalWarning.PersistentMemoryRegionReadOnly,

    /// <summary>Bits 0-7: every SMART / Health critical warning, one bit per Critical Warning bit.</summary>
    SmartCriticalWarnings = 0xFF,

    /// <summary>Bit 8: Namespace Attribute Notices.</summary>
    NamespaceAttribute = 1u << 8,

    /// <summary>Bit 9: Firmware Activation Notices.</summary>
    FirmwareActivation = 1u << 9,

    /// <summary>Bit 10: Telemetry Log Notices.</summary>
    TelemetryLog = 1u << 10,

    /// <summary>Bit 11: Asymmetric Namespace Access Change Notices.</summary>
    AnaChange = 1u << 11,

    /// <summary>Bit 12: Predictable Latency Event Aggregate Log Change Notices.</summary>
    PredictableLatencyEventAggregateLog = 1u << 12,

    /// <summary>Bit 13: LBA Status Information Notices.</summary>
    LbaStatusInformation = 1u << 13,

    /// <summary>Bit 14: Endurance Group Event Aggregate Log Change Notices.</summary>
    EnduranceGroupEventAggregateLog = 1u << 14,

    /// <summary>Bit 15: Normal NVM Subsystem Shutdown Notices.</summary>
    NormalNvmSubsystemShutdown = 1u << 15,

    /// <summary>Bit 31: Discovery Log Page Change Notices (discovery controllers).</summary>
    DiscoveryLogChange = 1u << 31,
}

/// <summary>
/// Asynchronous Event Type, bits 0-2 of an Asynchronous Event Request's completion DW0 (NVMe Base 2.0, 5.2
/// "Asynchronous Event Request command").
/// </summary>
public enum AsyncEventType : byte
{
    /// <summary>000b: error status.</summary>
    Error = 0,

    /// <summary>001b: SMART / health status.</summary>
    SmartHealth = 1,

    /// <summary>010b: notice; the information is an <see cref="AsyncEventNotice"/>.</summary>
    Notice = 2,

    /// <summary>110b: I/O command set specific status.</summary>
    IoCommandSpecific = 6,

    /// <summary>111b: vendor specific.</summary>
    VendorSpecific = 7,
}

/// <summary>
/// Asynchronous Event Information for a notice, DW0 bits 8-15 (NVMe Base 2.0, 5.2, "Asynchronous Event Information -
/// Notice").
/// </summary>
public enum AsyncEventNotice : byte
{
    /// <summary>00h: Namespace Attribute Changed; read the Changed Namespace List (04h).</summary>
    NamespaceAttributeChanged = 0x00,

    /// <summary>01h: Firmware Activation Starting; read the Firmware Slot Information log (03h).</summary>
    FirmwareActivationStarting = 0x01,

    /// <summary>02h: Telemetry Log Changed; read the Telemetry Controller-Initiated log (08h).</summary>
    TelemetryLogChanged = 0x02,

    /// <summary>03h: Asymmetric Namespace Access Change; read the ANA log (0Ch).</summary>
    AnaChange = 0x03,

    /// <summary>04h: Predictable Latency Event Aggregate Log Change; read that log (0Bh).</summary>
    PredictableLatencyEventAggregateLogChange = 0x04,

    /// <summary>05h: LBA Status Information Alert; read the LBA Status Information log (0Eh).</summary>
    LbaStatusInformationAlert = 0x05,

    /// <summary>06h: Endurance Group Event Aggregate Log Page Change; read that log (0Fh).</summary>
    EnduranceGroupEventAggregateLogChange = 0x06,

    /// <summary>F0h: Discovery Log Page Change; read the Discovery log (70h).</summary>
    DiscoveryLogPageChange = 0xF0,
}

/// <summary>
/// DW0 of an Asynchronous Event Request completion (NVMe Base 2.0, 5.2 "Asynchronous Event Request command").
/// <code>
/// bits 0-2    Asynchronous Event Type
/// bits 8-15   Asynchronous Event Information
/// bits 16-23  Log Page Identifier: the log to read (with RAE clear) to clear the event
/// </code>
/// </summary>
/// <param name="Type">Asynchronous Event Type.</param>
/// <param name="Information">Asynchronous Event Information (an <see cref="AsyncEventNotice"/> for notices).</param>
/// <param name="LogPageId">Log Page Identifier.</param>
public readonly record struct AsyncEventCompletion(AsyncEventType Type, byte Information, byte LogPageId)
{
    private const uint TypeMask = 0x7;
    private const int InformationShift = 8;
    private const int LogPageShift = 16;

    /// <summary>The event a controller sends for <paramref name="notice"/>, naming its log page.</summary>
    public static AsyncEventCompletion Notice(AsyncEventNotice notice) =>
        new(AsyncEventType.Notice, (byte)notice, AsyncEventNotices.LogPageOf(notice));

    /// <summary>Decodes DW0; reserved bits are ignored.</summary>
    public static AsyncEventCompletion FromDword0(uint dw0) =>
        new((AsyncEventType)(dw0 & TypeMask), (byte)(dw0 >> InformationShift), (byte)(dw0 >> LogPageShift));

    /// <summary>Encodes DW0 (a type past 3 bits is cut to its low bits).</summary>
    public uint ToDword0() => ((uint)Type & TypeMask) | ((uint)Information << InformationShift) | ((uint)LogPageId << LogPageShift);

    /// <summary>Whether this is the notice <paramref name="notice"/>.</summary>
    public bool IsNotice(AsyncEventNotice notice) => Type == AsyncEventType.Notice && Information == (byte)notice;
}

/// <summary>
/// What goes with each notice (NVMe Base 2.0, 5.2 and "Asynchronous Event Configuration"): the log page that clears
/// it and the Asynchronous Event Configuration bit that enables it.
/// </summary>
public static class AsyncEventNotices
{
    /// <summary>The log page of <paramref name="notice"/>; 0 for a notice not defined here.</summary>
    public static byte LogPageOf(AsyncEventNotice notice) => notice switch
    {
        AsyncEventNotice.NamespaceAttributeChanged => LogPageId.ChangedNamespaceList,
        AsyncEventNotice.FirmwareActivationStarting => LogPageId.FirmwareSlot,
        AsyncEventNotice.TelemetryLogChanged => LogPageId.TelemetryControllerInitiated,
        AsyncEventNotice.AnaChange => LogPageId.AsymmetricNamespaceAccess,
        AsyncEventNotice.PredictableLatencyEventAggregateLogChange => LogPageId.PredictableLatencyEventAggregate,
        AsyncEventNotice.LbaStatusInformationAlert => LogPageId.LbaStatusInformation,
        AsyncEventNotice.EnduranceGroupEventAggregateLogChange => LogPageId.EnduranceGroupEventAggregate,
        AsyncEventNotice.DiscoveryLogPageChange => LogPageId.Discovery,
        _ => 0,
    };

    /// <summary>The configuration (and OAES) bit that enables <paramref name="notice"/>; none for a notice not defined here.</summary>
    public static AsyncEventConfiguration ConfigurationOf(AsyncEventNotice notice) => notice switch
    {
        AsyncEventNotice.NamespaceAttributeChanged => AsyncEventConfiguration.NamespaceAttribute,
        AsyncEventNotice.FirmwareActivationStarting => AsyncEventConfiguration.FirmwareActivation,
        AsyncEventNotice.TelemetryLogChanged => AsyncEventConfiguration.TelemetryLog,
        AsyncEventNotice.AnaChange => AsyncEventConfiguration.AnaChange,
        AsyncEventNotice.PredictableLatencyEventAggregateLogChange => AsyncEventConfiguration.PredictableLatencyEventAggregateLog,
        AsyncEventNotice.LbaStatusInformationAlert => AsyncEventConfiguration.LbaStatusInformation,
        AsyncEventNotice.EnduranceGroupEventAggregateLogChange => AsyncEventConfiguration.EnduranceGroupEventAggregateLog,
        AsyncEventNotice.DiscoveryLogPageChange => AsyncEventConfiguration.DiscoveryLogChange,
        _ => AsyncEventConfiguration.None,
    };

    /// <summary>The notice that reading log <paramref name="logPageId"/> clears, if any.</summary>
    public static bool TryFromLogPage(byte logPageId, out AsyncEventNotice notice)
    {
        foreach (var candidate in Enum.GetValues<AsyncEventNotice>())
        {
            if (LogPageOf(candidate) == logPageId)
            {
                notice = candidate;
                return true;
            }
        }

        notice = default;
        return false;
    }
}
