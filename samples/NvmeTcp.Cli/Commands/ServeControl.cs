using System.Globalization;
using System.Net;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Target;
using Spectre.Console;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// The commands <c>serve</c> reads on stdin while it runs, one a line, each answered with one line starting
/// <c>ok</c> or <c>error</c> (for scripts and tests, as nvmet's configfs is for its users):
/// <code>
/// ana PORTID GROUP STATE     the group's ANA state on that port: optimized, non-optimized, inaccessible,
///                            persistent-loss or change (the port's controllers get an ANA change notice)
/// port-remove PORTID         stop listening there and drop its connections
/// port-add PORTID            listen again where that port listened
/// </code>
/// </summary>
internal sealed class ServeControl
{
    private readonly NvmeTcpTarget _target;
    private readonly Dictionary<ushort, IPEndPoint> _endPoints;

    public ServeControl(NvmeTcpTarget target)
    {
        _target = target;
        _endPoints = target.Ports.ToDictionary(p => p.PortId, p => p.EndPoint);
    }

    /// <summary>Answers each line of <paramref name="input"/> on <paramref name="console"/> until the input ends or <paramref name="cancellationToken"/> fires.</summary>
    public static async Task RunAsync(TextReader input, NvmeTcpTarget target, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var control = new ServeControl(target);
        try
        {
            while (await input.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (!string.IsNullOrWhiteSpace(line))
                {
                    console.WriteLine(control.Execute(line));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Stopping, or stdin went away: the target keeps running until it is stopped.
        }
    }

    /// <summary>Runs one command; returns the answer line.</summary>
    public string Execute(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        try
        {
            switch (words)
            {
                case ["ana", var port, var group, var state]:
                    var portId = ParsePort(port);
                    var groupId = uint.Parse(group, NumberStyles.None, CultureInfo.InvariantCulture);
                    _target.SetAnaState(portId, groupId, ParseState(state));
                    return $"ok ana {portId} {groupId} {state.ToLowerInvariant()}";
                case ["port-remove", var port]:
                    var removed = ParsePort(port);
                    return _target.RemovePort(removed) ? $"ok port-remove {removed}" : $"error port {removed} is not listening";
                case ["port-add", var port]:
                    var added = ParsePort(port);
                    if (!_endPoints.TryGetValue(added, out var endPoint))
                    {
                        return $"error port {added} is unknown";
                    }

                    // The port comes back as it was configured, TLS included.
                    var tls = _target.Options.Ports.FirstOrDefault(p => p.PortId == added)?.Tls ?? _target.Options.Tls;
                    var bound = _target.AddPort(new NvmeTargetPort(added, endPoint) { Tls = tls });
                    _endPoints[added] = bound.EndPoint;
                    return $"ok port-add {added} {bound.EndPoint}";
                default:
                    return "error unknown command; use: ana PORTID GROUP STATE | port-remove PORTID | port-add PORTID";
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or System.Net.Sockets.SocketException)
        {
            return $"error {e.Message.ReplaceLineEndings(" ")}";
        }
    }

    /// <summary>The ANA state names nvmet's configfs uses.</summary>
    public static AnaState ParseState(string text) => text.ToLowerInvariant() switch
    {
        "optimized" => AnaState.Optimized,
        "non-optimized" => AnaState.NonOptimized,
        "inaccessible" => AnaState.Inaccessible,
        "persistent-loss" => AnaState.PersistentLoss,
        "change" => AnaState.Change,
        _ => throw new FormatException($"'{text}' is not optimized, non-optimized, inaccessible, persistent-loss or change."),
    };

    private static ushort ParsePort(string text) => ushort.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
}
