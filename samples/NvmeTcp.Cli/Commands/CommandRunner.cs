using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using NvmeTcp.Client;

using NvmeTcp.Protocol;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// Runs a verb and turns whatever it throws into one line on stderr and an exit code of <see cref="ExitCodes"/>.
/// Stack traces only with --verbose.
/// </summary>
internal static class CommandRunner
{
    /// <summary>Sets <paramref name="body"/> as the action of <paramref name="command"/>, with the verb's -o and connection options if it has them.</summary>
    public static void SetAction(Command command, Option<string>? outputFormat, ConnectionOptions? connection, Func<CliContext, CancellationToken, Task<int>> body)
    {
        var verb = command.Name;
        command.SetAction((parseResult, cancellationToken) => RunAsync(new CliContext(parseResult, verb, outputFormat, connection), body, cancellationToken));
    }

    public static async Task<int> RunAsync(CliContext context, Func<CliContext, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        // Ctrl+C (SIGINT) and SIGTERM cancel the verb, which then shuts its controller down in order; a second
        // signal ends the process at once. Handled here because the verb must see the cancellation to clean up.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var signals = 0;
        void OnSignal(PosixSignalContext signal)
        {
            if (Interlocked.Increment(ref signals) == 1)
            {
                signal.Cancel = true;
                stop.Cancel();
            }
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            return await body(context, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var (code, reason) = Classify(e, stop.Token);
            await context.Error.WriteLineAsync($"nvmetcp {context.Verb}: {reason}").ConfigureAwait(false);
            if (context.Verbose && code != ExitCodes.Cancelled)
            {
                await context.Error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
            }

            return code;
        }
    }

    /// <summary>The exit code and the one-line reason for an exception.</summary>
    public static (int Code, string Reason) Classify(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => (ExitCodes.Cancelled, "cancelled"),
        CliException cli => (cli.ExitCode, cli.Message),
        NvmeStatusException status => (ExitCodes.NvmeStatus, status.Message),
        NvmeTcpProtocolException protocol => (ExitCodes.ProtocolViolation, $"NVMe/TCP protocol violation: {protocol.Message}"),
        NvmeTimeoutException timeout => (ExitCodes.Timeout, $"timeout: {timeout.Message}"),
        NvmeAuthenticationException authentication => (ExitCodes.Authentication, $"authentication: {ForCli(authentication.Message)}"),
        NvmeTlsException tls => (ExitCodes.Authentication, $"TLS: {ForCli(tls.Message)}"),
        NvmeControllerFatalException fatal => (ExitCodes.ControllerFatal, $"controller fatal status: {fatal.Message}"),
        NvmeTransportException transport => (ExitCodes.Transport, $"target unreachable or connection lost: {ForCli(transport.Message)}"),
        SocketException socket => (ExitCodes.Transport, $"target unreachable: {socket.Message}"),
        IOException or UnauthorizedAccessException => (ExitCodes.Usage, $"file error: {e.Message}"),
        NvmeException other => (ExitCodes.InternalError, other.Message),
        _ => (ExitCodes.InternalError, $"internal error: {e.GetType().Name}: {e.Message} (run with --verbose for the stack trace)"),
    };

    // The library's hints name its options; a CLI user sets them with flags.
    private static string ForCli(string message) => message
        .Replace("(NvmeTcpOptions.Tls)", "(--tls-key KEY, or --tls with --keyring FILE)", StringComparison.Ordinal)
        .Replace("(NvmeTcpOptions.Concatenation)", "(--concat with --dhchap-secret)", StringComparison.Ordinal);
}
