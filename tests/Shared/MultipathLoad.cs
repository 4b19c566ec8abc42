using System.Diagnostics;

namespace NvmeTcp.Client.Tests.Shared;

/// <summary>
/// Callers that each write a new pattern to a region of their own through a <see cref="NvmeSubsystem"/>, read it back
/// and compare, one I/O outstanding per caller, until stopped or until one fails. Every error and mismatch is kept.
/// Shared by the loopback and interop tests (linked into both).
/// </summary>
internal sealed class MultipathLoad
{
    private const int MaxRoundsPerCaller = 1_000_000;
    private const int BytesPerCaller = 8192;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly Task<string?>[] _callers;
    private volatile bool _stop;
    private long _completed;

    private MultipathLoad(NvmeSubsystem subsystem, NvmeSubsystemNamespace ns, int callers, int seed)
    {
        _callers = [.. Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            // Regions from 1 MiB on: inside the smallest namespace the tests use (16 MiB), whatever its block size.
            var lba = (ulong)(((1 << 20) + (caller * BytesPerCaller)) / ns.BlockSize);
            var back = new byte[BytesPerCaller];
            for (var i = 0; i < MaxRoundsPerCaller && !_stop; i++)
            {
                var pattern = Pattern(BytesPerCaller, seed + (caller * 100_000) + i);
                try
                {
                    await subsystem.WriteAsync(ns, lba, pattern);
                    await subsystem.ReadAsync(ns, lba, back);
                }
                catch (Exception e)
                {
                    return $"caller {caller} round {i}: {e.GetType().Name}: {e.Message}";
                }

                if (!back.AsSpan().SequenceEqual(pattern))
                {
                    return $"caller {caller} round {i}: read back differs from what was written";
                }

                Interlocked.Increment(ref _completed);
            }

            return null;
        }))];
    }

    public long Completed => Interlocked.Read(ref _completed);

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static MultipathLoad Start(NvmeSubsystem subsystem, NvmeSubsystemNamespace ns, int callers, int seed) => new(subsystem, ns, callers, seed);

    /// <summary>Waits (at most 20 s) until <paramref name="rounds"/> more write+verify rounds completed; fails at once if a caller failed.</summary>
    public async Task WaitForAsync(int rounds)
    {
        var goal = Completed + rounds;
        var clock = Stopwatch.StartNew();
        while (Completed < goal && clock.Elapsed < Bound)
        {
            if (_callers.FirstOrDefault(c => c.IsCompleted) is { } ended)
            {
                Assert.Fail(await ended ?? "a caller ended early");
            }

            await Task.Delay(10);
        }

        Assert.True(Completed >= goal, $"the load made {Completed} of {goal} rounds in {Bound}");
    }

    /// <summary>Stops the callers and asserts that none saw an error or a mismatch.</summary>
    public async Task StopAndVerifyAsync()
    {
        _stop = true;
        var outcomes = await Task.WhenAll(_callers).WaitAsync(Bound);
        Assert.All(outcomes, o => Assert.Null(o));
    }
}
