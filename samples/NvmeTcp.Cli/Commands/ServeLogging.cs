using System.CommandLine;
using Microsoft.Extensions.Logging;
using NvmeTcp.Cli.Output;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// Where serve logs: stderr, through Microsoft.Extensions.Logging. Information and above by default (connections, host
/// violations with FES/FEI and the host, limits reached, unhandled errors); --verbose adds debug (ICReq parameters,
/// controllers' events, back-pressure).
/// </summary>
internal static class ServeLogging
{
    /// <summary>A logger factory for a parse of the serve verb, writing to <paramref name="error"/>.</summary>
    public static ILoggerFactory Create(ParseResult parse, TextWriter error)
    {
        var verbose = parse.RootCommandResult.Command is CliRootCommand root && parse.GetValue(root.Verbose);
        return new StderrLoggerFactory(error, verbose ? LogLevel.Debug : LogLevel.Information);
    }
}
