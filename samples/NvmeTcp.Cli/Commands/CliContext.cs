using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using NvmeTcp.Cli.Output;
using NvmeTcp.Client;
using Spectre.Console;

namespace NvmeTcp.Cli.Commands;

/// <summary>What a verb needs while it runs: its parse result, where to write, and how to connect.</summary>
internal sealed class CliContext
{
    private readonly ConnectionOptions? _connection;

    /// <param name="parseResult">The command line.</param>
    /// <param name="verb">The verb's name, for messages.</param>
    /// <param name="outputFormat">The verb's -o, if it has one.</param>
    /// <param name="connection">The verb's connection options, if it connects.</param>
    public CliContext(ParseResult parseResult, string verb, Option<string>? outputFormat, ConnectionOptions? connection)
    {
        ParseResult = parseResult;
        Verb = verb;
        _connection = connection;
        Out = parseResult.InvocationConfiguration.Output;
        Error = parseResult.InvocationConfiguration.Error;
        Verbose = parseResult.RootCommandResult.Command is CliRootCommand root && parseResult.GetValue(root.Verbose);
        Json = outputFormat is not null && parseResult.GetValue(outputFormat) == "json";
        Console = CreateConsole(Out);
        LoggerFactory = Verbose ? new StderrLoggerFactory(Error, LogLevel.Debug) : null;
    }

    public ParseResult ParseResult { get; }

    public string Verb { get; }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>Spectre.Console over <see cref="Out"/>: colours and live progress on a terminal, plain text otherwise.</summary>
    public IAnsiConsole Console { get; }

    public bool Verbose { get; }

    public bool Json { get; }

    public ILoggerFactory? LoggerFactory { get; }

    public T GetValue<T>(Option<T> option) => ParseResult.GetValue(option)!;

    /// <summary>Writes a JSON object (nvme-cli's shape) with the members <paramref name="writeMembers"/> writes to <see cref="Out"/>.</summary>
    public void WriteJson(Action<Utf8JsonWriter> writeMembers) => Out.WriteLine(JsonText.Build(writer =>
    {
        writer.WriteStartObject();
        writeMembers(writer);
        writer.WriteEndObject();
    }));

    /// <summary>The verb's result: with -o json an object of the members <paramref name="writeMembers"/> writes, else the text <paramref name="text"/> makes.</summary>
    public Task PrintAsync(Action<Utf8JsonWriter> writeMembers, Func<string> text)
    {
        if (!Json)
        {
            return Out.WriteAsync(text());
        }

        WriteJson(writeMembers);
        return Task.CompletedTask;
    }

    /// <summary>A note for the human on stderr (never mixed into JSON on stdout).</summary>
    public void Note(string message)
    {
        if (Verbose)
        {
            Error.WriteLine($"nvmetcp {Verb}: {message}");
        }
    }

    /// <summary>What a verb sets on the client options beyond the connection options (perf's receive settings).</summary>
    public Action<NvmeTcpOptions>? Configure { get; set; }

    /// <summary>The client options the command line asks for, logging to stderr with --verbose; the NQN is left unset.</summary>
    public NvmeTcpOptions ClientOptions()
    {
        var options = Connection.Read(ParseResult);
        options.LoggerFactory = LoggerFactory;
        Configure?.Invoke(options);
        return options;
    }

    /// <summary>
    /// Connects to the controller the command line names. Without --nqn, reads the discovery log at the same
    /// address first and takes its first NVM subsystem.
    /// </summary>
    public async Task<NvmeController> ConnectAsync(CancellationToken cancellationToken)
    {
        var options = ClientOptions();
        var nqn = Connection.ReadNqn(ParseResult);
        if (string.IsNullOrEmpty(nqn))
        {
            var log = await NvmeDiscovery.GetLogAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
            var entry = log.Entries.FirstOrDefault(e => e.SubsystemType == NvmeSubsystemType.Nvm)
                ?? throw new CliException($"the discovery log at {options.Address}:{options.Port} lists no NVM subsystem; give one with --nqn");
            nqn = entry.SubsystemNqn;
            Note($"no --nqn given; using {nqn}, the first NVM subsystem in the discovery log");

            // Through the entry of the port connected to, so that its TREQ holds: an entry that requires TLS is never
            // tried in the clear.
            var port = options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (log.Entries.FirstOrDefault(e => e.SubsystemNqn == nqn && e.TransportType == NvmeTransportType.Tcp && e.TransportServiceId == port) is { } own)
            {
                options = NvmeDiscovery.OptionsFor(own, options, options.Address, options.Port);
            }
        }

        options.SubsystemNqn = nqn;
        return await NvmeController.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether the command line names a subsystem over several paths: more than one -a, or --discover. False for a
    /// verb without multipath options.
    /// </summary>
    public bool IsMultipath
    {
        get
        {
            if (_connection is not { IsMultipath: true })
            {
                return false;
            }

            var (endPoints, discovery, _) = _connection.ReadPaths(ParseResult);
            return endPoints.Count > 1 || discovery;
        }
    }

    /// <summary>
    /// Connects the subsystem the command line names over every path it gives: the -a/-s pairs, or with --discover
    /// every TCP entry of the subsystem in those discovery controllers' logs. Without --nqn, the first NVM subsystem of
    /// the discovery log at the first address.
    /// </summary>
    public async Task<NvmeSubsystem> ConnectSubsystemAsync(CancellationToken cancellationToken)
    {
        var template = ClientOptions();
        var (endPoints, discovery, policy) = Connection.ReadPaths(ParseResult);
        var nqn = Connection.ReadNqn(ParseResult);
        if (string.IsNullOrEmpty(nqn))
        {
            var first = template.Clone();
            first.Address = endPoints[0].Host;
            first.Port = endPoints[0].Port;
            var log = await NvmeDiscovery.GetLogAsync(first, cancellationToken: cancellationToken).ConfigureAwait(false);
            var entry = log.Entries.FirstOrDefault(e => e.SubsystemType == NvmeSubsystemType.Nvm)
                ?? throw new CliException($"the discovery log at {first.Address}:{first.Port} lists no NVM subsystem; give one with --nqn");
            nqn = entry.SubsystemNqn;
            Note($"no --nqn given; using {nqn}, the first NVM subsystem in the discovery log");
        }

        template.SubsystemNqn = nqn;
        var options = new NvmeMultipathOptions { Template = template, IoPolicy = policy };
        foreach (var endPoint in endPoints)
        {
            (discovery ? options.DiscoveryEndPoints : options.Paths).Add(endPoint);
        }

        return await NvmeSubsystem.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The active namespace <paramref name="namespaceId"/> of <paramref name="controller"/>, or a usage error naming the ones it has.</summary>
    public static NvmeNamespace GetNamespace(NvmeController controller, uint namespaceId)
    {
        var ns = controller.Namespaces.FirstOrDefault(n => n.Id == namespaceId);
        if (ns is null)
        {
            var ids = controller.Namespaces.Count == 0 ? "none" : string.Join(", ", controller.Namespaces.Select(n => n.Id));
            throw new CliException($"namespace {namespaceId} is not active on {controller.SubsystemNqn} (active: {ids})");
        }

        return ns;
    }

    private ConnectionOptions Connection => _connection ?? throw new InvalidOperationException($"{Verb} has no connection options");

    private static IAnsiConsole CreateConsole(TextWriter output)
    {
        if (ReferenceEquals(output, System.Console.Out))
        {
            return AnsiConsole.Console;
        }

        return AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
    }
}
