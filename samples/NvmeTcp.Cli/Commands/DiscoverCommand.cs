using System.Globalization;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>nvmetcp discover</c>: the discovery log, printed as <c>nvme discover</c> prints it.</summary>
internal static class DiscoverCommand
{
    public static Command Create() => ControllerVerb.CreateDiscovery(
        "discover",
        "Read the discovery log page (70h) from the target's discovery controller and list the subsystems it offers.",
        RunAsync);

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var log = await NvmeDiscovery.GetLogAsync(context.ClientOptions(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await context.PrintAsync(writer => WriteRecords(writer, log), () => Text(log)).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static void WriteRecords(Utf8JsonWriter writer, NvmeDiscoveryLog log)
    {
        writer.WriteNumber("genctr", log.Header.Genctr);
        writer.WriteStartArray("records");
        foreach (var e in log.Entries)
        {
            writer.WriteStartObject();
            writer.WriteString("trtype", e.TransportType.ToNvmeCliString());
            writer.WriteString("adrfam", e.AddressFamily.ToNvmeCliString());
            writer.WriteString("subtype", e.SubsystemType.ToNvmeCliString());
            writer.WriteString("treq", e.TreqToNvmeCliString());
            writer.WriteNumber("portid", e.Portid);
            writer.WriteString("trsvcid", e.TransportServiceId.Trim());
            writer.WriteString("subnqn", e.SubsystemNqn.Trim());
            writer.WriteString("traddr", e.TransportAddress.Trim());
            writer.WriteString("eflags", EflagsToNvmeCliString(e.Eflags));
            if (e.TransportType == NvmeTransportType.Tcp)
            {
                writer.WriteString("sectype", (e.TcpSecurityType ?? NvmeTcpSecurityType.None).ToNvmeCliString());
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static string Text(NvmeDiscoveryLog log)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Discovery Log Number of Records {log.Entries.Count}, Generation counter {log.Header.Genctr}");
        for (var i = 0; i < log.Entries.Count; i++)
        {
            var e = log.Entries[i];
            text.AppendLine(CultureInfo.InvariantCulture, $"=====Discovery Log Entry {i}======");
            text.AppendLine(CultureInfo.InvariantCulture, $"trtype:  {e.TransportType.ToNvmeCliString()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"adrfam:  {e.AddressFamily.ToNvmeCliString()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"subtype: {e.SubsystemType.ToNvmeCliString()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"treq:    {e.TreqToNvmeCliString()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"portid:  {e.Portid}");
            text.AppendLine(CultureInfo.InvariantCulture, $"trsvcid: {e.TransportServiceId.Trim()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"subnqn:  {e.SubsystemNqn.Trim()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"traddr:  {e.TransportAddress.Trim()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"eflags:  {EflagsToNvmeCliString(e.Eflags)}");
            if (e.TransportType == NvmeTransportType.Tcp)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"sectype: {(e.TcpSecurityType ?? NvmeTcpSecurityType.None).ToNvmeCliString()}");
            }
        }

        return text.ToString();
    }

    /// <summary>EFLAGS as libnvme's <c>nvmf_eflags_str</c> words it (bits 0-2: EPCSD, DUPRETINFO, NCC).</summary>
    public static string EflagsToNvmeCliString(ushort eflags)
    {
        if (eflags == 0)
        {
            return "none";
        }

        if (eflags > 7)
        {
            return "unrecognized";
        }

        var words = new List<string>(3);
        if ((eflags & 1) != 0)
        {
            words.Add("explicit discovery connections");
        }

        if ((eflags & 2) != 0)
        {
            words.Add("duplicate discovery information");
        }

        if ((eflags & 4) != 0)
        {
            words.Add("no cdc connectivity");
        }

        return string.Join(", ", words);
    }
}
