using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NvmeTcp.Cli.Output;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>list-subsys</c> and <c>ana-log</c>: a subsystem's paths and their ANA states, as nvme-cli prints them.</summary>
internal static class MultipathCommands
{
    /// <summary>The subsystem's name, numbered like its first path's controller (see <see cref="ControllerNames"/>).</summary>
    public static string SubsystemName(NvmeSubsystem subsystem) =>
        subsystem.Paths.Count > 0 ? ControllerNames.Subsystem(subsystem.Paths[0].Controller) : "nvmetcp-subsys";

    /// <summary>A path's name: its controller's, as list-subsys, fw-log and perf print it.</summary>
    public static string PathName(NvmePath path) => ControllerNames.Controller(path.Controller);

    public static Command ListSubsys()
    {
        var namespaceId = new Option<uint?>("--namespace-id")
        {
            Description = "NSID whose ANA state each path shows (nvme-cli shows it for the namespace device given). Default: the first namespace.",
        };
        return ControllerVerb.CreateSubsystem(
            "list-subsys",
            "Connect a subsystem over every path given (-a/-s once per path, or --discover) and list its paths: name, transport, address, state, ANA state.",
            defaultIoQueues: 1,
            [namespaceId],
            (context, subsystem, cancellationToken) =>
            {
                var nsid = context.GetValue(namespaceId) ?? (subsystem.Namespaces.Count > 0 ? subsystem.Namespaces[0].Id : 0);
                if (nsid != 0 && subsystem.Namespaces.All(n => n.Id != nsid))
                {
                    throw new CliException($"namespace {nsid} is not active on {subsystem.SubsystemNqn} (active: {string.Join(", ", subsystem.Namespaces.Select(n => n.Id))})");
                }

                var hostId = context.ClientOptions().HostId;
                if (context.Json)
                {
                    // nvme-cli prints an array of hosts, each with its subsystems.
                    context.Out.WriteLine(Output.JsonText.Build(writer =>
                    {
                        writer.WriteStartArray();
                        writer.WriteStartObject();
                        WriteHost(writer, subsystem, hostId, nsid);
                        writer.WriteEndObject();
                        writer.WriteEndArray();
                    }));
                }
                else
                {
                    context.Out.Write(Text(subsystem, nsid));
                }

                return Task.FromResult(ExitCodes.Ok);
            });
    }

