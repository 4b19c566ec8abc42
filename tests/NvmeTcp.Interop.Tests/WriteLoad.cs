using System.Collections.Concurrent;
using System.Diagnostics;
using NvmeTcp.Client;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// Callers that each write a new pattern to a region of their own, one write outstanding per caller, until a write fails
/// or <see cref="Stop"/>; what each last had acknowledged and what failed is kept, so that the region can be checked
/// after a failure.
/// </summary>
internal sealed class WriteLoad
{
    private const int MaxWritesPerCaller = 1_000_000;

    private readonly Task<Outcome>[] _callers;
    private volatile bool _stop;
    private long _completed;

    /// <summary>One caller's end: its region, the pattern last acknowledged (null: none), and the failed write if any.</summary>
    internal sealed record Outcome(ulong Lba, byte[]? Acknowledged, byte[]? Failed, Exception? Error, long FailedAt);

    private WriteLoad(NvmeController controller, NvmeNamespace ns, int callers, ulong firstLba, int bytesPerCaller, int seed)
    {
        _callers = [.. Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            var queue = controller.IoQueues[caller % controller.IoQueues.Count];
            var lba = firstLba + (ulong)(caller * bytesPerCaller / ns.BlockSize);
            byte[]? acknowledged = null;
            for (var i = 0; i < MaxWritesPerCaller && !_stop; i++)
            {
                var pattern = Patterns.Of(bytesPerCaller, seed + (caller * MaxWritesPerCaller) + i);
                try
                {
                    await queue.WriteAsync(ns, lba, pattern);
                    acknowledged = pattern;
                    Interlocked.Increment(ref _completed);
                }
                catch (Exception e)
                {
                    // Whatever the type: the test asserts it.
                    return new Outcome(lba, acknowledged, pattern, e, Stopwatch.GetTimestamp());
                }
            }

            return new Outcome(lba, acknowledged, null, null, 0);
        }))];
    }

    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Every caller's outcome, once each has stopped or failed.</summary>
    public Task<Outcome[]> Outcomes => Task.WhenAll(_callers);

    /// <summary>Callers that have failed so far.</summary>
    public IReadOnlyList<Outcome> FailedSoFar =>
        [.. _callers.Where(c => c.IsCompletedSuccessfully && c.Result.Error is not null).Select(c => c.Result)];

    public static WriteLoad Start(NvmeController controller, NvmeNamespace ns, int callers, ulong firstLba, int bytesPerCaller, int seed) =>
        new(controller, ns, callers, firstLba, bytesPerCaller, seed);

    /// <summary>Waits until <paramref name="writes"/> writes completed, at most <paramref name="timeout"/>.</summary>
    public async Task WaitForAsync(long writes, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (Completed < writes && stopwatch.Elapsed < timeout && !_callers.All(c => c.IsCompleted))
        {
            await Task.Delay(20);
        }

        Assert.True(Completed >= writes, $"only {Completed} writes completed within {timeout.TotalSeconds:0} s");
    }

    /// <summary>No caller starts another write; a write already waiting for the controller still completes.</summary>
    public void Stop() => _stop = true;

    /// <summary>
    /// Reads every caller's region back: each LBA holds the last acknowledged pattern's block or, where a write failed
    /// in flight, possibly that write's block (it may have reached the media before the connection died; nvmet's atomic
    /// write unit is one LBA).
    /// </summary>
    public static async Task AssertRegionsAsync(NvmeController controller, NvmeNamespace ns, IEnumerable<Outcome> outcomes, TimeSpan bound)
    {
        foreach (var outcome in outcomes)
        {
            var length = (outcome.Acknowledged ?? outcome.Failed)?.Length ?? 0;
            if (length == 0)
            {
                continue;
            }

            var back = new byte[length];
            await controller.IoQueues[0].ReadAsync(ns, outcome.Lba, back).AsTask().WaitAsync(bound);
            var zeros = new byte[length];
            for (var offset = 0; offset < length; offset += ns.BlockSize)
            {
                var block = back.AsSpan(offset, ns.BlockSize);
                var acknowledged = (outcome.Acknowledged ?? zeros).AsSpan(offset, ns.BlockSize);
                var failed = outcome.Failed is { } f ? f.AsSpan(offset, ns.BlockSize) : acknowledged;
                Assert.True(
                    block.SequenceEqual(acknowledged) || block.SequenceEqual(failed),
                    $"LBA {outcome.Lba + (ulong)(offset / ns.BlockSize)} holds neither the acknowledged nor the failed write's data");
            }
        }
    }
}

/// <summary>Distinct, reproducible data per seed.</summary>
internal static class Patterns
{
    public static byte[] Of(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

/// <summary>The controller's state changes, in order, with the time each was seen.</summary>
internal sealed class StateLog
{
    private readonly ConcurrentQueue<(NvmeControllerState State, long At)> _changes = new();

    public StateLog(NvmeController controller) =>
        controller.StateChanged += (_, e) => _changes.Enqueue((e.Current, Stopwatch.GetTimestamp()));

    public IReadOnlyList<NvmeControllerState> States => [.. _changes.Select(c => c.State)];

    public override string ToString() => string.Join(" -> ", States);

    /// <summary>Waits at most <paramref name="timeout"/> for <paramref name="state"/> to be reached; its time.</summary>
    public async Task<long> WaitForAsync(NvmeControllerState state, TimeSpan timeout, int occurrence = 1)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            var seen = _changes.Where(c => c.State == state).Skip(occurrence - 1).Select(c => c.At).FirstOrDefault();
            if (seen != 0)
            {
                return seen;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"state {state} (occurrence {occurrence}) not reached within {timeout.TotalSeconds:0} s; seen: {this}");
        return 0;
    }
}
