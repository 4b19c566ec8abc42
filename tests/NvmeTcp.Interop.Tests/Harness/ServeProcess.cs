using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace NvmeTcp.Interop.Tests.Harness;

/// <summary>
/// <c>nvmetcp serve</c> as its own process (the apphost the project reference puts beside the tests), stopped the way an
/// operator stops it: SIGTERM, then a bounded wait for its orderly exit. Killed by its PID if it does not go.
/// </summary>
internal sealed partial class ServeProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<int> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process) => _process = process;

    /// <summary>The port it listens on, on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>What it logged on stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>What it printed on stdout so far.</summary>
    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Starts <c>nvmetcp serve --listen 127.0.0.1:0</c> with <paramref name="arguments"/> and waits until it listens.</summary>
    public static async Task<ServeProcess> StartAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "nvmetcp"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["serve", "--listen", "127.0.0.1:0", .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        var serve = new ServeProcess(new Process { StartInfo = info });
        serve._process.OutputDataReceived += (_, e) => serve.OnStdout(e.Data);
        serve._process.ErrorDataReceived += (_, e) => Append(serve._stderr, e.Data);
        serve._process.Start();
        serve._process.BeginOutputReadLine();
        serve._process.BeginErrorReadLine();
        try
        {
            serve.Port = await serve._listening.Task.WaitAsync(StartTimeout, cancellationToken);
            return serve;
        }
        catch
        {
            await serve.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGTERM, as an operator or a service manager stops it; returns its exit code (null if it had to be killed).</summary>
    public async Task<int?> StopAsync()
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().WaitAsync(StopTimeout);
        }

        try
        {
            await _process.WaitForExitAsync().WaitAsync(StopTimeout);
            return _process.ExitCode;
        }
        catch (TimeoutException)
        {
            NvmetVm.Kill(_process);
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            NvmetVm.Kill(_process);
            _process.Dispose();
        }
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }

    private void OnStdout(string? line)
    {
        Append(_stdout, line);
        if (line is not null && ListeningPattern().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture));
        }
        else if (line is null)
        {
            _listening.TrySetException(new InvalidOperationException($"nvmetcp serve ended before it listened:\n{Stdout}\n{Stderr}"));
        }
    }

    [GeneratedRegex(@"listening on\s+127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex ListeningPattern();
}
