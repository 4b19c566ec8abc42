using System.CommandLine;
using NvmeTcp.Cli.Commands;

namespace NvmeTcp.Cli;

/// <summary>The nvmetcp tool: a thin dispatcher, one file per verb under Commands/.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        // The host verbs (CliCommands.All) and the target's serve verb.
        var root = CliCommands.CreateRoot([ServeCommand.Create()]);
        return root.Parse(args).InvokeAsync();
    }
}
