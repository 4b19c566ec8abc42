namespace NvmeTcp.Protocol.Spec;

/// <summary>
/// One Error Information log entry (LID 01h; NVMe Base 2.0, Figure 205), <see cref="Size"/> bytes,
/// little-endian. The log holds Identify Controller ELPE + 1 entries, newest first; ERROR COUNT 0 marks an empty entry.
/// </summary>
public static class ErrorLogEntryLayout
{
    /// <summary>Size of one entry.</summary>
    public const int Size = 64;

    /// <summary>ERROR COUNT (8 bytes).</summary>
    public const int ErrorCount = 0;

    /// <summary>SQID, Submission Queue ID (2 bytes).</summary>
    public const int Sqid = 8;

    /// <summary>CID, Command ID (2 bytes).</summary>
    public const int Cid = 10;

    /// <summary>STATUS (2 bytes): bit 0 the phase tag, bits 1-15 the completion's status field.</summary>
    public const int Status = 12;

    /// <summary>PARAMETER ERROR LOCATION (2 bytes): bits 0-7 byte, bits 8-10 bit.</summary>
    public const int ParameterErrorLocation = 14;

    /// <summary>LBA (8 bytes).</summary>
    public const int Lba = 16;

    /// <summary>NSID, Namespace (4 bytes).</summary>
    public const int Nsid = 24;

    /// <summary>VS, Vendor Specific Information Available (1 byte).</summary>
    public const int Vs = 28;

    /// <summary>TRTYPE, Transport Type (1 byte, as discovery TRTYPE).</summary>
    public const int Trtype = 29;

    /// <summary>COMMAND SPECIFIC INFORMATION (8 bytes).</summary>
    public const int CommandSpecificInformation = 32;

    /// <summary>TRANSPORT TYPE SPECIFIC INFORMATION (2 bytes).</summary>
    public const int TransportTypeSpecificInformation = 40;

    /// <summary>SQID, CID or PARAMETER ERROR LOCATION that applies to no particular one.</summary>
    public const ushort NotSpecific = 0xFFFF;
}

/// <summary>
/// The SMART / Health Information log (LID 02h; NVMe Base 2.0, Figure 207), <see cref="Size"/> bytes,
/// little-endian; 16-byte counters are 128-bit integers, temperatures in Kelvin.
/// </summary>
public static class SmartLogLayout
{
    /// <summary>Size of the log.</summary>
    public const int Size = 512;

    /// <summary>Critical Warning (1 byte, <see cref="SmartCriticalWarning"/>).</summary>
    public const int CriticalWarning = 0;

    /// <summary>Composite Temperature (2 bytes).</summary>
    public const int CompositeTemperature = 1;

    /// <summary>Available Spare, percent (1 byte).</summary>
    public const int AvailableSpare = 3;

    /// <summary>Available Spare Threshold, percent (1 byte).</summary>
    public const int AvailableSpareThreshold = 4;

    /// <summary>Percentage Used (1 byte).</summary>
    public const int PercentageUsed = 5;

    /// <summary>Endurance Group Critical Warning Summary (1 byte).</summary>
    public const int EnduranceGroupCriticalWarningSummary = 6;

    /// <summary>Data Units Read (16 bytes, <see cref="DataUnitBlocks"/> 512-byte units each).</summary>
    public const int DataUnitsRead = 32;

    /// <summary>Data Units Written (16 bytes).</summary>
    public const int DataUnitsWritten = 48;

    /// <summary>Host Read Commands (16 bytes).</summary>
    public const int HostReadCommands = 64;

    /// <summary>Host Write Commands (16 bytes).</summary>
    public const int HostWriteCommands = 80;

    /// <summary>Controller Busy Time, minutes (16 bytes).</summary>
    public const int ControllerBusyTime = 96;

    /// <summary>Power Cycles (16 bytes).</summary>
    public const int PowerCycles = 112;

    /// <summary>Power On Hours (16 bytes).</summary>
    public const int PowerOnHours = 128;

    /// <summary>Unsafe Shutdowns (16 bytes).</summary>
    public const int UnsafeShutdowns = 144;

    /// <summary>Media and Data Integrity Errors (16 bytes).</summary>
    public const int MediaErrors = 160;

    /// <summary>Number of Error Information Log Entries (16 bytes).</summary>
    public const int ErrorLogEntries = 176;

    /// <summary>Warning Composite Temperature Time, minutes (4 bytes).</summary>
    public const int WarningTemperatureTime = 192;

    /// <summary>Critical Composite Temperature Time, minutes (4 bytes).</summary>
    public const int CriticalTemperatureTime = 196;

