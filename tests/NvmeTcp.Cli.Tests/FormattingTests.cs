using NvmeTcp.Cli.Commands;
using NvmeTcp.Cli.Output;

namespace NvmeTcp.Cli.Tests;

public class FormattingTests
{
    [Theory]
    [InlineData(0, "none")]
    [InlineData(1, "explicit discovery connections")]
    [InlineData(3, "explicit discovery connections, duplicate discovery information")]
    [InlineData(4, "no cdc connectivity")]
    [InlineData(7, "explicit discovery connections, duplicate discovery information, no cdc connectivity")]
    [InlineData(8, "unrecognized")]
    public void Eflags_read_as_libnvme_words_them(ushort eflags, string expected) =>
        Assert.Equal(expected, DiscoverCommand.EflagsToNvmeCliString(eflags));

    [Theory]
    [InlineData("0", 0ul)]
    [InlineData("4096", 4096ul)]
    [InlineData("0x1f", 31ul)]
    [InlineData("0XFFFFFFFF", 0xFFFFFFFFul)]
    public void Numbers_take_decimal_or_hex(string text, ulong expected)
    {
        Assert.True(NumberOption.TryParse(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("0x")]
    [InlineData("ten")]
    public void Bad_numbers_are_refused(string text) => Assert.False(NumberOption.TryParse(text, out _));

    [Theory]
    [InlineData("512", 512)]
    [InlineData("4k", 4096)]
    [InlineData("128K", 131072)]
    [InlineData("1m", 1048576)]
    public void Io_sizes_take_k_and_m(string text, int expected)
    {
        Assert.True(PerfCommand.ParseSize(text, out var size));
        Assert.Equal(expected, size);
    }

    [Fact]
    public void Hex_dump_matches_nvme_clis_layout()
    {
        var text = HexDump.Format("ABCDEFGHIJKLMNOPQ"u8);
        var lines = text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("       0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f", lines[0]);
        Assert.Equal("0000: 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50 \"ABCDEFGHIJKLMNOP\"", lines[1]);
        Assert.StartsWith("0010: 51 ", lines[2], StringComparison.Ordinal);
        Assert.EndsWith("\"Q\"", lines[2], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0ul, "0 B")]
    [InlineData(12288ul, "12.29 kB")]
    [InlineData(1073741824ul, "1.07 GB")]
    public void Sizes_print_in_decimal_units_as_nvme_list(ulong bytes, string expected) => Assert.Equal(expected, ListCommand.Size(bytes));
}
