using System.Diagnostics;
using System.Text;

namespace NvmeTcp.Bench.Macro;

/// <summary>
/// A process this harness starts and always stops, by its PID: `dotnet some.dll args`, optionally pinned to one CPU
/// (`taskset -c CPU dotnet ...`, which execs dotnet in the same process, so the PID is the same).
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly StringBuilder error = new();
    private readonly TaskCompletionSource<string> firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private long firstLineTimestamp;

    private ChildProcess(Process process) => this.process = process;

    public int Id => process.Id;

    /// <summary>When (<see cref="Stopwatch.GetTimestamp"/>) the first line of output arrived; 0 before it did.</summary>
    public long FirstLineTimestamp => Volatile.Read(ref firstLineTimestamp);

    /// <summary>The process's user + system CPU time so far (on Linux utime + stime of /proc/PID/stat, all threads).</summary>
    public TimeSpan TotalProcessorTime
    {
        get
        {
            try
            {
                return process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                throw new HarnessException($"process {Id} exited while its CPU time was measured: {error.ToString().Trim()}");
            }
        }
    }

    /// <summary>Starts `dotnet <paramref name="dll"/> <paramref name="arguments"/>`, on <paramref name="cpu"/> only if given.</summary>
    public static ChildProcess Start(string dll, IEnumerable<string> arguments, int? cpu = null)
    {
        var taskset = cpu is not null ? FindTaskset() : null;
        var info = new ProcessStartInfo(taskset ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (taskset is not null)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(cpu!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // No colours or terminal width games in what we parse.
        info.Environment["NO_COLOR"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child.firstLine.TrySetException(new HarnessException($"{Path.GetFileName(dll)} ended before printing anything: {child.error}"));
                return;
            }

            lock (child.output)
            {
                child.output.AppendLine(e.Data);
            }

            Interlocked.CompareExchange(ref child.firstLineTimestamp, Stopwatch.GetTimestamp(), 0);
            child.firstLine.TrySetResult(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child.error)
                {
                    child.error.AppendLine(e.Data);
                }
            }
        };
        if (!process.Start())
        {
            throw new HarnessException($"could not start dotnet {dll}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (cpu is { } core && taskset is null)
        {
            PinAfterStart(process, core);
        }

        return child;
    }

    /// <summary>All CPUs this process may run on (its affinity mask), lowest first.</summary>
    public static IReadOnlyList<int> AllowedCpus()
    {
        var cpus = new List<int>();
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            using var self = Process.GetCurrentProcess();
            var mask = (long)self.ProcessorAffinity;
            for (var bit = 0; bit < 64; bit++)
            {
                if ((mask & (1L << bit)) != 0)
                {
                    cpus.Add(bit);
                }
            }
        }

        return cpus;
    }

    /// <summary>How <see cref="Start"/> pins a process to <paramref name="cpu"/> here, for the output.</summary>
    public static string DescribePinning(int cpu) => FindTaskset() is not null
        ? $"taskset -c {cpu}"
        : $"ProcessorAffinity CPU {cpu} (no taskset: set after start, so the main thread and the threads it starts)";

    private static string? FindTaskset() =>
        OperatingSystem.IsLinux()
            ? (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(dir => Path.Combine(dir, "taskset")).FirstOrDefault(File.Exists)
            : null;

    // Without taskset: Process.ProcessorAffinity, i.e. sched_setaffinity(PID) on Linux. That pins the main thread and
    // the threads it starts from then on (the thread pool, the socket engine), not the few the runtime started before.
    private static void PinAfterStart(Process process, int core)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            process.ProcessorAffinity = (nint)(1L << core);
            return;
        }

        throw new HarnessException("pinning a process to a CPU needs Linux (taskset or sched_setaffinity) or Windows");
    }

    /// <summary>The first line the process prints, e.g. the port a server listens on.</summary>
    public async Task<string> FirstLineAsync(TimeSpan timeout) => await firstLine.Task.WaitAsync(timeout).ConfigureAwait(false);

    /// <summary>Waits for the process to exit by itself within <paramref name="timeout"/>; returns its standard output.</summary>
    public async Task<string> OutputAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new HarnessException($"process {Id} did not finish within {timeout.TotalSeconds:0} s");
        }

        if (process.ExitCode != 0)
        {
            throw new HarnessException($"process {Id} exited with {process.ExitCode}: {error.ToString().Trim()}");
        }

        lock (output)
        {
            return output.ToString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                // Ask politely first (our loopback server stops when its stdin closes, nvmetcp serve on SIGTERM), then kill.
                process.StandardInput.Close();
                if (!OperatingSystem.IsWindows())
                {
                    // Its stderr is kept: the process may have gone on its stdin closing ("No such process").
                    var kill = new ProcessStartInfo("kill", ["-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { RedirectStandardError = true };
                    using var term = Process.Start(kill)!;
                    await term.StandardError.ReadToEndAsync(CancellationToken.None).ConfigureAwait(false);
                    await term.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }

                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                try
                {
                    await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        process.Dispose();
    }
}

/// <summary>A harness step failed: one line for the user, exit code 1.</summary>
internal sealed class HarnessException(string message) : Exception(message);
