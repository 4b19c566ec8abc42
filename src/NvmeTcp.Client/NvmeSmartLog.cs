using System.Buffers.Binary;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using Layout = NvmeTcp.Protocol.Spec.SmartLogLayout;

namespace NvmeTcp.Client;

/// <summary>
/// The SMART / Health Information log (LID 02h; NVMe Base 2.0, Figure 207), 512 bytes laid out as
/// <see cref="SmartLogLayout"/> says. The 16-byte counters are little-endian 128-bit integers.
/// </summary>
/// <remarks>Parsing never fails on content.</remarks>
public sealed class NvmeSmartLog
{
    /// <summary>Size of the log page.</summary>
    public const int Size = Layout.Size;

    /// <summary>Number of temperature sensor fields.</summary>
    public const int TemperatureSensorCount = Layout.TemperatureSensorCount;

    private NvmeSmartLog(ReadOnlySpan<byte> d)
    {
        CriticalWarning = d[Layout.CriticalWarning];
        CompositeTemperature = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.CompositeTemperature..]);
        AvailableSpare = d[Layout.AvailableSpare];
        AvailableSpareThreshold = d[Layout.AvailableSpareThreshold];
        PercentageUsed = d[Layout.PercentageUsed];
        EnduranceGroupCriticalWarningSummary = d[Layout.EnduranceGroupCriticalWarningSummary];
        DataUnitsRead = AdminData.ReadUInt128(d[Layout.DataUnitsRead..]);
        DataUnitsWritten = AdminData.ReadUInt128(d[Layout.DataUnitsWritten..]);
        HostReadCommands = AdminData.ReadUInt128(d[Layout.HostReadCommands..]);
        HostWriteCommands = AdminData.ReadUInt128(d[Layout.HostWriteCommands..]);
        ControllerBusyTime = AdminData.ReadUInt128(d[Layout.ControllerBusyTime..]);
        PowerCycles = AdminData.ReadUInt128(d[Layout.PowerCycles..]);
        PowerOnHours = AdminData.ReadUInt128(d[Layout.PowerOnHours..]);
        UnsafeShutdowns = AdminData.ReadUInt128(d[Layout.UnsafeShutdowns..]);
        MediaErrors = AdminData.ReadUInt128(d[Layout.MediaErrors..]);
        ErrorLogEntries = AdminData.ReadUInt128(d[Layout.ErrorLogEntries..]);
        WarningTemperatureTime = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.WarningTemperatureTime..]);
        CriticalTemperatureTime = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.CriticalTemperatureTime..]);
        var sensors = new ushort[TemperatureSensorCount];
        for (int i = 0; i < sensors.Length; i++)
        {
            sensors[i] = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.TemperatureSensor(i)..]);
        }

        TemperatureSensors = Array.AsReadOnly(sensors);
        ThermalManagementTemperature1TransitionCount = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.ThermalManagementTemperature1TransitionCount..]);
        ThermalManagementTemperature2TransitionCount = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.ThermalManagementTemperature2TransitionCount..]);
        ThermalManagementTemperature1TotalTime = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.ThermalManagementTemperature1TotalTime..]);
        ThermalManagementTemperature2TotalTime = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.ThermalManagementTemperature2TotalTime..]);
    }

    /// <summary>Critical Warning, with the bits of <see cref="SmartCriticalWarning"/> (bit 0 spare below threshold, bit 1 temperature, ...).</summary>
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
