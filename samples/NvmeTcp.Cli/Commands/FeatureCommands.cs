using System.CommandLine;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>get-feature</c> and <c>set-feature</c>: Get/Set Features, printed as nvme-cli prints them.</summary>
internal static class FeatureCommands
{
    public static Command GetFeature()
    {
        var featureId = FeatureId("FID: the feature (e.g. 0x07 Number of Queues, 0x0f Keep Alive Timer).");
        var cdw11 = NumberOption.UInt32("--cdw11", "Command dword 11, for features that take one.", 0);
        var namespaceId = NumberOption.UInt32("--namespace-id", "NSID for per-namespace features (default 0).", 0);
        return ControllerVerb.Create(
            "get-feature",
            "Get Features: the current value of one feature.",
            defaultIoQueues: 0,
            [featureId, cdw11, namespaceId],
            async (context, controller, cancellationToken) =>
            {
                var fid = (byte)context.GetValue(featureId);
                var value = await controller.GetFeatureAsync(fid, context.GetValue(cdw11), context.GetValue(namespaceId), cancellationToken).ConfigureAwait(false);
                await context.PrintAsync(
                    writer =>
                    {
                        writer.WriteNumber("feature_id", fid);
                        writer.WriteString("name", Name(fid));
                        writer.WriteNumber("value", value);
                    },
                    () => $"get-feature:0x{fid:x2} ({Name(fid)}), Current value:0x{value:x8}{Environment.NewLine}").ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    public static Command SetFeature()
    {
        var featureId = FeatureId("FID: the feature to set.");
        var value = NumberOption.UInt32("--value", "The new value (command dword 11).", null, "-V");
        var namespaceId = NumberOption.UInt32("--namespace-id", "NSID for per-namespace features (default 0).", 0);
        var save = new Option<bool>("--save") { Description = "SV: keep the value across resets." };
        return ControllerVerb.Create(
            "set-feature",
            "Set Features: change one feature's value.",
            defaultIoQueues: 0,
            [featureId, value, namespaceId, save],
            async (context, controller, cancellationToken) =>
            {
                var fid = (byte)context.GetValue(featureId);
                var newValue = context.GetValue(value);
                var saved = context.GetValue(save);
                var result = await controller.SetFeatureAsync(fid, newValue, context.GetValue(namespaceId), saved, cancellationToken).ConfigureAwait(false);
                await context.PrintAsync(
                    writer =>
                    {
                        writer.WriteNumber("feature_id", fid);
                        writer.WriteString("name", Name(fid));
                        writer.WriteNumber("value", newValue);
                        writer.WriteBoolean("save", saved);
                        writer.WriteNumber("result", result);
                    },
                    () => $"set-feature:0x{fid:x2} ({Name(fid)}), value:0x{newValue:x8}, cdw12:0x00000000, save:{(saved ? 1 : 0)}{Environment.NewLine}").ConfigureAwait(false);
                return ExitCodes.Ok;
            });
    }

    /// <summary>The feature's name as nvme-cli's <c>nvme_feature_to_string</c> gives it.</summary>
    public static string Name(byte fid) => fid switch
    {
        0x01 => "Arbitration",
        0x02 => "Power Management",
        0x03 => "LBA Range Type",
        0x04 => "Temperature Threshold",
        0x05 => "Error Recovery",
        0x06 => "Volatile Write Cache",
        0x07 => "Number of Queues",
        0x08 => "Interrupt Coalescing",
        0x09 => "Interrupt Vector Configuration",
        0x0a => "Write Atomicity Normal",
        0x0b => "Async Event Configuration",
        0x0c => "Autonomous Power State Transition",
        0x0d => "Host Memory Buffer",
        0x0e => "Timestamp",
        0x0f => "Keep Alive Timer",
        0x10 => "Host Controlled Thermal Management",
        0x11 => "Non-Operational Power State Config",
        0x12 => "Read Recovery Level",
        0x80 => "Software Progress",
        0x81 => "Host Identifier",
        0x82 => "Reservation Notification Mask",
        0x83 => "Reservation Persistence",
        _ => "Unknown",
    };

    /// <summary>-f/--feature-id: an FID of 1 to 0xff.</summary>
    private static Option<uint> FeatureId(string description) =>
        NumberOption.UInt32("--feature-id", description, null, "-f")
            .Check(fid => fid is >= 1 and <= 0xFF ? null : $"--feature-id must be 1 to 0xff, not {fid}");
}
