using System.CommandLine;
using NvmeTcp.Cli.Output;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>id-ctrl</c>, <c>id-ns</c> and <c>list-ns</c>: the Identify data, printed as nvme-cli prints it.</summary>
internal static class IdentifyCommands
{
    public static Command IdCtrl()
    {
        var command = new Command("id-ctrl", "Identify Controller (CNS 01h): the controller's capabilities, with nvme-cli's field names.");
        var connection = new ConnectionOptions(defaultIoQueues: 0);
        connection.AddTo(command);
        var outputFormat = CommonOptions.OutputFormat();
        command.Options.Add(outputFormat);
        connection.AddShortForms(command);
        CommandRunner.SetAction(command, outputFormat, connection, async (context, cancellationToken) =>
        {
            var controller = await context.ConnectAsync(cancellationToken).ConfigureAwait(false);
            await using (controller.ConfigureAwait(false))
            {
                var id = controller.Identify;
                var fields = IdentifyFields.Controller(id);
                if (context.Json)
                {
                    context.WriteJson(writer =>
                    {
                        writer.WriteStartObject();
                        fields.WriteMembers(writer);
                        IdentifyFields.WritePowerStates(writer, id);
                        writer.WriteEndObject();
                    });
                }
                else
                {
                    await context.Out.WriteAsync($"NVME Identify Controller:{Environment.NewLine}{fields.ToText()}").ConfigureAwait(false);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command IdNs()
    {
        var namespaceId = CommonOptions.NamespaceId();
        var command = new Command("id-ns", "Identify Namespace (CNS 00h) of one namespace, with nvme-cli's field names.");
        var connection = new ConnectionOptions(defaultIoQueues: 0);
        connection.AddTo(command);
        command.Options.Add(namespaceId);
        var outputFormat = CommonOptions.OutputFormat();
        command.Options.Add(outputFormat);
        connection.AddShortForms(command);
        CommandRunner.SetAction(command, outputFormat, connection, async (context, cancellationToken) =>
        {
            var controller = await context.ConnectAsync(cancellationToken).ConfigureAwait(false);
            await using (controller.ConfigureAwait(false))
            {
                var nsid = context.GetValue(namespaceId);
                var id = await controller.IdentifyNamespaceAsync(nsid, cancellationToken).ConfigureAwait(false);
                var fields = IdentifyFields.Namespace(id);
                if (context.Json)
                {
                    context.WriteJson(writer =>
                    {
                        writer.WriteStartObject();
                        fields.WriteMembers(writer);
                        IdentifyFields.WriteLbaFormats(writer, id);
                        writer.WriteEndObject();
                    });
                }
                else
                {
                    await context.Out.WriteAsync($"NVME Identify Namespace {nsid}:{Environment.NewLine}{fields.ToText()}{IdentifyFields.LbaFormatsText(id)}").ConfigureAwait(false);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command ListNs()
    {
        var command = new Command("list-ns", "The active namespace IDs (Identify CNS 02h).");
        var connection = new ConnectionOptions(defaultIoQueues: 0);
        connection.AddTo(command);
        var outputFormat = CommonOptions.OutputFormat();
        command.Options.Add(outputFormat);
        connection.AddShortForms(command);
        CommandRunner.SetAction(command, outputFormat, connection, async (context, cancellationToken) =>
        {
            var controller = await context.ConnectAsync(cancellationToken).ConfigureAwait(false);
            await using (controller.ConfigureAwait(false))
            {
                var ids = await controller.GetActiveNamespaceIdsAsync(cancellationToken).ConfigureAwait(false);
                if (context.Json)
                {
                    context.WriteJson(writer =>
                    {
                        writer.WriteStartObject();
                        writer.WriteStartArray("nsid_list");
                        foreach (var id in ids)
                        {
                            writer.WriteStartObject();
                            writer.WriteNumber("nsid", id);
                            writer.WriteEndObject();
                        }

                        writer.WriteEndArray();
                        writer.WriteEndObject();
                    });
                }
                else
                {
                    for (var i = 0; i < ids.Count; i++)
                    {
                        await context.Out.WriteLineAsync($"[{i,4}]:0x{ids[i]:x}").ConfigureAwait(false);
                    }
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
