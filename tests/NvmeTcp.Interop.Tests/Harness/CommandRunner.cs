using System.Diagnostics;
using System.Text;

namespace NvmeTcp.Interop.Tests.Harness;

/// <summary>Runs a command to completion within a time limit, capturing its output.</summary>
internal static class CommandRunner
{
    /// <summary>The outcome of a run; <see cref="ExitCode"/> is null when the time limit killed it.</summary>
    public sealed record Result(int? ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed);

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Our own child and its children (apt-get, python3): nothing else is touched.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            return new Result(null, Text(stdout), Text(stderr), stopwatch.Elapsed);
        }

        // WaitForExitAsync returns once the output streams reach end of file as well.
        return new Result(process.ExitCode, Text(stdout), Text(stderr), stopwatch.Elapsed);
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

    private static string Text(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }

    /// <summary>The last <paramref name="count"/> lines of a text.</summary>
    public static string Tail(string text, int count)
    {
        var lines = text.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - count)));
    }
}
