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
        };
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
