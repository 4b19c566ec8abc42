using System.CommandLine;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// The connection options of the verbs that connect, with nvme-cli's names and short forms
/// (<c>nvme connect -t tcp -a ADDR -s PORT -n NQN</c>). Each command gets its own instances (an option shared by
/// many commands would collect parents from every root ever built); values are read back by name.
/// </summary>
internal static class ConnectionOptions
{
    private static Option<string> Traddr() => new("--traddr", "-a")
    {
        Description = "Target address (host name or IP).",
        Required = true,
    };

    private static Option<int> Trsvcid() => new("--trsvcid", "-s")
    {
        Description = "Target TCP port.",
        DefaultValueFactory = _ => NvmeTcpOptions.DefaultPort,
    };

    private static Option<string?> Nqn() => new("--nqn", "-n")
    {
        Description = "Subsystem NQN. Default: the first NVM subsystem the target's discovery log lists.",
    };

    private static Option<string?> HostNqn() => new("--hostnqn", "-q")
    {
        Description = "Host NQN. Default: nqn.2014-08.org.nvmexpress:uuid:<hostid>.",
    };

    private static Option<Guid?> HostId() => new("--hostid", "-I")
    {
        Description = "Host identifier (a UUID). Default: a new random one.",
    };

    private static Option<bool> HeaderDigest() => new("--hdr-digest", "-g")
    {
        Description = "Ask for header digests (CRC-32C over every PDU header).",
    };

    private static Option<bool> DataDigest() => new("--data-digest", "-G")
    {
        Description = "Ask for data digests (CRC-32C over all data).",
    };

    private static Option<int?> IoQueues() => new("--nr-io-queues", "-i")
    {
        Description = "I/O queues to ask for, each a TCP connection. Default: 0 for admin verbs, 1 for I/O verbs, the processor count (at most 8) for perf.",
    };

    private static Option<int> QueueSize() => new("--queue-size", "-Q")
    {
        Description = "Entries per I/O queue.",
        DefaultValueFactory = _ => 128,
    };

    private static Option<int> KeepAliveTimeout() => new("--keep-alive-tmo", "-k")
    {
        Description = "Keep-alive timeout in seconds (0 disables keep-alive).",
        DefaultValueFactory = _ => 5,
    };

    private static Option<int?> Timeout() => new("--timeout")
    {
        Description = "Timeout of each command in milliseconds (default: 60000 admin, 30000 I/O, as Linux); on expiry the association is reset.",
    };

    private static Option<int> CtrlLossTmo() => new("--ctrl-loss-tmo")
    {
        Description = "Seconds to keep reconnecting after the connection fails before giving up (-1: forever, 0: never reconnect).",
        DefaultValueFactory = _ => 600,
    };

    private static Option<int> ReconnectDelay() => new("--reconnect-delay")
    {
        Description = "Seconds between reconnect attempts.",
        DefaultValueFactory = _ => 10,
    };

    private static Option<int?> FastIoFailTmo() => new("--fast_io_fail_tmo")
    {
        Description = "Seconds after a connection failure after which waiting I/O fails instead of waiting for the reconnect (default: off).",
    };

    // nvme-cli's short forms; added where the verb does not already use the letter (perf's -t is --time,
    // get-log's and the passthru verbs' -l are --log-len and --data-len, as in nvme-cli).
    private static readonly (string Name, string Alias)[] ShortForms = [("--timeout", "-t"), ("--ctrl-loss-tmo", "-l"), ("--reconnect-delay", "-c")];

    /// <summary>Gives the timeout and reconnect options their nvme-cli short forms wherever the letter is free.</summary>
    public static void AddShortForms(Command command)
    {
        foreach (var (name, alias) in ShortForms)
        {
            var option = command.Options.FirstOrDefault(o => o.Name == name);
            if (option is not null && !command.Options.Any(o => o.Name == alias || o.Aliases.Contains(alias)))
            {
                option.Aliases.Add(alias);
            }
        }

        foreach (var sub in command.Subcommands)
        {
            AddShortForms(sub);
        }
    }

    /// <summary>Adds every connection option to <paramref name="command"/>; <paramref name="withNqn"/> is false for discover.</summary>
    public static void AddTo(Command command, bool withNqn = true)
    {
        command.Options.Add(Traddr());
        command.Options.Add(Trsvcid());
        if (withNqn)
        {
            command.Options.Add(Nqn());
        }

        command.Options.Add(HostNqn());
        command.Options.Add(HostId());
        command.Options.Add(HeaderDigest());
        command.Options.Add(DataDigest());
        command.Options.Add(IoQueues());
        command.Options.Add(QueueSize());
        command.Options.Add(KeepAliveTimeout());
        command.Options.Add(Timeout());
        command.Options.Add(CtrlLossTmo());
        command.Options.Add(ReconnectDelay());
        command.Options.Add(FastIoFailTmo());
    }

    /// <summary>The --nqn the command line gives, if any.</summary>
    public static string? ReadNqn(ParseResult parseResult) => parseResult.GetValue<string?>("--nqn");

    /// <summary>The client options the command line asks for; the NQN is left as given (maybe empty).</summary>
    public static NvmeTcpOptions Read(ParseResult parseResult, int defaultIoQueues)
    {
        var options = new NvmeTcpOptions
        {
            Address = parseResult.GetRequiredValue<string>("--traddr"),
            Port = parseResult.GetValue<int>("--trsvcid"),
            HeaderDigest = parseResult.GetValue<bool>("--hdr-digest"),
            DataDigest = parseResult.GetValue<bool>("--data-digest"),
            IoQueueCount = parseResult.GetValue<int?>("--nr-io-queues") ?? defaultIoQueues,
            IoQueueSize = parseResult.GetValue<int>("--queue-size"),
            KeepAliveTimeout = TimeSpan.FromSeconds(parseResult.GetValue<int>("--keep-alive-tmo")),
            ReconnectDelay = TimeSpan.FromSeconds(parseResult.GetValue<int>("--reconnect-delay")),
        };
        var lossTimeout = parseResult.GetValue<int>("--ctrl-loss-tmo");
        options.ControllerLossTimeout = lossTimeout < 0 ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(lossTimeout);
        if (parseResult.GetValue<int?>("--fast_io_fail_tmo") is { } fastIoFail)
        {
            options.FastIoFailTimeout = fastIoFail < 0 ? null : TimeSpan.FromSeconds(fastIoFail);
        }

        if (parseResult.GetValue<int?>("--timeout") is { } timeoutMs)
        {
            options.AdminTimeout = options.IoTimeout = TimeSpan.FromMilliseconds(timeoutMs);
        }

        if (parseResult.GetValue<Guid?>("--hostid") is { } hostId)
        {
            options.HostId = hostId;
        }

        if (parseResult.GetValue<string?>("--hostnqn") is { Length: > 0 } hostNqn)
        {
            options.HostNqn = hostNqn;
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliException($"bad connection option: {e.Message}");
        }

        return options;
    }
}
