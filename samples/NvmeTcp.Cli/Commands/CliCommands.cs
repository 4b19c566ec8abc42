using System.CommandLine;

namespace NvmeTcp.Cli.Commands;

/// <summary>The verbs of <c>nvmetcp</c> that talk to a target as a host, and the root command that holds them.</summary>
internal static class CliCommands
{
    public const string Description = """
        nvmetcp: nvme-cli's verbs over a user-space NVMe/TCP initiator (no kernel module, no root).
        Try `nvmetcp demo` for a guided tour against an in-process target.
        """;

    /// <summary>The host-side verbs, in the order --help lists them.</summary>
    public static IEnumerable<Command> All() =>
    [
        DemoCommand.Create(),
        DiscoverCommand.Create(),
        ListCommand.Create(),
        IdentifyCommands.IdCtrl(),
        IdentifyCommands.IdNs(),
        IdentifyCommands.ListNs(),
        LogCommands.GetLog(),
        LogCommands.SmartLog(),
        LogCommands.ErrorLog(),
        FeatureCommands.GetFeature(),
        FeatureCommands.SetFeature(),
        ReadWriteCommands.Read(),
        ReadWriteCommands.Write(),
        ReadWriteCommands.Compare(),
        IoCommands.Flush(),
        IoCommands.WriteZeroes(),
        IoCommands.Dsm(),
        PassthruCommands.Admin(),
        PassthruCommands.Io(),
        PerfCommand.Create(),
    ];

    /// <summary>The root command: every verb, --verbose everywhere, and the exit codes at the end of --help.</summary>
    public static RootCommand CreateRoot(IEnumerable<Command>? more = null)
    {
        var root = new RootCommand($"{Description}{Environment.NewLine}{Environment.NewLine}{ExitCodes.HelpText}");
        root.Options.Add(CommonOptions.Verbose());
        foreach (var command in All().Concat(more ?? []))
        {
            root.Subcommands.Add(command);
        }

        ConnectionOptions.AddShortForms(root);
        return root;
    }
}
