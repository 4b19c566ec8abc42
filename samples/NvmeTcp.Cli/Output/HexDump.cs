using System.Globalization;
using System.Text;

namespace NvmeTcp.Cli.Output;

/// <summary>nvme-cli's hex dump (its <c>d()</c>): offset, 16 bytes, and the printable characters.</summary>
internal static class HexDump
{
    public static string Format(ReadOnlySpan<byte> data)
    {
        var text = new StringBuilder();
        text.AppendLine("       0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f");
        for (var offset = 0; offset < data.Length; offset += 16)
        {
            var line = data.Slice(offset, Math.Min(16, data.Length - offset));
            text.Append(CultureInfo.InvariantCulture, $"{offset:x4}: ");
            foreach (var b in line)
            {
                text.Append(CultureInfo.InvariantCulture, $"{b:x2} ");
            }

            text.Append(' ', (16 - line.Length) * 3);
            text.Append('"');
            foreach (var b in line)
            {
                text.Append(b is >= (byte)'!' and <= (byte)'~' ? (char)b : '.');
            }

            text.AppendLine("\"");
        }

        return text.ToString();
    }
}
