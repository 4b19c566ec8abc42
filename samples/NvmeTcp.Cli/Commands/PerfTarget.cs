using NvmeTcp.Client;

namespace NvmeTcp.Cli.Commands;

/// <summary>The I/Os one path of a subsystem completed during a perf run.</summary>
internal sealed record PerfPathIos(string Name, string Address, long Ios);

/// <summary>
/// Where perf's I/O goes: the namespace, and how worker <c>i</c> reaches it. The runner is the same either way; the
/// calls return the client's ValueTask as is, so the loop still allocates nothing per I/O.
/// </summary>
internal abstract class PerfTarget
{
    public abstract int BlockSize { get; }

    public abstract ulong BlockCount { get; }

    public ulong SizeInBytes => BlockCount * (ulong)BlockSize;

    /// <summary>I/O queues behind the target (over a subsystem: of every path).</summary>
    public abstract int IoQueues { get; }

    public abstract ValueTask ReadAsync(int worker, ulong lba, Memory<byte> buffer, CancellationToken cancellationToken);

    public abstract ValueTask WriteAsync(int worker, ulong lba, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>The measured part of the run begins (after the warmup and the verify prefill).</summary>
    public virtual void MeasureStarted()
    {
    }

    /// <summary>I/Os per path since <see cref="MeasureStarted"/>; empty over one controller.</summary>
    public virtual IReadOnlyList<PerfPathIos> PathIos() => [];
}

/// <summary>One controller: worker <c>i</c> keeps to I/O queue <c>i mod queues</c>.</summary>
internal sealed class QueuePerfTarget(NvmeController controller, NvmeNamespace ns) : PerfTarget
{
    private readonly IReadOnlyList<NvmeQueuePair> _queues = controller.IoQueues;

    public override int BlockSize => ns.BlockSize;

    public override ulong BlockCount => ns.BlockCount;

    public override int IoQueues => _queues.Count;

    public override ValueTask ReadAsync(int worker, ulong lba, Memory<byte> buffer, CancellationToken cancellationToken) =>
        _queues[worker % _queues.Count].ReadAsync(ns, lba, buffer, cancellationToken);

    public override ValueTask WriteAsync(int worker, ulong lba, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _queues[worker % _queues.Count].WriteAsync(ns, lba, data, cancellationToken: cancellationToken);
}

/// <summary>A subsystem: every I/O goes to the path the subsystem's policy picks, and fails over as it does.</summary>
internal sealed class SubsystemPerfTarget(NvmeSubsystem subsystem, NvmeSubsystemNamespace ns) : PerfTarget
{
    private readonly Dictionary<NvmePath, long> _atStart = [];

    // Counted once: a path whose connection is down has no queues at the end of a run, yet it carried I/O.
    private readonly int _ioQueues = subsystem.Paths.Sum(p => p.Controller.IoQueues.Count);

    public NvmeSubsystem Subsystem => subsystem;

    public override int BlockSize => ns.BlockSize;

    public override ulong BlockCount => ns.BlockCount;

    public override int IoQueues => _ioQueues;

    public override ValueTask ReadAsync(int worker, ulong lba, Memory<byte> buffer, CancellationToken cancellationToken) =>
        subsystem.ReadAsync(ns, lba, buffer, cancellationToken);

    public override ValueTask WriteAsync(int worker, ulong lba, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        subsystem.WriteAsync(ns, lba, data, cancellationToken: cancellationToken);

    public override void MeasureStarted()
    {
        lock (_atStart)
        {
            _atStart.Clear();
            foreach (var path in subsystem.Paths)
            {
                _atStart[path] = path.CompletedIos;
            }
        }
    }

    // Paths present at the start (even if removed since) and paths added during the run, in path order.
    public override IReadOnlyList<PerfPathIos> PathIos()
    {
        lock (_atStart)
        {
            return [.. _atStart.Keys.Union(subsystem.Paths)
                .Select(p => new PerfPathIos(MultipathCommands.PathName(p), MultipathCommands.Address(p), p.CompletedIos - _atStart.GetValueOrDefault(p)))];
        }
    }
}
