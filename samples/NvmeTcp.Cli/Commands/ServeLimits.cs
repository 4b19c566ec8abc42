using System.CommandLine;
using System.Globalization;
using NvmeTcp.Target;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// The serve verb's limits and strictness: what one host may make the target hold, how long it may keep a connection
/// half-open, and whether reserved fields are checked. Defaults are <see cref="NvmeTargetOptions"/>'s.
/// </summary>
internal static class ServeLimits
{
    private static readonly NvmeTargetOptions Defaults = new();

    private static readonly Option<int> MaxConnections = new("--max-connections")
    {
        Description = "Connections open at once, over every host; more are closed at accept.",
        DefaultValueFactory = _ => Defaults.MaxConnections,
    };

    private static readonly Option<int> MaxConnectionsPerHost = new("--max-connections-per-host")
    {
        Description = "Connections open at once from one IP address (a Linux host uses 1 + I/O queues per controller).",
        DefaultValueFactory = _ => Defaults.MaxConnectionsPerHost,
    };

    private static readonly Option<string> IcReqTimeout = new("--icreq-timeout")
    {
        Description = "Time a new connection has to send its ICReq (e.g. 10s, 500ms; 0: no limit).",
        DefaultValueFactory = _ => FormatTime(Defaults.IcReqTimeout),
    };

    private static readonly Option<string> PduTimeout = new("--pdu-timeout")
    {
        Description = "Time a PDU has to arrive whole once it has begun, and a send to move; a host stuck or trickling inside a PDU, or taking none of its replies, is closed (0: no limit).",
        DefaultValueFactory = _ => FormatTime(Defaults.PduTimeout),
    };

    private static readonly Option<string> MaxBuffered = new("--max-buffered")
    {
        Description = "Bytes one connection holds for its host (replies not yet sent; R2T data, apart); past it the target stops reading from that host.",
        DefaultValueFactory = _ => $"{Defaults.MaxBufferedBytesPerConnection >> 20}MiB",
    };

    private static readonly Option<int> MaxBufferedCommands = new("--max-buffered-commands")
    {
        Description = "Completions one connection holds not yet sent; past it the target stops reading from that host.",
        DefaultValueFactory = _ => Defaults.MaxBufferedCommandsPerConnection,
    };

    private static readonly Option<string> ReservedFields = new("--reserved-fields")
    {
        Description = "Reserved fields of host PDUs: ignore (the spec's rule for receivers), record (log a violation, go on) or terminate (C2HTermReq).",
        DefaultValueFactory = _ => "ignore",
    };

    /// <summary>The options, in the order --help lists them.</summary>
    public static IEnumerable<Option> All => [MaxConnections, MaxConnectionsPerHost, IcReqTimeout, PduTimeout, MaxBuffered, MaxBufferedCommands, ReservedFields];

    /// <summary>Sets the limits the command line asks for.</summary>
    /// <exception cref="FormatException">A value does not parse.</exception>
    public static void Apply(ParseResult parse, NvmeTargetOptions options)
    {
        options.MaxConnections = parse.GetValue(MaxConnections);
        options.MaxConnectionsPerHost = parse.GetValue(MaxConnectionsPerHost);
        options.IcReqTimeout = ParseTime(parse.GetValue(IcReqTimeout)!);
        options.PduTimeout = ParseTime(parse.GetValue(PduTimeout)!);
        options.MaxBufferedBytesPerConnection = checked((int)ServeSettings.ParseSize(parse.GetValue(MaxBuffered)!));
        options.MaxBufferedCommandsPerConnection = parse.GetValue(MaxBufferedCommands);
        options.ReservedFields = parse.GetValue(ReservedFields)!.ToUpperInvariant() switch
        {
            "IGNORE" => NvmeReservedFieldCheck.Ignore,
            "RECORD" => NvmeReservedFieldCheck.Record,
            "TERMINATE" => NvmeReservedFieldCheck.Terminate,
            var other => throw new FormatException($"--reserved-fields '{other}' is none of ignore, record, terminate."),
        };
    }

    /// <summary>A duration: 0, seconds (10, 10s, 1.5s) or milliseconds (500ms).</summary>
    /// <exception cref="FormatException">Not a duration.</exception>
    public static TimeSpan ParseTime(string text)
    {
        var t = text.Trim().ToUpperInvariant();
        var (number, scale) = t.EndsWith("MS", StringComparison.Ordinal) ? (t[..^2], 0.001)
            : t.EndsWith('S') ? (t[..^1], 1.0)
            : (t, 1.0);
        return double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? TimeSpan.FromSeconds(value * scale)
            : throw new FormatException($"'{text}' is not a duration such as 10s or 500ms.");
    }

    private static string FormatTime(TimeSpan time) => string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0.###}s");
}
