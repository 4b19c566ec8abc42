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

    public static async Task<CliResult> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, TestContext.Current.CancellationToken);
        var code = await CliCommands.CreateRoot().Parse(args).InvokeAsync(configuration, linked.Token).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public static Task<CliResult> RunAsync(TargetFixture target, params string[] args) => RunAsync([.. args.Take(1), .. target.Connection, .. args.Skip(1)]);
}
