using System.Globalization;
using System.Text;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Output;

/// <summary>id-ctrl -H: the bit fields of Identify Controller decoded, one line per bit or field (NVMe Base 2.0, Figure 275).</summary>
internal static class HumanBits
{
    private static readonly (string Field, Func<NvmeIdentifyController, uint> Value, (int High, int Low, string Name)[] Bits)[] Fields =
    [
        ("cmic", id => id.Cmic, [(3, 3, "ANA Reporting"), (2, 2, "SR-IOV Virtual Function"), (1, 1, "Multiple Controllers"), (0, 0, "Multiple Ports")]),
        ("oaes", id => id.Oaes, [(31, 31, "Discovery Log Change Notice"), (11, 11, "ANA Change Notice"), (9, 9, "Firmware Activation Notice"), (8, 8, "Namespace Attribute Changed Notice")]),
        ("ctratt", id => id.Ctratt, [(9, 9, "UUID List"), (7, 7, "Namespace Granularity"), (6, 6, "Traffic Based Keep Alive"), (4, 4, "Endurance Groups"), (1, 1, "Non-Operational Power State Permissive"), (0, 0, "128-bit Host Identifier")]),
        ("oacs", id => id.Oacs, [(10, 10, "Command and Feature Lockdown"), (9, 9, "Get LBA Status"), (8, 8, "Doorbell Buffer Config"), (7, 7, "Virtualization Management"), (6, 6, "NVMe-MI Send and Receive"), (5, 5, "Directives"), (4, 4, "Device Self-test"), (3, 3, "Namespace Management"), (2, 2, "Firmware Download and Commit"), (1, 1, "Format NVM"), (0, 0, "Security Send and Receive")]),
        ("frmw", id => id.Frmw, [(4, 4, "Firmware Activation Without Reset"), (3, 1, "Number of Firmware Slots"), (0, 0, "Firmware Slot 1 Read-Only")]),
        ("lpa", id => id.Lpa, [(4, 4, "Persistent Event Log"), (3, 3, "Telemetry Host/Controller Initiated Log Pages"), (2, 2, "Extended Data for Get Log Page"), (1, 1, "Command Effects Log Page"), (0, 0, "SMART/Health Log per Namespace")]),
        ("oncs", id => id.Oncs, [(8, 8, "Copy"), (7, 7, "Verify"), (6, 6, "Timestamp"), (5, 5, "Reservations"), (4, 4, "Save and Select in Features"), (3, 3, "Write Zeroes"), (2, 2, "Dataset Management"), (1, 1, "Write Uncorrectable"), (0, 0, "Compare")]),
        ("fuses", id => id.Fuses, [(0, 0, "Fused Compare and Write")]),
        ("fna", id => id.Fna, [(2, 2, "Cryptographic Erase"), (1, 1, "Secure Erase Applies to All Namespaces"), (0, 0, "Format Applies to All Namespaces")]),
        ("vwc", id => id.Vwc, [(2, 1, "Flush Behavior for NSID FFFFFFFFh"), (0, 0, "Volatile Write Cache Present")]),
        ("sgls", id => id.Sgls, [(20, 20, "Transport SGL Data Block"), (19, 19, "Metadata Address"), (18, 18, "Byte-Aligned Contiguous Physical Buffer of Metadata"), (17, 17, "SGL Length Larger than Data"), (16, 16, "SGL Bit Bucket"), (2, 2, "Keyed SGL Data Block"), (1, 0, "SGL Support (0 none, 1 byte aligned, 2 dword aligned)")]),
    ];

    /// <summary>The decoded fields as text, each under a line with its value.</summary>
    public static string Text(NvmeIdentifyController id)
    {
        var text = new StringBuilder();
        foreach (var (field, value, bits) in Fields)
        {
            var v = value(id);
            text.Append(CultureInfo.InvariantCulture, $"{field,-9} : 0x{v:x}{Environment.NewLine}");
            foreach (var (high, low, name) in bits)
            {
                var width = high - low + 1;
                var part = (v >> low) & (uint)((1UL << width) - 1);
                var place = $"[{high}:{low}]";
                var meaning = width == 1 ? $"{name} {(part == 1 ? "Supported" : "Not Supported")}" : $"{name}: {part}";
                text.Append(CultureInfo.InvariantCulture, $"  {place,-7} : {part:x}\t{meaning}{Environment.NewLine}");
            }

            text.AppendLine();
        }

        return text.ToString();
    }
}
