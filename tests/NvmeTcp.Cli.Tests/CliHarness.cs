using System.CommandLine;
using System.Net;
using System.Text.Json;
using NvmeTcp.Cli.Commands;
using NvmeTcp.Target;

namespace NvmeTcp.Cli.Tests;

/// <summary>What one in-process run of the CLI printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Out);
        return document.RootElement.Clone();
    }

    public override string ToString() => $"exit {ExitCode}{Environment.NewLine}stdout:{Environment.NewLine}{Out}{Environment.NewLine}stderr:{Environment.NewLine}{Error}";
}

/// <summary>An in-process target on 127.0.0.1 shared by the tests of a class: one subsystem, two memory namespaces.</summary>
public sealed class TargetFixture : IAsyncLifetime
{
    public const string Nqn = "nqn.2026-01.io.nvmetcp:cli-tests";

    public NvmeTcpTarget Target { get; private set; } = null!;

    public string[] Connection => ["-a", "127.0.0.1", "-s", Target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", Nqn];

    public async ValueTask InitializeAsync()
    {
        var subsystem = new NvmeSubsystemOptions(Nqn) { ModelNumber = "cli tests", SerialNumber = "CLI0001" };
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 16L << 20, 512));
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(2, 8L << 20, 4096));
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options.Subsystems.Add(subsystem);
        Target = await NvmeTcpTarget.StartAsync(options);
    }

    public async ValueTask DisposeAsync() => await Target.DisposeAsync();
}

/// <summary>Runs <c>nvmetcp</c> in this process through its root command, with stdout and stderr captured.</summary>
public static class Cli
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static Task<CliResult> RunAsync(string[] args, CancellationToken cancellationToken = default) => RunAsync(args, new StringWriter(), cancellationToken);

    /// <summary>Runs with stdout going to <paramref name="output"/>, which a test may read while the verb runs (a <see cref="SharedWriter"/>).</summary>
    public static async Task<CliResult> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        var error = new StringWriter();
        var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, TestContext.Current.CancellationToken);
        var code = await CliCommands.CreateRoot().Parse(args).InvokeAsync(configuration, linked.Token).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        return new CliResult(code, output.ToString() ?? string.Empty, error.ToString());
    }

    public static Task<CliResult> RunAsync(TargetFixture target, params string[] args) => RunAsync([.. args.Take(1), .. target.Connection, .. args.Skip(1)]);
}

/// <summary>A text writer that a test reads (<see cref="ToString"/>) while a verb writes to it from another thread.</summary>
public sealed class SharedWriter : TextWriter
{
    private readonly System.Text.StringBuilder _text = new();

    public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_text)
        {
            _text.Append(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_text)
        {
            _text.Append(buffer, index, count);
        }
    }

    public override string ToString()
    {
        lock (_text)
        {
            return _text.ToString();
        }
    }

    /// <summary>Waits, bounded, until what was written satisfies <paramref name="condition"/>; false if it never did.</summary>
    public async Task<bool> WaitForAsync(Func<string, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(ToString()))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        return true;
    }
}
