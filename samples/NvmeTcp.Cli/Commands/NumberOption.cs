using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace NvmeTcp.Cli.Commands;

/// <summary>Numeric options that take decimal or 0x-prefixed hex, as nvme-cli's do (<c>--opcode 0x06</c>).</summary>
internal static class NumberOption
{
    public static Option<uint> UInt32(string name, string description, uint? defaultValue = null, params string[] aliases)
    {
        var option = new Option<uint>(name, aliases)
        {
            Description = description,
            CustomParser = result => (uint)Parse(result, uint.MaxValue, defaultValue ?? 0),
        };
        if (defaultValue is { } value)
        {
            option.DefaultValueFactory = _ => value;
        }
        else
        {
            option.Required = true;
        }

        return option;
    }

    public static Option<ulong> UInt64(string name, string description, ulong defaultValue, params string[] aliases) => new(name, aliases)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, ulong.MaxValue, defaultValue),
    };

    /// <summary>A comma-separated list of numbers (nvme-cli's <c>--slbs 0,100</c>).</summary>
    public static Option<ulong[]> List(string name, string description, params string[] aliases) => new(name, aliases)
    {
        Description = description,
        CustomParser = result =>
        {
            var values = new List<ulong>();
            foreach (var token in result.Tokens)
            {
                foreach (var part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!TryParse(part, out var value))
                    {
                        result.AddError($"'{part}' is not a number (decimal or 0x hex) in {name}.");
                        return [];
                    }

                    values.Add(value);
                }
            }

            return [.. values];
        },
    };

    public static bool TryParse(string text, out ulong value) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static ulong Parse(ArgumentResult result, ulong max, ulong fallback)
    {
        if (result.Tokens.Count == 0)
        {
            return fallback;
        }

        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (!TryParse(text, out var value) || value > max)
        {
            result.AddError($"'{text}' is not a number from 0 to {max} (decimal, or hex with 0x).");
            return 0;
        }

        return value;
    }
}
