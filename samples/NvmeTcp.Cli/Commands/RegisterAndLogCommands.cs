using System.CommandLine;
using System.Globalization;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>get-property</c>, <c>set-property</c>, <c>show-regs</c>, <c>fw-log</c> and <c>ns-descs</c>, with nvme-cli's JSON field names.</summary>
internal static class RegisterAndLogCommands
{
    private static readonly (uint Offset, string Key)[] FabricsRegisters =
    [
        (ControllerProperty.Cap, "cap"),
        (ControllerProperty.Vs, "vs"),
        (ControllerProperty.Cc, "cc"),
        (ControllerProperty.Csts, "csts"),
    ];

    public static Command GetProperty()
    {
        var offset = NumberOption.UInt32("--offset", "The property's offset (0x0 CAP, 0x8 VS, 0x14 CC, 0x1c CSTS).", null, "-O");
        return ControllerVerb.Create(
            "get-property",
            "Property Get: read one controller property (8 bytes for CAP, 4 for the others).",
            defaultIoQueues: 0,
            [offset],
            async (context, controller, cancellationToken) =>
            {
                var at = context.GetValue(offset);
                var value = await controller.GetPropertyAsync(at, cancellationToken).ConfigureAwait(false);
                await context.PrintAsync(
                    writer =>
                    {
                        writer.WriteString("property", string.Create(CultureInfo.InvariantCulture, $"0x{at:x2}"));
                        writer.WriteString("name", RegisterName(at));
                        writer.WriteString("value", value.ToString("x", CultureInfo.InvariantCulture));
                    },
                    () => string.Create(CultureInfo.InvariantCulture, $"property: 0x{at:x2} ({RegisterName(at)}), value: {value:x}{Environment.NewLine}")).ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    public static Command SetProperty()
    {
        var offset = NumberOption.UInt32("--offset", "The property's offset (e.g. 0x14 CC).", null, "-O");
        var value = NumberOption.UInt32("--value", "The 4-byte value.", null, "-V");
        return ControllerVerb.Create(
            "set-property",
            "Property Set: write one 4-byte controller property (writing CC can shut the controller down).",
            defaultIoQueues: 0,
            [offset, value],
            async (context, controller, cancellationToken) =>
            {
                var at = context.GetValue(offset);
                var newValue = context.GetValue(value);
                await controller.SetPropertyAsync(at, newValue, cancellationToken).ConfigureAwait(false);
                await context.PrintAsync(
                    writer =>
                    {
                        writer.WriteString("property", string.Create(CultureInfo.InvariantCulture, $"0x{at:x2}"));
                        writer.WriteString("name", RegisterName(at));
                        writer.WriteString("value", newValue.ToString("x", CultureInfo.InvariantCulture));
                    },
                    () => string.Create(CultureInfo.InvariantCulture, $"set-property: offset 0x{at:x2} ({RegisterName(at)}), value 0x{newValue:x}{Environment.NewLine}")).ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    public static Command ShowRegs() => ControllerVerb.Create(
        "show-regs",
        "The controller properties a fabrics controller has (CAP, VS, CC, CSTS), read with Property Get.",
        defaultIoQueues: 0,
        [],
        async (context, controller, cancellationToken) =>
        {
            var values = new List<(string Key, uint Offset, ulong Value)>();
            foreach (var (offset, key) in FabricsRegisters)
            {
                values.Add((key, offset, await controller.GetPropertyAsync(offset, cancellationToken).ConfigureAwait(false)));
            }

            await context.PrintAsync(
                writer =>
                {
                    foreach (var (key, _, value) in values)
                    {
                        writer.WriteNumber(key, value);
                    }
                },
                () => string.Concat(values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Key,-9}: {v.Value:x}{Environment.NewLine}")))).ConfigureAwait(false);
            return ExitCodes.Ok;
        });

    public static Command FwLog() => ControllerVerb.Create(
        "fw-log",
        "The firmware slot log (log page 03h): the active slot and each slot's revision. The JSON object is keyed by the subsystem NQN where nvme-cli uses the device name.",
        defaultIoQueues: 0,
        [],
        async (context, controller, cancellationToken) =>
        {
            var log = await controller.GetFirmwareSlotLogAsync(cancellationToken).ConfigureAwait(false);
            var slots = Enumerable.Range(1, 7).Where(s => log.Revisions[s - 1] is not null)
                .Select(s => (Slot: s, Text: string.Create(CultureInfo.InvariantCulture, $"{log.RawRevision(s)} ({log.Revisions[s - 1]})"))).ToList();
            await context.PrintAsync(
                writer =>
                {
                    writer.WriteStartObject(controller.SubsystemNqn);
                    writer.WriteNumber("Active Firmware Slot (afi)", log.Afi);
                    foreach (var (slot, text) in slots)
                    {
                        writer.WriteString(string.Create(CultureInfo.InvariantCulture, $"Firmware Rev Slot {slot}"), text);
                    }

                    writer.WriteEndObject();
                },
                () => $"Firmware Log for device:{controller.SubsystemNqn}{Environment.NewLine}afi  : 0x{log.Afi:x}{Environment.NewLine}"
                    + string.Concat(slots.Select(s => $"frs{s.Slot} : 0x{log.RawRevision(s.Slot):x} ({log.Revisions[s.Slot - 1]}){Environment.NewLine}"))).ConfigureAwait(false);
            return ExitCodes.Ok;
        });

    public static Command NsDescs()
    {
        var namespaceId = CommonOptions.NamespaceId();
        return ControllerVerb.Create(
            "ns-descs",
            "The namespace identification descriptors (Identify CNS 03h): EUI64, NGUID, UUID, CSI.",
            defaultIoQueues: 0,
            [namespaceId],
            async (context, controller, cancellationToken) =>
            {
                var nsid = context.GetValue(namespaceId);
                var descriptors = await controller.GetNamespaceDescriptorsAsync(nsid, cancellationToken).ConfigureAwait(false);
                var rows = new List<(int Loc, NvmeNamespaceDescriptor Descriptor, string Type)>();
                var loc = 0;
                foreach (var descriptor in descriptors)
                {
                    rows.Add((loc, descriptor, descriptor.Type.ToString().ToLowerInvariant()));
                    loc += 4 + descriptor.Length;
                }

                await context.PrintAsync(
                    writer =>
                    {
                        writer.WriteStartArray("ns-descs");
                        foreach (var (at, descriptor, type) in rows)
                        {
                            writer.WriteStartObject();
                            writer.WriteNumber("loc", at);
                            writer.WriteNumber("nidt", (int)descriptor.Type);
                            writer.WriteNumber("nidl", descriptor.Length);
                            writer.WriteString("Type", type);
                            writer.WriteString(type, descriptor.Type == NvmeNamespaceIdentifierType.Csi ? $"0x{descriptor.Csi:x}" : descriptor.ToString());
                            writer.WriteEndObject();
                        }

                        writer.WriteEndArray();
                    },
                    () => $"NVME Namespace Identification Descriptors NS {nsid}:{Environment.NewLine}"
                        + string.Concat(rows.Select(r => $"{r.Type,-5} : {r.Descriptor}{Environment.NewLine}"))).ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    private static string RegisterName(uint offset) => offset switch
    {
        ControllerProperty.Cap => "Controller Capabilities",
        ControllerProperty.Vs => "Version",
        ControllerProperty.Cc => "Controller Configuration",
        ControllerProperty.Csts => "Controller Status",
        ControllerProperty.Nssr => "NVM Subsystem Reset",
        _ => "Unknown",
    };
}
