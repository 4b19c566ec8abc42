using System.CommandLine;
using System.Text.Json;
using NvmeTcp.Cli.Output;
using NvmeTcp.Client;
using Spectre.Console;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>nvmetcp list</c>: one row per active namespace of the subsystem, like <c>nvme list</c>.</summary>
internal static class ListCommand
{
    public static Command Create() => ControllerVerb.Create(
        "list",
        "One row per namespace of the subsystem: NSID, usage and size, LBA format, NGUID.",
        defaultIoQueues: 0,
        [],
        (context, controller, cancellationToken) =>
        {
            if (context.Json)
            {
                context.WriteJson(writer => WriteDevices(writer, controller));
            }
            else
            {
                PrintTable(context.Console, controller);
            }

            return Task.FromResult(ExitCodes.Ok);
        });

    /// <summary>Sizes as nvme-cli's <c>list</c> shows them: decimal units, three significant digits.</summary>
    public static string Size(ulong bytes)
    {
        string[] units = ["B", "kB", "MB", "GB", "TB", "PB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1000 && unit < units.Length - 1)
        {
            value /= 1000;
            unit++;
        }

        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value:0.##} {units[unit]}");
    }

    private static void WriteDevices(Utf8JsonWriter writer, NvmeController controller)
    {
        var id = controller.Identify;
        writer.WriteStartArray("Devices");
        foreach (var ns in controller.Namespaces)
        {
            writer.WriteStartObject();
            writer.WriteNumber("NameSpace", ns.Id);
            writer.WriteString("SubsystemNQN", controller.SubsystemNqn);
            writer.WriteString("Firmware", id.FirmwareRevision.Trim());
            writer.WriteString("ModelNumber", id.ModelNumber.Trim());
            writer.WriteString("SerialNumber", id.SerialNumber.Trim());
            writer.WriteNumber("UsedBytes", ns.Identify.Nuse * (ulong)ns.BlockSize);
            writer.WriteNumber("MaximumLBA", ns.Identify.Nsze);
            writer.WriteNumber("PhysicalSize", ns.SizeInBytes);
            writer.WriteNumber("SectorSize", ns.BlockSize);
            writer.WriteString("NGUID", JsonText.Hex(ns.Identify.Nguid.Span));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void PrintTable(IAnsiConsole console, NvmeController controller)
    {
        var id = controller.Identify;
        console.WriteLine($"{controller.SubsystemNqn} at {controller.RemoteEndPoint} ({ControllerNames.Controller(controller)}): {id.ModelNumber.Trim()}, serial {id.SerialNumber.Trim()}, firmware {id.FirmwareRevision.Trim()}");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("NSID").AddColumn(new TableColumn("Usage").RightAligned()).AddColumn("Format").AddColumn("NGUID");
        foreach (var ns in controller.Namespaces)
        {
            table.AddRow(
                ns.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{Size(ns.Identify.Nuse * (ulong)ns.BlockSize)} / {Size(ns.SizeInBytes)}",
                Markup.Escape(Format(ns)),
                JsonText.Hex(ns.Identify.Nguid.Span));
        }

        console.Write(table);
    }

    private static string Format(NvmeNamespace ns)
    {
        var format = ns.Identify.CurrentLbaFormat;
        return $"{format.DataSize} B + {format.MetadataSize} B";
    }
}
