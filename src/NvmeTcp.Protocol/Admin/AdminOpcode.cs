namespace NvmeTcp.Protocol.Admin;

/// <summary>
/// Admin command opcodes (NVMe Base 2.0, 5 "Admin Command Set", "Opcodes for Admin Commands"; Format NVM, Sanitize
/// and Get LBA Status also in NVM Command Set 1.0). Bits 0-1 give the data direction: 01b host to controller, 10b
/// controller to host, 11b both. Names as the spec spells them: <see cref="Spec.CommandName"/>.
/// </summary>
public enum AdminOpcode : byte
{
    /// <summary>Delete I/O Submission Queue.</summary>
    DeleteIoSubmissionQueue = 0x00,

    /// <summary>Create I/O Submission Queue.</summary>
    CreateIoSubmissionQueue = 0x01,

    /// <summary>Get Log Page.</summary>
    GetLogPage = 0x02,

    /// <summary>Delete I/O Completion Queue.</summary>
    DeleteIoCompletionQueue = 0x04,

    /// <summary>Create I/O Completion Queue.</summary>
    CreateIoCompletionQueue = 0x05,

    /// <summary>Identify.</summary>
    Identify = 0x06,

    /// <summary>Abort.</summary>
    Abort = 0x08,

    /// <summary>Set Features.</summary>
    SetFeatures = 0x09,

    /// <summary>Get Features.</summary>
    GetFeatures = 0x0A,

    /// <summary>Asynchronous Event Request.</summary>
    AsynchronousEventRequest = 0x0C,

    /// <summary>Namespace Management.</summary>
    NamespaceManagement = 0x0D,

    /// <summary>Firmware Commit.</summary>
    FirmwareCommit = 0x10,

    /// <summary>Firmware Image Download.</summary>
    FirmwareImageDownload = 0x11,

    /// <summary>Device Self-test.</summary>
    DeviceSelfTest = 0x14,

    /// <summary>Namespace Attachment.</summary>
    NamespaceAttachment = 0x15,

    /// <summary>Keep Alive.</summary>
    KeepAlive = 0x18,

    /// <summary>Directive Send.</summary>
    DirectiveSend = 0x19,

    /// <summary>Directive Receive.</summary>
    DirectiveReceive = 0x1A,

    /// <summary>Virtualization Management.</summary>
    VirtualizationManagement = 0x1C,

    /// <summary>NVMe-MI Send.</summary>
    NvmeMiSend = 0x1D,

    /// <summary>NVMe-MI Receive.</summary>
    NvmeMiReceive = 0x1E,

    /// <summary>Capacity Management.</summary>
    CapacityManagement = 0x20,

    /// <summary>Lockdown.</summary>
    Lockdown = 0x24,

    /// <summary>Doorbell Buffer Config.</summary>
    DoorbellBufferConfig = 0x7C,

    /// <summary>Fabrics Commands: the command is named by its FCTYPE (<see cref="Fabrics.FabricsCommandType"/>).</summary>
    FabricsCommands = 0x7F,

    /// <summary>Format NVM.</summary>
    FormatNvm = 0x80,

    /// <summary>Security Send.</summary>
    SecuritySend = 0x81,

    /// <summary>Security Receive.</summary>
    SecurityReceive = 0x82,

    /// <summary>Sanitize.</summary>
    Sanitize = 0x84,

    /// <summary>Get LBA Status.</summary>
    GetLbaStatus = 0x86,
}

/// <summary>Log page identifiers, LID (NVMe Base 2.0 "Log Page Identifiers"; NVMe-oF 1.1 for discovery).</summary>
public static class LogPageId
{
    /// <summary>Error Information: 64-byte entries.</summary>
    public const byte ErrorInformation = 0x01;

    /// <summary>SMART / Health Information: 512 bytes.</summary>
    public const byte SmartHealth = 0x02;

    /// <summary>Firmware Slot Information: 512 bytes.</summary>
    public const byte FirmwareSlot = 0x03;

    /// <summary>Changed Namespace List: 4096 bytes, up to 1024 NSIDs.</summary>
    public const byte ChangedNamespaceList = 0x04;

    /// <summary>Commands Supported and Effects: 4096 bytes.</summary>
    public const byte CommandsSupportedAndEffects = 0x05;

    /// <summary>Telemetry Controller-Initiated.</summary>
    public const byte TelemetryControllerInitiated = 0x08;

    /// <summary>Predictable Latency Event Aggregate.</summary>
    public const byte PredictableLatencyEventAggregate = 0x0B;

    /// <summary>Asymmetric Namespace Access.</summary>
    public const byte AsymmetricNamespaceAccess = 0x0C;

    /// <summary>LBA Status Information.</summary>
    public const byte LbaStatusInformation = 0x0E;

    /// <summary>Endurance Group Event Aggregate.</summary>
    public const byte EnduranceGroupEventAggregate = 0x0F;

    /// <summary>Discovery (discovery controllers only).</summary>
    public const byte Discovery = 0x70;
}

/// <summary>Feature identifiers, FID (NVMe Base 2.0 "Feature Identifiers").</summary>
public static class FeatureId
{
    /// <summary>Number of Queues.</summary>
    public const byte NumberOfQueues = 0x07;

    /// <summary>Asynchronous Event Configuration.</summary>
    public const byte AsyncEventConfiguration = 0x0B;

    /// <summary>Keep Alive Timer.</summary>
    public const byte KeepAliveTimer = 0x0F;
}

/// <summary>Controller or Namespace Structure values of Identify, CNS (NVMe Base 2.0 "CNS Values").</summary>
public static class IdentifyCns
{
    /// <summary>Identify Namespace data structure for the NSID.</summary>
    public const byte Namespace = 0x00;

    /// <summary>Identify Controller data structure.</summary>
    public const byte Controller = 0x01;

    /// <summary>Active Namespace ID list: up to 1024 active NSIDs above the NSID, in order, zero-ended.</summary>
    public const byte ActiveNamespaceList = 0x02;

    /// <summary>Namespace Identification Descriptor list for the NSID.</summary>
    public const byte NamespaceDescriptors = 0x03;
}
