using System.CommandLine;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// The connection options of the verbs that connect, with nvme-cli's names and short forms
/// (<c>nvme connect -t tcp -a ADDR -s PORT -n NQN</c>).
/// </summary>
internal static class ConnectionOptions
{
    public static readonly Option<string> Traddr = new("--traddr", "-a")
    {
        Description = "Target address (host name or IP).",
        Required = true,
    };

    public static readonly Option<int> Trsvcid = new("--trsvcid", "-s")
    {
        Description = "Target TCP port.",
        DefaultValueFactory = _ => NvmeTcpOptions.DefaultPort,
    };

    public static readonly Option<string?> Nqn = new("--nqn", "-n")
    {
        Description = "Subsystem NQN. Default: the first NVM subsystem the target's discovery log lists.",
    };

    public static readonly Option<string?> HostNqn = new("--hostnqn", "-q")
    {
        Description = "Host NQN. Default: nqn.2014-08.org.nvmexpress:uuid:<hostid>.",
    };

    public static readonly Option<Guid?> HostId = new("--hostid", "-I")
    {
        Description = "Host identifier (a UUID). Default: a new random one.",
    };

    public static readonly Option<bool> HeaderDigest = new("--hdr-digest", "-g")
    {
        Description = "Ask for header digests (CRC-32C over every PDU header).",
    };

    public static readonly Option<bool> DataDigest = new("--data-digest", "-G")
    {
        Description = "Ask for data digests (CRC-32C over all data).",
    };

    public static readonly Option<int?> IoQueues = new("--nr-io-queues", "-i")
    {
        Description = "I/O queues to ask for, each a TCP connection. Default: 0 for admin verbs, 1 for I/O verbs, the processor count (at most 8) for perf.",
    };

    public static readonly Option<int> QueueSize = new("--queue-size", "-Q")
    {
        Description = "Entries per I/O queue.",
        DefaultValueFactory = _ => 128,
    };

    public static readonly Option<int> KeepAliveTimeout = new("--keep-alive-tmo", "-k")
    {
        Description = "Keep-alive timeout in seconds (0 disables keep-alive).",
        DefaultValueFactory = _ => 5,
    };

    /// <summary>Adds every connection option to <paramref name="command"/>; <paramref name="withNqn"/> is false for discover.</summary>
    public static void AddTo(Command command, bool withNqn = true)
    {
        command.Options.Add(Traddr);
        command.Options.Add(Trsvcid);
        if (withNqn)
        {
            command.Options.Add(Nqn);
        }

        command.Options.Add(HostNqn);
        command.Options.Add(HostId);
        command.Options.Add(HeaderDigest);
        command.Options.Add(DataDigest);
        command.Options.Add(IoQueues);
        command.Options.Add(QueueSize);
        command.Options.Add(KeepAliveTimeout);
    }

    /// <summary>The client options the command line asks for; the NQN is left as given (maybe empty).</summary>
    public static NvmeTcpOptions Read(ParseResult parseResult, int defaultIoQueues)
    {
        var options = new NvmeTcpOptions
        {
            Address = parseResult.GetRequiredValue(Traddr),
            Port = parseResult.GetValue(Trsvcid),
            HeaderDigest = parseResult.GetValue(HeaderDigest),
            DataDigest = parseResult.GetValue(DataDigest),
            IoQueueCount = parseResult.GetValue(IoQueues) ?? defaultIoQueues,
            IoQueueSize = parseResult.GetValue(QueueSize),
            KeepAliveTimeout = TimeSpan.FromSeconds(parseResult.GetValue(KeepAliveTimeout)),
        };
        if (parseResult.GetValue(HostId) is { } hostId)
        {
            options.HostId = hostId;
        }

        if (parseResult.GetValue(HostNqn) is { Length: > 0 } hostNqn)
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
