using System.CommandLine;
using NvmeTcp.Cli.Commands;

namespace NvmeTcp.Cli;

/// <summary>The nvmetcp tool: a thin dispatcher, one file per verb under Commands/.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("NVMe/TCP tools: an in-process target (serve) and, later, client verbs.");
        root.Subcommands.Add(ServeCommand.Create());
        return root.Parse(args).InvokeAsync();
    }
}
