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
        MultipathCommands.ListSubsys(),
        IdentifyCommands.IdCtrl(),
        IdentifyCommands.IdNs(),
        IdentifyCommands.ListNs(),
        LogCommands.GetLog(),
        LogCommands.SmartLog(),
        LogCommands.ErrorLog(),
        MultipathCommands.AnaLog(),
        RegisterAndLogCommands.FwLog(),
        RegisterAndLogCommands.NsDescs(),
        RegisterAndLogCommands.GetProperty(),
        RegisterAndLogCommands.SetProperty(),
        RegisterAndLogCommands.ShowRegs(),
        FeatureCommands.GetFeature(),
        FeatureCommands.SetFeature(),
        ReadWriteCommands.Read(),
        ReadWriteCommands.Write(),
        ReadWriteCommands.Compare(),
        IoCommands.Flush(),
        IoCommands.WriteZeroes(),
        IoCommands.Dsm(),
        ReservationVerbs.Register(),
        ReservationVerbs.Acquire(),
        ReservationVerbs.Release(),
        ReservationVerbs.Report(),
        PassthruCommands.Admin(),
        PassthruCommands.Io(),
        PerfCommand.Create(),
        KeyCommands.Generate(),
        KeyCommands.Check(),
        TlsKeyCommands.Generate(),
        TlsKeyCommands.Check(),
        HostNqnCommands.Generate(),
        HostNqnCommands.Show(),
    ];

    /// <summary>The root command with every host verb and <paramref name="more"/>.</summary>
    public static CliRootCommand CreateRoot(IEnumerable<Command>? more = null) => new(All().Concat(more ?? []));
}

/// <summary>The root command: every verb, --verbose everywhere, and the exit codes at the end of --help.</summary>
internal sealed class CliRootCommand : RootCommand
{
    public CliRootCommand(IEnumerable<Command> verbs)
        : base($"{CliCommands.Description}{Environment.NewLine}{Environment.NewLine}{ExitCodes.HelpText}")
    {
        Options.Add(Verbose);
        foreach (var verb in verbs)
        {
            Subcommands.Add(verb);
        }
    }

    /// <summary>--verbose, valid on every verb; a verb reads it through here.</summary>
    public Option<bool> Verbose { get; } = CommonOptions.Verbose();
}