    public static Command AnaLog()
    {
        var groups = new Option<bool>("--groups", "-g") { Description = "Return ANA groups only (RGO: the descriptors without their NSID lists)." };
        return ControllerVerb.Create(
            "ana-log",
            "Asymmetric Namespace Access log (0Ch): each ANA group's state through this controller and its namespaces, with nvme-cli's field names.",
            defaultIoQueues: 0,
            [groups],
            async (context, controller, cancellationToken) =>
            {
                var log = await controller.GetAnaLogAsync(context.GetValue(groups), cancellationToken).ConfigureAwait(false);
                // The device is the controller's name, as fw-log and list-subsys show it (nvme-cli names the kernel device).
                var device = ControllerNames.Controller(controller);
                await context.PrintAsync(writer => WriteAnaLog(writer, log, device), () => AnaLogText(log, device)).ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    /// <summary>ANA states as nvme-cli's <c>nvme_ana_state_to_string</c> and the kernel's sysfs <c>ana_state</c> word them.</summary>
    public static string AnaStateName(AnaState state) => state switch
    {
        AnaState.Optimized => "optimized",
        AnaState.NonOptimized => "non-optimized",
        AnaState.Inaccessible => "inaccessible",
        AnaState.PersistentLoss => "persistent-loss",
        AnaState.Change => "change",
        _ => "invalid state",
    };

    /// <summary>Controller states as the kernel's sysfs <c>state</c> file words them.</summary>
    public static string StateName(NvmeControllerState state) => state switch
    {
        NvmeControllerState.Live => "live",
        NvmeControllerState.Connecting => "connecting",
        NvmeControllerState.Resetting => "resetting",
        NvmeControllerState.Deleting => "deleting",
        _ => "dead",
    };

    /// <summary>A path's address as the kernel's sysfs <c>address</c> file gives it (what nvme-cli prints).</summary>
    public static string Address(NvmePath path) => $"traddr={path.EndPoint.Host},trsvcid={path.EndPoint.Port.ToString(CultureInfo.InvariantCulture)}";

    private static void WriteHost(Utf8JsonWriter writer, NvmeSubsystem subsystem, Guid hostId, uint nsid)
    {
        writer.WriteString("HostNQN", subsystem.HostNqn);
        writer.WriteString("HostID", hostId.ToString());
        writer.WriteStartArray("Subsystems");
        writer.WriteStartObject();
        writer.WriteString("Name", SubsystemName(subsystem));
        writer.WriteString("NQN", subsystem.SubsystemNqn);
        writer.WriteString("IOPolicy", ConnectionOptions.IoPolicyName(subsystem.IoPolicy));
        writer.WriteStartArray("Paths");
        foreach (var path in subsystem.Paths)
        {
            writer.WriteStartObject();
            writer.WriteString("Name", PathName(path));
            writer.WriteString("Transport", "tcp");
            writer.WriteString("Address", Address(path));
            writer.WriteString("State", StateName(path.State));
            if (nsid != 0)
            {
                writer.WriteString("ANAState", AnaStateName(path.AnaStateOf(nsid)));
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();
    }

    // nvme-cli's tree: the subsystem, its host NQN and policy, then " +- " and one line per path.
    private static string Text(NvmeSubsystem subsystem, uint nsid)
    {
        var name = SubsystemName(subsystem);
        var indent = new string(' ', name.Length + 3);
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{name} - NQN={subsystem.SubsystemNqn}")
            .AppendLine(CultureInfo.InvariantCulture, $"{indent}hostnqn={subsystem.HostNqn}")
            .AppendLine(CultureInfo.InvariantCulture, $"{indent}iopolicy={ConnectionOptions.IoPolicyName(subsystem.IoPolicy)}")
            .AppendLine("\\");
        foreach (var path in subsystem.Paths)
        {
            var ana = nsid != 0 ? $" {AnaStateName(path.AnaStateOf(nsid))}" : string.Empty;
            text.AppendLine(CultureInfo.InvariantCulture, $" +- {PathName(path)} tcp {Address(path)} {StateName(path.State)}{ana}");
        }

        return text.ToString();
    }

    // nvme-cli's json_ana_log, keys as it spells them (the trailing space of "ANA DESC LIST " included).
    private static void WriteAnaLog(Utf8JsonWriter writer, NvmeAnaLog log, string device)
    {
        writer.WriteString("Asymmetric Namespace Access Log for NVMe device", device);
        writer.WriteNumber("chgcnt", log.ChangeCount);
        writer.WriteNumber("ngrps", log.Groups.Count);
        writer.WriteStartArray("ANA DESC LIST ");
        foreach (var group in log.Groups)
        {
            writer.WriteStartObject();
            writer.WriteNumber("grpid", group.GroupId);
            writer.WriteNumber("nnsids", group.NamespaceIds.Count);
            writer.WriteNumber("chgcnt", group.ChangeCount);
            writer.WriteString("state", AnaStateName(group.State));
            writer.WriteStartArray("NSIDS");
            foreach (var id in group.NamespaceIds)
            {
                writer.WriteStartObject();
                writer.WriteNumber("nsid", id);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    // nvme-cli's stdout_ana_log.
    private static string AnaLogText(NvmeAnaLog log, string device)
    {
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Asymmetric Namespace Access Log for NVMe device: {device}")
            .AppendLine("ANA LOG HEADER :-")
            .AppendLine(CultureInfo.InvariantCulture, $"chgcnt\t:\t{log.ChangeCount}")
            .AppendLine(CultureInfo.InvariantCulture, $"ngrps\t:\t{log.Groups.Count}")
            .AppendLine("ANA Log Desc :-");
        foreach (var group in log.Groups)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"grpid\t:\t{group.GroupId}")
                .AppendLine(CultureInfo.InvariantCulture, $"nnsids\t:\t{group.NamespaceIds.Count}")
                .AppendLine(CultureInfo.InvariantCulture, $"chgcnt\t:\t{group.ChangeCount}")
                .AppendLine(CultureInfo.InvariantCulture, $"state\t:\t{AnaStateName(group.State)}");
            foreach (var id in group.NamespaceIds)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"\tnsid\t:\t{id}");
            }

            text.AppendLine();
        }

        return text.ToString();
    }
}
