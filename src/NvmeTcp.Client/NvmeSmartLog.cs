using System.Buffers.Binary;
using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Client;

/// <summary>
/// The SMART / Health Information log (LID 02h; NVMe Base 2.0, Figure 207), 512 bytes.
/// <code>
/// byte 0        critical warning                 byte 128-143  power on hours
/// byte 1-2      composite temperature (Kelvin)   byte 144-159  unsafe shutdowns
/// byte 3        available spare (%)              byte 160-175  media and data integrity errors
/// byte 4        available spare threshold (%)    byte 176-191  number of error information log entries
/// byte 5        percentage used                  byte 192-195  warning composite temperature time (minutes)
/// byte 6        endurance group critical warning summary   byte 196-199  critical composite temperature time (minutes)
/// byte 32-47    data units read (1000 x 512 bytes)         byte 200-215  temperature sensors 1-8 (Kelvin, 0 = absent)
/// byte 48-63    data units written                         byte 216-219  thermal management temperature 1 transition count
/// byte 64-79    host read commands                         byte 220-223  thermal management temperature 2 transition count
/// byte 80-95    host write commands                        byte 224-227  total time for thermal management temperature 1 (s)
/// byte 96-111   controller busy time (minutes)             byte 228-231  total time for thermal management temperature 2 (s)
/// byte 112-127  power cycles
/// </code>
/// The 16-byte counters are little-endian 128-bit integers.
/// </summary>
/// <remarks>Parsing never fails on content.</remarks>
public sealed class NvmeSmartLog
{
    /// <summary>Size of the log page.</summary>
    public const int Size = 512;

    /// <summary>Number of temperature sensor fields.</summary>
    public const int TemperatureSensorCount = 8;

    private NvmeSmartLog(ReadOnlySpan<byte> d)
    {
        CriticalWarning = d[0];
        CompositeTemperature = BinaryPrimitives.ReadUInt16LittleEndian(d[1..]);
        AvailableSpare = d[3];
        AvailableSpareThreshold = d[4];
        PercentageUsed = d[5];
        EnduranceGroupCriticalWarningSummary = d[6];
        DataUnitsRead = AdminData.ReadUInt128(d[32..]);
        DataUnitsWritten = AdminData.ReadUInt128(d[48..]);
        HostReadCommands = AdminData.ReadUInt128(d[64..]);
        HostWriteCommands = AdminData.ReadUInt128(d[80..]);
        ControllerBusyTime = AdminData.ReadUInt128(d[96..]);
        PowerCycles = AdminData.ReadUInt128(d[112..]);
        PowerOnHours = AdminData.ReadUInt128(d[128..]);
        UnsafeShutdowns = AdminData.ReadUInt128(d[144..]);
        MediaErrors = AdminData.ReadUInt128(d[160..]);
        ErrorLogEntries = AdminData.ReadUInt128(d[176..]);
        WarningTemperatureTime = BinaryPrimitives.ReadUInt32LittleEndian(d[192..]);
        CriticalTemperatureTime = BinaryPrimitives.ReadUInt32LittleEndian(d[196..]);
        var sensors = new ushort[TemperatureSensorCount];
        for (int i = 0; i < sensors.Length; i++)
        {
            sensors[i] = BinaryPrimitives.ReadUInt16LittleEndian(d[(200 + (2 * i))..]);
        }

        TemperatureSensors = Array.AsReadOnly(sensors);
        ThermalManagementTemperature1TransitionCount = BinaryPrimitives.ReadUInt32LittleEndian(d[216..]);
        ThermalManagementTemperature2TransitionCount = BinaryPrimitives.ReadUInt32LittleEndian(d[220..]);
        ThermalManagementTemperature1TotalTime = BinaryPrimitives.ReadUInt32LittleEndian(d[224..]);
        ThermalManagementTemperature2TotalTime = BinaryPrimitives.ReadUInt32LittleEndian(d[228..]);
    }

