using System.Globalization;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Output;

/// <summary>
/// Identify Controller and Identify Namespace as nvme-cli prints them (nvme-print-json.c <c>json_nvme_id_ctrl</c>,
/// <c>json_nvme_id_ns</c>; nvme-print-stdout.c for the normal text): same keys, same order, numbers as JSON
/// numbers, strings trimmed. Numeric fields are read from the raw 4096 bytes at their offsets in the NVMe base
/// specification 2.0 (Figure 275), so every field nvme-cli shows is here even where the parser has no property.
/// </summary>
internal static class IdentifyFields
{
    // (key, byte offset, size in bytes, printed as hex in normal output)
    private static readonly (string Name, int Offset, int Size, bool Hex)[] ControllerHead =
    [
        ("vid", 0, 2, true), ("ssvid", 2, 2, true),
    ];

    private static readonly (string Name, int Offset, int Size, bool Hex)[] ControllerMiddle =
    [
        ("rab", 72, 1, false), ("ieee", 73, 3, false), ("cmic", 76, 1, true), ("mdts", 77, 1, false),
        ("cntlid", 78, 2, true), ("ver", 80, 4, true), ("rtd3r", 84, 4, true), ("rtd3e", 88, 4, true),
        ("oaes", 92, 4, true), ("ctratt", 96, 4, true), ("rrls", 100, 2, true), ("cntrltype", 111, 1, false),
    ];

    private static readonly (string Name, int Offset, int Size, bool Hex)[] ControllerTail =
    [
        ("crdt1", 128, 2, false), ("crdt2", 130, 2, false), ("crdt3", 132, 2, false),
        ("oacs", 256, 2, true), ("acl", 258, 1, false), ("aerl", 259, 1, false), ("frmw", 260, 1, true),
        ("lpa", 261, 1, true), ("elpe", 262, 1, false), ("npss", 263, 1, false), ("avscc", 264, 1, true),
        ("apsta", 265, 1, true), ("wctemp", 266, 2, false), ("cctemp", 268, 2, false), ("mtfa", 270, 2, false),
        ("hmpre", 272, 4, false), ("hmmin", 276, 4, false), ("tnvmcap", 280, 16, false), ("unvmcap", 296, 16, false),
        ("rpmbs", 312, 4, true), ("edstt", 316, 2, false), ("dsto", 318, 1, false), ("fwug", 319, 1, false),
        ("kas", 320, 2, false), ("hctma", 322, 2, true), ("mntmt", 324, 2, false), ("mxtmt", 326, 2, false),
        ("sanicap", 328, 4, true), ("hmminds", 332, 4, false), ("hmmaxd", 336, 2, false),
        ("nsetidmax", 338, 2, false), ("endgidmax", 340, 2, false), ("anatt", 342, 1, false),
        ("anacap", 343, 1, false), ("anagrpmax", 344, 4, false), ("nanagrpid", 348, 4, false), ("pels", 352, 4, false),
        ("sqes", 512, 1, true), ("cqes", 513, 1, true), ("maxcmd", 514, 2, false), ("nn", 516, 4, false),
        ("oncs", 520, 2, true), ("fuses", 522, 2, true), ("fna", 524, 1, true), ("vwc", 525, 1, true),
        ("awun", 526, 2, false), ("awupf", 528, 2, false), ("icsvscc", 530, 1, false), ("nwpc", 531, 1, false),
        ("acwu", 532, 2, false), ("ocfs", 534, 2, true), ("sgls", 536, 4, true), ("mnan", 540, 4, false),
    ];

    private static readonly (string Name, int Offset, int Size, bool Hex)[] ControllerFabrics =
    [
        ("ioccsz", 1792, 4, false), ("iorcsz", 1796, 4, false), ("icdoff", 1800, 2, false),
        ("fcatt", 1802, 1, true), ("msdbd", 1803, 1, false), ("ofcs", 1804, 2, false),
    ];

    public static FieldList Controller(NvmeIdentifyController id)
    {
        var raw = id.Raw.Span;
        var fields = new FieldList();
        Add(fields, raw, ControllerHead);
        fields.Str("sn", id.SerialNumber.Trim()).Str("mn", id.ModelNumber.Trim()).Str("fr", id.FirmwareRevision.Trim());
        Add(fields, raw, ControllerMiddle);
        fields.Str("fguid", JsonText.Uuid(raw.Slice(112, 16)));
        Add(fields, raw, ControllerTail);
        if (id.SubsystemNqn.Trim().Length > 0)
        {
            fields.Str("subnqn", id.SubsystemNqn.Trim());
        }

        Add(fields, raw, ControllerFabrics);
        return fields;
    }

