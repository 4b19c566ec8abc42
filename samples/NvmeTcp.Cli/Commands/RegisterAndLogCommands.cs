using System.CommandLine;
using System.Globalization;
using NvmeTcp.Cli.Output;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>get-property</c>, <c>set-property</c>, <c>show-regs</c>, <c>fw-log</c> and <c>ns-descs</c>, with nvme-cli's JSON field names.</summary>
internal static class RegisterAndLogCommands
{
    // nvme-cli's fabrics registers, with its JSON key and its text symbol (nvme_register_symbol_to_string).
    private static readonly (uint Offset, string Key, string Symbol)[] FabricsRegisters =
    [
        (ControllerProperty.Cap, "cap", "cap"),
        (ControllerProperty.Vs, "vs", "version"),
        (ControllerProperty.Cc, "cc", "cc"),
        (ControllerProperty.Csts, "csts", "csts"),
        (ControllerProperty.Nssr, "nssr", "nssr"),
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

    /// <summary>
    /// <c>show-regs</c> as nvme-cli 2.16 runs it on a fabrics controller: Property Get of CAP, VS, CC, CSTS and NSSR
    /// (nvme_is_fabrics_reg). NSSR is optional (CAP.NSSRS): a status for it reads as all ones, as nvme-cli fills its
    /// buffer with 0xff, and any other failure is the verb's error. JSON: <c>cap</c> (64 bits), <c>vs</c>, <c>cc</c>,
    /// <c>csts</c>, <c>nssr</c> as json-c ints (signed 32 bits, so all ones is -1). nvme-cli's JSON also lists the PCIe
    /// registers (intms, aqa, cmbloc, pmrcap, ...) from that 0xff-filled buffer without reading them; those are left out.
    /// </summary>
    public static Command ShowRegs() => ControllerVerb.Create(
        "show-regs",
        "The properties a fabrics controller has (CAP, VS, CC, CSTS, and NSSR where supported), read with Property Get as nvme-cli does; an NSSR the controller refuses shows as all ones (JSON -1), as in nvme-cli.",
        defaultIoQueues: 0,
        [],
        async (context, controller, cancellationToken) =>
        {
            var values = new List<(string Key, string Symbol, ulong Value)>();
            foreach (var (offset, key, symbol) in FabricsRegisters)
            {
                ulong value;
                try
                {
                    value = await controller.GetPropertyAsync(offset, cancellationToken).ConfigureAwait(false);
                }
                catch (NvmeStatusException) when (offset == ControllerProperty.Nssr)
                {
                    value = uint.MaxValue;
                }

                values.Add((key, symbol, value));
            }

            await context.PrintAsync(
                writer =>
                {
                    foreach (var (key, _, value) in values)
                    {
                        if (key == "cap")
                        {
                            writer.WriteNumber(key, value);
                        }
                        else
                        {
                            writer.WriteNumber(key, unchecked((int)(uint)value));
                        }
                    }
                },
                () => string.Concat(values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Symbol,-8}: {(v.Value == 0 ? "0" : $"0x{v.Value:x}")}{Environment.NewLine}")))).ConfigureAwait(false);
            return ExitCodes.Ok;
        });

    public static Command FwLog() => ControllerVerb.Create(
        "fw-log",
        "The firmware slot log (log page 03h): the active slot and each slot's revision. The JSON object is keyed by the controller's name as list-subsys shows it (nvmetcpN), where nvme-cli uses the device name.",
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
                    writer.WriteStartObject(ControllerNames.Controller(controller));
                    writer.WriteNumber("Active Firmware Slot (afi)", log.Afi);
                    foreach (var (slot, text) in slots)
                    {
                        writer.WriteString(string.Create(CultureInfo.InvariantCulture, $"Firmware Rev Slot {slot}"), text);
                    }

                    writer.WriteEndObject();
                },
                () => $"Firmware Log for device:{ControllerNames.Controller(controller)}{Environment.NewLine}afi  : 0x{log.Afi:x}{Environment.NewLine}"
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