    /// <summary>Critical Warning: bit 0 spare below threshold, bit 1 temperature, bit 2 reliability degraded, bit 3 read-only, bit 4 volatile memory backup failed, bit 5 persistent memory region read-only.</summary>
    public byte CriticalWarning { get; }

    /// <summary>Composite Temperature, in Kelvin (0 = not reported).</summary>
    public ushort CompositeTemperature { get; }

    /// <summary>Available Spare: remaining spare capacity, percent (0-100).</summary>
    public byte AvailableSpare { get; }

    /// <summary>Available Spare Threshold: percent at which an asynchronous event is raised.</summary>
    public byte AvailableSpareThreshold { get; }

    /// <summary>Percentage Used: vendor estimate of life used, percent (may exceed 100; 255 = 255 or more).</summary>
    public byte PercentageUsed { get; }

    /// <summary>Endurance Group Critical Warning Summary: the critical warnings of the endurance groups, combined.</summary>
    public byte EnduranceGroupCriticalWarningSummary { get; }

    /// <summary>Data Units Read: units of 1000 512-byte blocks read by the host, rounded up.</summary>
    public UInt128 DataUnitsRead { get; }

    /// <summary>Data Units Written: units of 1000 512-byte blocks written by the host, rounded up.</summary>
    public UInt128 DataUnitsWritten { get; }

    /// <summary>Host Read Commands: read commands completed.</summary>
    public UInt128 HostReadCommands { get; }

    /// <summary>Host Write Commands: write commands completed.</summary>
    public UInt128 HostWriteCommands { get; }

    /// <summary>Controller Busy Time: minutes the controller had I/O outstanding.</summary>
    public UInt128 ControllerBusyTime { get; }

    /// <summary>Power Cycles: number of power cycles.</summary>
    public UInt128 PowerCycles { get; }

    /// <summary>Power On Hours: hours powered on.</summary>
    public UInt128 PowerOnHours { get; }

    /// <summary>Unsafe Shutdowns: shutdowns without a shutdown notification.</summary>
    public UInt128 UnsafeShutdowns { get; }

    /// <summary>Media and Data Integrity Errors: unrecovered data integrity errors.</summary>
    public UInt128 MediaErrors { get; }

    /// <summary>Number of Error Information Log Entries: over the controller's life.</summary>
    public UInt128 ErrorLogEntries { get; }

    /// <summary>Warning Composite Temperature Time: minutes spent at or above WCTEMP.</summary>
    public uint WarningTemperatureTime { get; }

    /// <summary>Critical Composite Temperature Time: minutes spent at or above CCTEMP.</summary>
    public uint CriticalTemperatureTime { get; }

    /// <summary>Temperature Sensor 1-8: in Kelvin, 0 when the sensor does not exist.</summary>
    public IReadOnlyList<ushort> TemperatureSensors { get; }

    /// <summary>Thermal Management Temperature 1 Transition Count.</summary>
    public uint ThermalManagementTemperature1TransitionCount { get; }

    /// <summary>Thermal Management Temperature 2 Transition Count.</summary>
    public uint ThermalManagementTemperature2TransitionCount { get; }

    /// <summary>Total Time For Thermal Management Temperature 1, in seconds.</summary>
    public uint ThermalManagementTemperature1TotalTime { get; }

    /// <summary>Total Time For Thermal Management Temperature 2, in seconds.</summary>
    public uint ThermalManagementTemperature2TotalTime { get; }

    /// <summary>Composite Temperature in degrees Celsius (Kelvin - 273, as nvme-cli prints it); null when not reported.</summary>
    public int? CompositeTemperatureCelsius => CompositeTemperature == 0 ? null : CompositeTemperature - 273;

    /// <summary>Parses the 512-byte log.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is shorter than 512 bytes.</exception>
    internal static NvmeSmartLog Parse(ReadOnlySpan<byte> data)
    {
        AdminData.EnsureLength(data, Size, "SMART / Health Information log");
        return new NvmeSmartLog(data);
    }
}
