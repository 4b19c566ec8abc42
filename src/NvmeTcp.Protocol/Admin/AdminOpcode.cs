namespace NvmeTcp.Protocol.Admin;

/// <summary>
/// Opcodes of the admin commands this library sends (NVMe Base 2.0 "Opcodes for Admin Commands").
/// Bits 0-1 give the data direction: 01b host to controller, 10b controller to host.
/// </summary>
public enum AdminOpcode : byte
{
    /// <summary>Get Log Page.</summary>
    GetLogPage = 0x02,

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

    /// <summary>Keep Alive.</summary>
    KeepAlive = 0x18,
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
