using System.Net;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using NvmeTcp.Target;

namespace NvmeTcp.Client.Benchmarks;

/// <summary>
/// I/O through a <see cref="NvmeSubsystem"/> of two paths (the in-process target serving one null namespace on two
/// loopback ports), with each policy: the cost of choosing a path per I/O, and the proof (allocation column) that
/// routing, failover bookkeeping and the pooled state machine allocate nothing per I/O in steady state.
/// </summary>
[MemoryDiagnoser]
public class MultipathBenchmarks
{
    private const int Operations = 1024;

    private NvmeTcpTarget _target = null!;
    private NvmeSubsystem _subsystem = null!;
    private NvmeSubsystemNamespace _namespace = null!;
    private byte[] _buffer = [];

    [Params(NvmeIoPolicy.Numa, NvmeIoPolicy.RoundRobin, NvmeIoPolicy.QueueDepth)]
    public NvmeIoPolicy Policy { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var options = new NvmeTargetOptions();
        options.Ports.Add(new NvmeTargetPort(1, new IPEndPoint(IPAddress.Loopback, 0)));
        options.Ports.Add(new NvmeTargetPort(2, new IPEndPoint(IPAddress.Loopback, 0)));
        var subsystem = new NvmeSubsystemOptions("nqn.2026-12.dev.nvmetcp:bench-multipath");
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1L << 30, 4096, NvmeNamespaceBacking.Null));
        options.Subsystems.Add(subsystem);
        _target = await NvmeTcpTarget.StartAsync(options);
        var multipath = new NvmeMultipathOptions
        {
            Template = new NvmeTcpOptions { SubsystemNqn = subsystem.Nqn, IoQueueCount = 1, KeepAliveTimeout = TimeSpan.Zero },
            IoPolicy = Policy,
        };
        foreach (var port in _target.Ports)
        {
            multipath.Paths.Add(new DnsEndPoint("127.0.0.1", port.EndPoint.Port));
        }

        _subsystem = await NvmeSubsystem.ConnectAsync(multipath);
        _namespace = _subsystem.GetNamespace(1);
        _buffer = GC.AllocateArray<byte>(4096, pinned: true);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _subsystem.DisposeAsync();
        await _target.DisposeAsync();
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReadAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await _subsystem.ReadAsync(_namespace, 0, _buffer);
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync()
    {
        for (var i = 0; i < Operations; i++)
        {
            await _subsystem.WriteAsync(_namespace, 0, _buffer);
        }
    }
}
