using System.CommandLine;

namespace NvmeTcp.Cli.Commands;

/// <summary>Options shared by several verbs. A new instance per command, read back through that instance.</summary>
internal static class CommonOptions
{
    /// <summary>-o/--output-format normal|json, as nvme-cli.</summary>
    public static Option<string> OutputFormat() => CreateOutputFormat();

    /// <summary>--verbose: logs of the client on stderr, and stack traces of errors. Set on the root, valid on every verb.</summary>
    public static Option<bool> Verbose() => new("--verbose")
    {
        Description = "Log what the client does on stderr (connections, PDU-level events at debug) and print stack traces of errors.",
        Recursive = true,
    };

    /// <summary>--namespace-id: the NSID (no short alias: -n is the subsystem NQN, as in nvme-cli's connect).</summary>
    public static Option<uint> NamespaceId(string description = "NSID of the namespace (default 1).") => new("--namespace-id")
    {
        Description = description,
        DefaultValueFactory = _ => 1,
    };

    private static Option<string> CreateOutputFormat()
    {
        var option = new Option<string>("--output-format", "-o")
        {
            Description = "Output format: normal or json (nvme-cli's field names).",
            DefaultValueFactory = _ => "normal",
        };
        option.AcceptOnlyFromAmong("normal", "json");
        return option;
    }
}
