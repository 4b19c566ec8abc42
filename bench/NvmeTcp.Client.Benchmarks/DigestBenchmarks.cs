using BenchmarkDotNet.Attributes;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Benchmarks;

/// <summary>CRC-32C throughput over header- and data-sized inputs, one-shot and incremental.</summary>
[MemoryDiagnoser]
public class DigestBenchmarks
{
    private readonly Crc32C _incremental = new();
    private byte[] _data = [];

    [Params(24, 4096, 131072)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(1).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public uint OneShot() => Crc32C.Compute(_data);

    [Benchmark]
    public uint IncrementalIn4KiBPieces()
    {
        _incremental.Reset();
        for (var offset = 0; offset < _data.Length; offset += 4096)
        {
            _incremental.Append(_data.AsSpan(offset, Math.Min(4096, _data.Length - offset)));
        }

        return _incremental.Value;
    }
}
