using System.Globalization;
using System.Buffers.Binary;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using NvmeTcp.Cli.Output;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>get-log</c>, <c>smart-log</c> and <c>error-log</c>: Get Log Page, printed as nvme-cli prints it.</summary>
internal static class LogCommands
{
    public static Command GetLog()
    {
        var logId = NumberOption.UInt32("--log-id", "LID: the log page identifier (e.g. 0x02 SMART, 0x01 error information).")
            .Check(lid => lid > 0xFF ? $"--log-id must be 0 to 0xff, not 0x{lid:x}" : null);
        var logLength = NumberOption.UInt32("--log-len", "Bytes to read (a multiple of 4).", null, "-l")
            .Check(length => length == 0 || length % 4 != 0 || length > 1 << 24 ? $"--log-len must be a non-zero multiple of 4 up to 16 MiB, not {length}" : null);
        var namespaceId = NumberOption.UInt32("--namespace-id", "NSID the log is for (default 0xffffffff: the controller).", 0xFFFFFFFF);
        var offset = NumberOption.UInt64("--lpo", "Log page offset in bytes.", 0);
        var raw = new Option<bool>("--raw-binary", "-b") { Description = "Write the log's bytes to stdout instead of a hex dump." };
        return ControllerVerb.Create(
            "get-log",
            "Get Log Page: any log by its identifier, as a hex dump.",
            defaultIoQueues: 0,
            [logId, logLength, namespaceId, offset, raw],
            async (context, controller, cancellationToken) =>
            {
                var lid = (byte)context.GetValue(logId);
                var nsid = context.GetValue(namespaceId);
                var data = await controller.GetLogPageAsync(lid, (int)context.GetValue(logLength), nsid, context.GetValue(offset), cancellationToken: cancellationToken).ConfigureAwait(false);
                if (context.GetValue(raw))
                {
                    await WriteRawAsync(context, data).ConfigureAwait(false);
                    return ExitCodes.Ok;
                }

                await context.PrintAsync(
                    writer =>
                    {
                        writer.WriteNumber("log_id", lid);
                        writer.WriteNumber("namespace_id", nsid);
                        writer.WriteNumber("length", data.Length);
                        writer.WriteString("data", JsonText.Hex(data));
                    },
                    () => $"Device:{controller.SubsystemNqn} log-id:{lid} namespace-id:0x{nsid:x}{Environment.NewLine}{HexDump.Format(data)}").ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    public static Command SmartLog() => ControllerVerb.Create(
        "smart-log",
        "SMART / Health Information log (02h) of the controller, with nvme-cli's field names.",
        defaultIoQueues: 0,
        [],
        async (context, controller, cancellationToken) =>
        {
            var smart = await controller.GetSmartLogAsync(cancellationToken).ConfigureAwait(false);
            var kelvin = smart.CompositeTemperature;
            var fields = new FieldList()
                .Dec("critical_warning", smart.CriticalWarning)
                .Dec("temperature", kelvin, kelvin == 0 ? "0 K" : $"{kelvin - 273}°C ({kelvin} Kelvin)")
                .Dec("avail_spare", smart.AvailableSpare, $"{smart.AvailableSpare}%")
                .Dec("spare_thresh", smart.AvailableSpareThreshold, $"{smart.AvailableSpareThreshold}%")
                .Dec("percent_used", smart.PercentageUsed, $"{smart.PercentageUsed}%")
                .Dec("endurance_grp_critical_warning_summary", smart.EnduranceGroupCriticalWarningSummary)
                .Big("data_units_read", smart.DataUnitsRead)
                .Big("data_units_written", smart.DataUnitsWritten)
                .Big("host_read_commands", smart.HostReadCommands)
                .Big("host_write_commands", smart.HostWriteCommands)
                .Big("controller_busy_time", smart.ControllerBusyTime)
                .Big("power_cycles", smart.PowerCycles)
                .Big("power_on_hours", smart.PowerOnHours)
                .Big("unsafe_shutdowns", smart.UnsafeShutdowns)
                .Big("media_errors", smart.MediaErrors)
                .Big("num_err_log_entries", smart.ErrorLogEntries)
                .Dec("warning_temp_time", smart.WarningTemperatureTime)
                .Dec("critical_comp_time", smart.CriticalTemperatureTime);
            for (var i = 0; i < smart.TemperatureSensors.Count; i++)
            {
                if (smart.TemperatureSensors[i] != 0)
                {
                    fields.Dec($"temperature_sensor_{i + 1}", smart.TemperatureSensors[i]);
                }
            }

            fields.Dec("thm_temp1_trans_count", smart.ThermalManagementTemperature1TransitionCount)
                .Dec("thm_temp2_trans_count", smart.ThermalManagementTemperature2TransitionCount)
                .Dec("thm_temp1_total_time", smart.ThermalManagementTemperature1TotalTime)
                .Dec("thm_temp2_total_time", smart.ThermalManagementTemperature2TotalTime);
            await context.PrintAsync(fields.WriteMembers, () => $"Smart Log for NVME device:{controller.SubsystemNqn} namespace-id:ffffffff{Environment.NewLine}{fields.ToText()}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });

    public static Command ErrorLog()
    {
        var entries = new Option<int?>("--log-entries", "-e") { Description = "Entries to read. Default: all the controller keeps (ELPE + 1)." }
            .Check(count => count is < 1 or > 256 ? $"--log-entries must be 1 to 256, not {count}" : null);
        return ControllerVerb.Create(
            "error-log",
            "Error Information log (01h), one entry per error, newest first, with nvme-cli's field names.",
            defaultIoQueues: 0,
            [entries],
            async (context, controller, cancellationToken) =>
            {
                // ELPE is 0's based and a byte: at most 256 entries, as --log-entries.
                var count = context.GetValue(entries) ?? controller.Identify.Elpe + 1;
                var data = await controller.GetLogPageAsync(0x01, count * 64, cancellationToken: cancellationToken).ConfigureAwait(false);
                var list = Enumerable.Range(0, count).Select(i => ErrorEntry(data.AsSpan(i * 64, 64))).ToList();
                await context.PrintAsync(
                    writer =>
                    {
                        writer.WriteStartArray("errors");
                        foreach (var fields in list)
                        {
                            writer.WriteStartObject();
                            fields.WriteMembers(writer);
                            writer.WriteEndObject();
                        }

                        writer.WriteEndArray();
                    },
                    () => ErrorLogText(controller.SubsystemNqn, list)).ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    /// <summary>One 64-byte Error Information log entry (NVMe 2.0, Figure 205) with nvme-cli's keys.</summary>
    private static FieldList ErrorEntry(ReadOnlySpan<byte> e)
    {
        var status = BinaryPrimitives.ReadUInt16LittleEndian(e[12..]);
        return new FieldList()
            .Dec("error_count", BinaryPrimitives.ReadUInt64LittleEndian(e))
            .Dec("sqid", BinaryPrimitives.ReadUInt16LittleEndian(e[8..]))
            .Dec("cmdid", BinaryPrimitives.ReadUInt16LittleEndian(e[10..]), $"0x{BinaryPrimitives.ReadUInt16LittleEndian(e[10..]):x}")
            .Dec("status_field", (ulong)(status >> 1), $"0x{status >> 1:x}")
            .Dec("phase_tag", (ulong)(status & 1), $"0x{status & 1:x}")
            .Dec("parm_error_location", BinaryPrimitives.ReadUInt16LittleEndian(e[14..]), $"0x{BinaryPrimitives.ReadUInt16LittleEndian(e[14..]):x}")
            .Dec("lba", BinaryPrimitives.ReadUInt64LittleEndian(e[16..]))
            .Dec("nsid", BinaryPrimitives.ReadUInt32LittleEndian(e[24..]))
            .Dec("vs", e[28])
            .Dec("trtype", e[29])
            .Dec("csi", e[30])
            .Dec("opcode", e[31])
            .Dec("cs", BinaryPrimitives.ReadUInt64LittleEndian(e[32..]))
            .Dec("trtype_spec_info", BinaryPrimitives.ReadUInt16LittleEndian(e[40..]))
            .Dec("log_page_version", e[63]);
    }

    private static string ErrorLogText(string subsystemNqn, List<FieldList> entries)
    {
        var text = new StringBuilder($"Error Log Entries for device:{subsystemNqn} entries:{entries.Count}{Environment.NewLine}");
        for (var i = 0; i < entries.Count; i++)
        {
            text.AppendLine(".................").AppendLine(CultureInfo.InvariantCulture, $" Entry[{i,2}]").AppendLine(".................").Append(entries[i].ToText());
        }

        return text.ToString();
    }

    private static async Task WriteRawAsync(CliContext context, byte[] data)
    {
        if (ReferenceEquals(context.Out, Console.Out))
        {
            var stdout = Console.OpenStandardOutput();
            await using (stdout.ConfigureAwait(false))
            {
                await stdout.WriteAsync(data).ConfigureAwait(false);
            }
        }
        else
        {
            await context.Out.WriteAsync(Encoding.Latin1.GetString(data)).ConfigureAwait(false);
        }
    }
}
