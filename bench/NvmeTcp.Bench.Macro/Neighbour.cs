using System.Diagnostics;
using System.Globalization;

namespace NvmeTcp.Bench.Macro;

/// <summary>
/// The noisy neighbour: one thread in a busy loop, in a process of its own (`nvmetcp-bench spin`), unpinned, so that
/// the scheduler shares the CPUs between it and the run as it would with any CPU-bound neighbour.
/// </summary>
internal static class Neighbour
{
    /// <summary>
    /// The `spin` role: prints one line, then burns one CPU until its standard input closes (the harness stops it, or
    /// died) or <paramref name="maxSeconds"/> have passed, whichever comes first.
    /// </summary>
    public static int Spin(double maxSeconds)
    {
        var stop = 0;
        var reader = new Thread(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }

            Volatile.Write(ref stop, 1);
        })
        { IsBackground = true };
        reader.Start();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"spinning for at most {maxSeconds:0} s"));
        Console.Out.Flush();
        var deadline = Stopwatch.GetTimestamp() + (long)(maxSeconds * Stopwatch.Frequency);
        ulong state = 1;
        while (Volatile.Read(ref stop) == 0 && Stopwatch.GetTimestamp() < deadline)
        {
            // Work the JIT cannot remove; the clock is read once per ~100 k iterations.
            for (var i = 0; i < 100_000; i++)
            {
                state = (state * 6364136223846793005UL) + 1442695040888963407UL;
            }
        }

        return state == 0 ? 1 : 0;
    }

    /// <summary>Starts the neighbour for at most twice the run's expected length (stopped by PID when the run ends).</summary>
    public static async Task<ChildProcess> StartAsync(HarnessSettings settings, TimeSpan startTimeout)
    {
        // About 15 measurements of limits and 2 × 9 client runs, each repeated; generous, it is only a safety bound.
        var expected = settings.Repeat * ((15 * settings.Seconds) + (18 * (settings.Seconds + settings.Warmup + 3)));
        var spin = ChildProcess.Start(Path.Combine(AppContext.BaseDirectory, "nvmetcp-bench.dll"), ["spin", (60 + (2 * expected)).ToString("0", CultureInfo.InvariantCulture)]);
        try
        {
            await spin.FirstLineAsync(startTimeout).ConfigureAwait(false);
        }
        catch
        {
            await spin.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return spin;
    }

    public static string Describe(ChildProcess spin) =>
        string.Create(CultureInfo.InvariantCulture, $"one CPU-bound process (nvmetcp-bench spin, PID {spin.Id}, one thread in a busy loop, unpinned)");
}
