using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NvmeTcp.Cli.Output;

/// <summary>JSON the way nvme-cli prints it: one indented object, numbers as numbers, 128-bit counters as plain integers.</summary>
internal static class JsonText
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonWriterOptions LineOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Build(Action<Utf8JsonWriter> write) => Build(write, Options);

    /// <summary>One object on one line, for a stream of them (JSON Lines), as discover --persistent prints changes.</summary>
    public static string BuildLine(Action<Utf8JsonWriter> write) => Build(write, LineOptions);

    private static string Build(Action<Utf8JsonWriter> write, JsonWriterOptions options)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, options))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A 128-bit counter as a JSON integer (json-c's uint128 in nvme-cli).</summary>
    public static void WriteUInt128(this Utf8JsonWriter writer, string name, UInt128 value)
    {
        writer.WritePropertyName(name);
        writer.WriteRawValue(value.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
    }

    /// <summary>Lower-case hex with no separators, as nvme-cli prints NGUID and EUI-64.</summary>
    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>A 16-byte value as a UUID string in wire byte order (libnvme's uuid_to_string).</summary>
    public static string Uuid(ReadOnlySpan<byte> bytes)
    {
        var hex = Convert.ToHexStringLower(bytes);
        return hex.Length != 32 ? hex : $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }
}
