using System.Buffers.Binary;

using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Tests.Parsers;

public class LogPageTests
{
    // linux-6.1-initiator.pcap frame 105 (Get Log Page LID 02h, NSID FFFFFFFFh): nvmet reports all zeroes,
    // and tshark prints every field as 0.
    [Fact]
    public void Linux_nvmet_smart_log_is_all_zero()
    {
        var smart = NvmeSmartLog.Parse(CapturedData.Read("smart-log-linux-6.1.bin"));

        Assert.Equal(0, smart.CriticalWarning);
        Assert.Equal(0, smart.CompositeTemperature);
        Assert.Null(smart.CompositeTemperatureCelsius);
        Assert.Equal(0, smart.AvailableSpare);
        Assert.Equal(UInt128.Zero, smart.DataUnitsRead);
        Assert.Equal(UInt128.Zero, smart.PowerOnHours);
        Assert.Equal(8, smart.TemperatureSensors.Count);
        Assert.All(smart.TemperatureSensors, t => Assert.Equal(0, t));
    }

    [Fact]
    public void Smart_log_fields_sit_at_their_offsets()
    {
        var data = new byte[512];
        data[0] = 0x05;
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(1), 310);
        data[3] = 100;
        data[4] = 10;
        data[5] = 3;
        data[6] = 0x01;
        for (int i = 0; i < 10; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(32 + (16 * i)), (ulong)i + 1);
        }

        data[32 + 15] = 0x01; // high half of data units read
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(192), 11);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(196), 12);
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(200 + (2 * i)), (ushort)(300 + i));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(216), 21);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(220), 22);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(224), 23);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(228), 24);

        var smart = NvmeSmartLog.Parse(data);

        Assert.Equal(0x05, smart.CriticalWarning);
        Assert.Equal(310, smart.CompositeTemperature);
        Assert.Equal(37, smart.CompositeTemperatureCelsius);
        Assert.Equal(100, smart.AvailableSpare);
        Assert.Equal(10, smart.AvailableSpareThreshold);
        Assert.Equal(3, smart.PercentageUsed);
        Assert.Equal(1, smart.EnduranceGroupCriticalWarningSummary);
        Assert.Equal(new UInt128(0x0100_0000_0000_0000, 1), smart.DataUnitsRead);
        Assert.Equal((UInt128)2, smart.DataUnitsWritten);
        Assert.Equal((UInt128)3, smart.HostReadCommands);
        Assert.Equal((UInt128)4, smart.HostWriteCommands);
        Assert.Equal((UInt128)5, smart.ControllerBusyTime);
        Assert.Equal((UInt128)6, smart.PowerCycles);
        Assert.Equal((UInt128)7, smart.PowerOnHours);
        Assert.Equal((UInt128)8, smart.UnsafeShutdowns);
        Assert.Equal((UInt128)9, smart.MediaErrors);
        Assert.Equal((UInt128)10, smart.ErrorLogEntries);
        Assert.Equal(11u, smart.WarningTemperatureTime);
        Assert.Equal(12u, smart.CriticalTemperatureTime);
        Assert.Equal([300, 301, 302, 303, 304, 305, 306, 307], smart.TemperatureSensors);
        Assert.Equal(21u, smart.ThermalManagementTemperature1TransitionCount);
        Assert.Equal(22u, smart.ThermalManagementTemperature2TransitionCount);
        Assert.Equal(23u, smart.ThermalManagementTemperature1TotalTime);
        Assert.Equal(24u, smart.ThermalManagementTemperature2TotalTime);
        Assert.Throws<ArgumentException>(() => NvmeSmartLog.Parse(new byte[511]));
    }

    // The captures read no Error Information log (Linux 6.1 asks for LIDs 05h, 0Ch and 02h only), so
    // this entry is built from the layout of libnvme's and SPDK's error log structures.
    [Fact]
    public void Error_log_entry_fields_sit_at_their_offsets()
    {
        var data = new byte[64 * 3 + 10];
        var e = data.AsSpan(64);
        BinaryPrimitives.WriteUInt64LittleEndian(e, 42);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(e[10..], 0x1234);
        // Status field: DNR, SCT 0, SC 02h (Invalid Field in Command), shifted past the phase bit, phase set.
        BinaryPrimitives.WriteUInt16LittleEndian(e[12..], (ushort)(((1 << 14) | 0x02) << 1 | 1));
        BinaryPrimitives.WriteUInt16LittleEndian(e[14..], 0x0228);
        BinaryPrimitives.WriteUInt64LittleEndian(e[16..], 0x1_0000_0000);
        BinaryPrimitives.WriteUInt32LittleEndian(e[24..], 2);
        e[28] = 0xC0;
        e[29] = 3;
        BinaryPrimitives.WriteUInt64LittleEndian(e[32..], 0xDEAD);
        BinaryPrimitives.WriteUInt16LittleEndian(e[40..], 0xBEEF);

        var list = NvmeErrorLogEntry.ParseList(data);

        Assert.Equal(3, list.Count);
        Assert.True(list[0].IsEmpty);
        var entry = list[1];
        Assert.False(entry.IsEmpty);
        Assert.Equal(42ul, entry.ErrorCount);
        Assert.Equal(1, entry.Sqid);
        Assert.Equal(0x1234, entry.Cid);
        Assert.Equal(new NvmeStatus(NvmeStatusCodeType.Generic, 0x02, doNotRetry: true), entry.Status);
        Assert.Equal(0x0228, entry.ParameterErrorLocation);
        Assert.Equal(0x1_0000_0000ul, entry.Lba);
        Assert.Equal(2u, entry.Nsid);
        Assert.Equal(0xC0, entry.Vs);
        Assert.Equal(3, entry.Trtype);
        Assert.Equal(0xDEADul, entry.CommandSpecific);
        Assert.Equal(0xBEEF, entry.TransportTypeSpecific);
        Assert.Empty(NvmeErrorLogEntry.ParseList(new byte[63]));
    }
}
