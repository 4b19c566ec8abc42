using System.Diagnostics;
using System.Text;

namespace NvmeTcp.Bench.Macro;

/// <summary>A process this harness starts and always stops, by its PID: `dotnet some.dll args`.</summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly StringBuilder error = new();
    private readonly TaskCompletionSource<string> firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process) => this.process = process;

    public int Id => process.Id;

    public static ChildProcess Start(string dll, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
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
        return child;
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
                    using var term = Process.Start("kill", ["-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
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
