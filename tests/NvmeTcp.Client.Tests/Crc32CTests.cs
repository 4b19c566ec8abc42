using System.Text;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Tests;

public class Crc32CTests
{
    [Fact]
    public void Known_answer_123456789() =>
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void Known_answer_32_zero_bytes() =>
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));

    [Fact]
    public void Incremental_over_segments_equals_one_shot()
    {
        var data = new byte[1000];
        new Random(7).NextBytes(data);
        var crc = new Crc32C();
        foreach (var cut in new[] { 0, 1, 3, 500, 999, 1000 })
        {
            crc.Reset();
            crc.Append(data.AsSpan(0, cut));
            crc.Append(data.AsSpan(cut));
            Assert.Equal(Crc32C.Compute(data), crc.Value);
        }
    }
}
