using System.Globalization;
using System.Text;
using System.Text.Json;

namespace NvmeTcp.Cli.Output;

/// <summary>
/// An ordered list of named fields printed either as nvme-cli's normal text (<c>name : value</c>, numbers in the
/// radix nvme-cli uses) or as members of a JSON object with nvme-cli's key names.
/// </summary>
internal sealed class FieldList
{
    private readonly List<(string Name, object Value, string Text)> _fields = [];

    /// <summary>A number printed in decimal.</summary>
    public FieldList Dec(string name, ulong value)
    {
        _fields.Add((name, value, value.ToString(CultureInfo.InvariantCulture)));
        return this;
    }

    /// <summary>A number with its own text in normal output.</summary>
    public FieldList Dec(string name, ulong value, string text)
    {
        _fields.Add((name, value, text));
        return this;
    }

    /// <summary>A number nvme-cli prints as <c>%#x</c> in normal output.</summary>
    public FieldList Hex(string name, ulong value)
    {
        _fields.Add((name, value, value == 0 ? "0" : $"0x{value:x}"));
        return this;
    }

    public FieldList Big(string name, UInt128 value)
    {
        _fields.Add((name, value, value.ToString(CultureInfo.InvariantCulture)));
        return this;
    }

    public FieldList Str(string name, string value)
    {
        _fields.Add((name, value, value));
        return this;
    }

    public void WriteMembers(Utf8JsonWriter writer)
    {
        foreach (var (name, value, _) in _fields)
        {
            switch (value)
            {
                case ulong number:
                    writer.WriteNumber(name, number);
                    break;
                case UInt128 big:
                    writer.WriteUInt128(name, big);
                    break;
                default:
                    writer.WriteString(name, (string)value);
                    break;
            }
        }
    }

    public string ToText()
    {
        var width = _fields.Count == 0 ? 0 : _fields.Max(f => f.Name.Length);
        var text = new StringBuilder();
        foreach (var (name, _, value) in _fields)
        {
            text.Append(name.PadRight(width)).Append(" : ").AppendLine(value);
        }

        return text.ToString();
    }
}