    /// <summary>Temperature Sensor 1 (2 bytes); sensors 2-8 follow.</summary>
    public const int TemperatureSensors = 200;

    /// <summary>Number of temperature sensor fields.</summary>
    public const int TemperatureSensorCount = 8;

    /// <summary>Size of one temperature field.</summary>
    public const int TemperatureSize = 2;

    /// <summary>Thermal Management Temperature 1 Transition Count (4 bytes).</summary>
    public const int ThermalManagementTemperature1TransitionCount = 216;

    /// <summary>Thermal Management Temperature 2 Transition Count (4 bytes).</summary>
    public const int ThermalManagementTemperature2TransitionCount = 220;

    /// <summary>Total Time For Thermal Management Temperature 1, seconds (4 bytes).</summary>
    public const int ThermalManagementTemperature1TotalTime = 224;

    /// <summary>Total Time For Thermal Management Temperature 2, seconds (4 bytes).</summary>
    public const int ThermalManagementTemperature2TotalTime = 228;

    /// <summary>Size of the 128-bit counters.</summary>
    public const int CounterSize = 16;

    /// <summary>The block the data units count: 512 bytes.</summary>
    public const int DataUnitBlockSize = 512;

    /// <summary>Blocks of <see cref="DataUnitBlockSize"/> in one data unit (counts are rounded up).</summary>
    public const int DataUnitBlocks = 1000;

    /// <summary>The byte offset of temperature sensor <paramref name="index"/> (0 for sensor 1).</summary>
    public static int TemperatureSensor(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)TemperatureSensorCount, nameof(index));
        return TemperatureSensors + (TemperatureSize * index);
    }

    /// <summary>Data units for <paramref name="blocks"/> 512-byte blocks: thousands, rounded up.</summary>
    public static ulong DataUnits(ulong blocks) => (blocks / DataUnitBlocks) + (blocks % DataUnitBlocks == 0 ? 0UL : 1UL);
}

/// <summary>
/// Critical Warning, byte 0 of the SMART / Health log (NVMe Base 2.0, Figure 207); bits 0-7 of Asynchronous Event
/// Configuration enable an event for each.
/// </summary>
[Flags]
public enum SmartCriticalWarning : byte
{
    /// <summary>No warning.</summary>
    None = 0,

    /// <summary>Bit 0: available spare below its threshold.</summary>
    AvailableSpare = 1 << 0,

    /// <summary>Bit 1: a temperature beyond a threshold.</summary>
    Temperature = 1 << 1,

    /// <summary>Bit 2: NVM subsystem reliability degraded.</summary>
    Reliability = 1 << 2,

    /// <summary>Bit 3: media placed in read only mode.</summary>
    ReadOnly = 1 << 3,

    /// <summary>Bit 4: volatile memory backup device failed.</summary>
    VolatileMemoryBackup = 1 << 4,

    /// <summary>Bit 5: persistent memory region read only.</summary>
    PersistentMemoryRegionReadOnly = 1 << 5,
}

/// <summary>
/// The Commands Supported and Effects log (LID 05h; NVMe Base 2.0, "Commands Supported and Effects"), <see cref="Size"/>
/// bytes: one 4-byte entry per admin opcode, then one per I/O opcode.
/// </summary>
public static class CommandEffectsLayout
{
    /// <summary>Size of the log.</summary>
    public const int Size = 4096;

    /// <summary>ACS0, the entry of admin opcode 0.</summary>
    public const int AdminCommands = 0;

    /// <summary>IOCS0, the entry of I/O opcode 0.</summary>
    public const int IoCommands = 1024;

    /// <summary>Size of one entry.</summary>
    public const int EntrySize = 4;

    /// <summary>CSUPP, bit 0: the command is supported.</summary>
    public const uint Supported = 1u << 0;

    /// <summary>LBCC, bit 1: the command may change logical block content.</summary>
    public const uint LogicalBlockContentChange = 1u << 1;

    /// <summary>NCC, bit 2: the command may change namespace capabilities.</summary>
    public const uint NamespaceCapabilityChange = 1u << 2;

    /// <summary>NIC, bit 3: the command may change the namespace inventory.</summary>
    public const uint NamespaceInventoryChange = 1u << 3;

    /// <summary>CCC, bit 4: the command may change controller capabilities.</summary>
    public const uint ControllerCapabilityChange = 1u << 4;

    /// <summary>The byte offset of the entry of admin opcode <paramref name="opcode"/>.</summary>
    public static int AdminEntry(byte opcode) => AdminCommands + (EntrySize * opcode);

    /// <summary>The byte offset of the entry of I/O opcode <paramref name="opcode"/>.</summary>
    public static int IoEntry(byte opcode) => IoCommands + (EntrySize * opcode);
}
