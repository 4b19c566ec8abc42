using System.CommandLine;
using NvmeTcp.Cli.Output;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>id-ctrl</c>, <c>id-ns</c> and <c>list-ns</c>: the Identify data, printed as nvme-cli prints it.</summary>
internal static class IdentifyCommands
{
    public static Command IdCtrl()
    {
        var human = new Option<bool>("--human-readable", "-H") { Description = "Also decode the bit fields (cmic, oacs, oncs, sgls, ...) one line per bit in the normal output; ignored with -o json, as nvme-cli does." };
        return ControllerVerb.Create(
            "id-ctrl",
            "Identify Controller (CNS 01h): the controller's capabilities, with nvme-cli's field names.",
            defaultIoQueues: 0,
            [human],
            async (context, controller, cancellationToken) =>
            {
                var id = controller.Identify;
                var fields = IdentifyFields.Controller(id);
                await context.PrintAsync(
                    writer =>
                    {
                        fields.WriteMembers(writer);
                        IdentifyFields.WritePowerStates(writer, id);
                    },
                    () => $"NVME Identify Controller:{Environment.NewLine}{fields.ToText()}{(context.GetValue(human) ? Environment.NewLine + HumanBits.Text(id) : string.Empty)}").ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    public static Command IdNs()
    {
        var namespaceId = CommonOptions.NamespaceId();
        return ControllerVerb.Create(
            "id-ns",
            "Identify Namespace (CNS 00h) of one namespace, with nvme-cli's field names.",
            defaultIoQueues: 0,
            [namespaceId],
            async (context, controller, cancellationToken) =>
            {
                var nsid = context.GetValue(namespaceId);
                var id = await controller.IdentifyNamespaceAsync(nsid, cancellationToken).ConfigureAwait(false);
                var fields = IdentifyFields.Namespace(id);
                await context.PrintAsync(
                    writer =>
                    {
                        fields.WriteMembers(writer);
                        IdentifyFields.WriteLbaFormats(writer, id);
                    },
                    () => $"NVME Identify Namespace {nsid}:{Environment.NewLine}{fields.ToText()}{IdentifyFields.LbaFormatsText(id)}").ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    public static Command ListNs() => ControllerVerb.Create(
        "list-ns",
        "The active namespace IDs (Identify CNS 02h).",
        defaultIoQueues: 0,
        [],
        async (context, controller, cancellationToken) =>
        {
            var ids = await controller.GetActiveNamespaceIdsAsync(cancellationToken).ConfigureAwait(false);
            await context.PrintAsync(
                writer =>
                {
                    writer.WriteStartArray("nsid_list");
                    foreach (var id in ids)
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("nsid", id);
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                },
                () => string.Concat(ids.Select((id, i) => $"[{i,4}]:0x{id:x}{Environment.NewLine}"))).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
}