    /// <summary>The power state descriptors, <c>psds</c> in nvme-cli's JSON (NPSS + 1 of them, 32 bytes each from byte 2048).</summary>
    public static void WritePowerStates(Utf8JsonWriter writer, NvmeIdentifyController id)
    {
        var raw = id.Raw.Span;
        writer.WriteStartArray("psds");
        for (var i = 0; i <= raw[263] && 2048 + (32 * (i + 1)) <= raw.Length; i++)
        {
            var psd = raw.Slice(2048 + (32 * i), 32);
            writer.WriteStartObject();
            writer.WriteNumber("max_power", BinaryPrimitives.ReadUInt16LittleEndian(psd));
            writer.WriteNumber("max_power_scale", psd[3] & 1);
            writer.WriteNumber("non-operational_state", (psd[3] >> 1) & 1);
            writer.WriteNumber("entry_lat", BinaryPrimitives.ReadUInt32LittleEndian(psd[4..]));
            writer.WriteNumber("exit_lat", BinaryPrimitives.ReadUInt32LittleEndian(psd[8..]));
            writer.WriteNumber("read_tput", psd[12] & 0x1f);
            writer.WriteNumber("read_lat", psd[13] & 0x1f);
            writer.WriteNumber("write_tput", psd[14] & 0x1f);
            writer.WriteNumber("write_lat", psd[15] & 0x1f);
            writer.WriteNumber("idle_power", BinaryPrimitives.ReadUInt16LittleEndian(psd[16..]));
            writer.WriteNumber("idle_scale", psd[18] >> 6);
            writer.WriteNumber("active_power", BinaryPrimitives.ReadUInt16LittleEndian(psd[20..]));
            writer.WriteNumber("active_power_work", psd[22] & 7);
            writer.WriteNumber("active_scale", psd[22] >> 6);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    public static FieldList Namespace(NvmeIdentifyNamespace ns)
    {
        var raw = ns.Raw.Span;
        var fields = new FieldList()
            .Hex("nsze", ns.Nsze).Hex("ncap", ns.Ncap).Hex("nuse", ns.Nuse).Hex("nsfeat", ns.Nsfeat)
            .Dec("nlbaf", ns.Nlbaf).Hex("flbas", ns.Flbas).Hex("mc", ns.Mc).Hex("dpc", ns.Dpc).Hex("dps", ns.Dps)
            .Hex("nmic", ns.Nmic).Hex("rescap", ns.Rescap).Hex("fpi", ns.Fpi).Hex("dlfeat", ns.Dlfeat)
            .Dec("nawun", ns.Nawun).Dec("nawupf", ns.Nawupf).Dec("nacwu", ns.Nacwu).Dec("nabsn", ns.Nabsn)
            .Dec("nabo", ns.Nabo).Dec("nabspf", ns.Nabspf).Dec("noiob", ns.Noiob).Big("nvmcap", ns.Nvmcap);
        if ((ns.Nsfeat & 0x30) != 0)
        {
            fields.Dec("npwg", ns.Npwg).Dec("npwa", ns.Npwa);
            if ((ns.Nsfeat & 0x10) != 0)
            {
                fields.Dec("npdg", ns.Npdg);
            }

            fields.Dec("npda", ns.Npda).Dec("nows", ns.Nows);
        }

        fields.Dec("mssrl", BinaryPrimitives.ReadUInt16LittleEndian(raw[74..]))
            .Dec("mcl", BinaryPrimitives.ReadUInt32LittleEndian(raw[76..]))
            .Dec("msrc", raw[80])
            .Dec("anagrpid", ns.Anagrpid).Dec("nsattr", ns.Nsattr).Dec("nvmsetid", ns.Nvmsetid).Dec("endgid", ns.Endgid)
            .Str("nguid", JsonText.Hex(ns.Nguid.Span)).Str("eui64", JsonText.Hex(ns.Eui64.Span));
        return fields;
    }

    /// <summary><c>lbafs</c>: one object per LBA format (NLBAF + 1), with nvme-cli's keys.</summary>
    public static void WriteLbaFormats(Utf8JsonWriter writer, NvmeIdentifyNamespace ns)
    {
        writer.WriteStartArray("lbafs");
        for (var i = 0; i < ns.LbaFormats.Count; i++)
        {
            var format = ns.LbaFormats[i];
            writer.WriteStartObject();
            writer.WriteNumber("lbaf", i);
            writer.WriteNumber("ms", format.MetadataSize);
            writer.WriteNumber("ds", format.Lbads);
            writer.WriteNumber("rp", format.RelativePerformance);
            writer.WriteNumber("in_use", i == ns.CurrentLbaFormatIndex ? 1 : 0);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    public static string LbaFormatsText(NvmeIdentifyNamespace ns)
    {
        var text = new StringBuilder();
        for (var i = 0; i < ns.LbaFormats.Count; i++)
        {
            var format = ns.LbaFormats[i];
            text.Append(CultureInfo.InvariantCulture, $"lbaf {i,2} : ms:{format.MetadataSize,-3} lbads:{format.Lbads,-2} rp:{format.RelativePerformance:x}");
            text.AppendLine(i == ns.CurrentLbaFormatIndex ? " (in use)" : string.Empty);
        }

        return text.ToString();
    }

    private static void Add(FieldList fields, ReadOnlySpan<byte> raw, (string Name, int Offset, int Size, bool Hex)[] table)
    {
        foreach (var (name, offset, size, hex) in table)
        {
            var bytes = raw.Slice(offset, size);
            if (size == 16)
            {
                fields.Big(name, BinaryPrimitives.ReadUInt128LittleEndian(bytes));
                continue;
            }

            ulong value = 0;
            for (var i = size - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }

            if (hex)
            {
                fields.Hex(name, value);
            }
            else
            {
                fields.Dec(name, value);
            }
        }
    }
}
