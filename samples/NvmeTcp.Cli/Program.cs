using System.CommandLine;
using NvmeTcp.Cli.Commands;

// A thin dispatcher: every verb lives in Commands/, one file per verb or family.
return await CliCommands.CreateRoot().Parse(args).InvokeAsync().ConfigureAwait(false);
