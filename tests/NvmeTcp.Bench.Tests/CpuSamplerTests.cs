using NvmeTcp.Bench.Macro;

namespace NvmeTcp.Bench.Tests;

/// <summary>How the harness reads the target's CPU time at the edges of perf's measured window from its samples.</summary>
public sealed class CpuSamplerTests
{
    private static readonly (long Timestamp, TimeSpan Cpu)[] Samples =
    [
        (100, TimeSpan.FromMilliseconds(10)),
        (200, TimeSpan.FromMilliseconds(30)),
        (300, TimeSpan.FromMilliseconds(30)),
        (400, TimeSpan.FromMilliseconds(70)),
    ];

    [Theory]
    [InlineData(200, 30)]
    [InlineData(150, 20)]
    [InlineData(250, 30)]
    [InlineData(375, 60)]
    [InlineData(400, 70)]
    public void Between_samples_it_is_linear(long timestamp, double milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), CpuSampler.Interpolate(Samples, timestamp));

    [Theory]
    [InlineData(0, 10)]
    [InlineData(100, 10)]
    [InlineData(1_000, 70)]
    public void Outside_the_samples_it_is_the_nearest_one(long timestamp, double milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), CpuSampler.Interpolate(Samples, timestamp));

    [Fact]
    public void A_window_inside_the_samples_counts_only_its_share()
    {
        // From the middle of the first interval (20 ms) to the middle of the last (50 ms).
        Assert.Equal(TimeSpan.FromMilliseconds(30), CpuSampler.Interpolate(Samples, 350) - CpuSampler.Interpolate(Samples, 150));
    }
}
