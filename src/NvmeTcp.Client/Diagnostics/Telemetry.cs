using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;

namespace NvmeTcp.Client.Diagnostics;

/// <summary>
/// The library's meter, instruments and activity source (names and tags in <see cref="NvmeTcpTelemetry"/>). Hot paths
/// ask <see cref="IoInstrumented"/> first and take the plain path when nothing listens.
/// </summary>
internal static class Telemetry
{
    public static readonly ActivitySource Source = new(NvmeTcpTelemetry.ActivitySourceName, Version);

    public static readonly Meter Meter = new(NvmeTcpTelemetry.MeterName, Version);

    public static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>(
        "nvme.client.operation.duration", "s", "Duration of I/O commands, from submission to completion.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    public static readonly Counter<long> IoSize = Meter.CreateCounter<long>("nvme.client.io.size", "By", "Bytes read and written by I/O commands that succeeded.");

    public static readonly Counter<long> Connections = Meter.CreateCounter<long>("nvme.client.connections", "{connection}", "TCP connections (queues) opened.");

    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("nvme.client.reconnects", "{reconnect}", "Reconnect attempts after a controller failed.");

    public static readonly Counter<long> StateChanges = Meter.CreateCounter<long>("nvme.client.state_changes", "{change}", "Controller state changes, tagged with the new state.");

    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("nvme.client.errors", "{error}", "Failed commands and connections by kind.");

    public static readonly Counter<long> KeepAlives = Meter.CreateCounter<long>("nvme.client.keep_alives", "{command}", "Keep Alive commands sent.");

    public static readonly Counter<long> AsyncEvents = Meter.CreateCounter<long>("nvme.client.async_events", "{event}", "Asynchronous events received.");

    // Live controllers, for the in-flight gauge: read only when a listener collects it.
    private static readonly ConcurrentDictionary<NvmeController, byte> Controllers = new();

    private static readonly ObservableUpDownCounter<int> InFlight = Meter.CreateObservableUpDownCounter(
        "nvme.client.commands.in_flight", ObserveInFlight, "{command}", "I/O commands outstanding per queue.");

    public const string Success = "success";
    public const string Failure = "error";

    // Boxed once: a tag's value is an object, and boxing a queue ID per I/O would allocate.
    private static readonly object[] QueueIds = [.. Enumerable.Range(0, 256).Select(i => (object)i)];

    private static string Version => typeof(Telemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>Whether an I/O should take the instrumented path: some instrument or activity of it has a listener.</summary>
    public static bool IoInstrumented => OperationDuration.Enabled || IoSize.Enabled || Errors.Enabled || Source.HasListeners();

    public static object QueueTag(int queueId) => queueId < QueueIds.Length ? QueueIds[queueId] : queueId;

    public static void Register(NvmeController controller)
    {
        _ = InFlight;
        Controllers.TryAdd(controller, 0);
    }

    public static void Unregister(NvmeController controller) => Controllers.TryRemove(controller, out _);

    /// <summary>error.type of a failure: the NVMe status name, or the kind of failure.</summary>
    public static string ErrorType(Exception error) => error switch
    {
        NvmeStatusException status => status.StatusName.Length > 0 ? status.StatusName : $"0x{status.Status.TypeAndCode:X3}",
        NvmeTimeoutException => "timeout",
        NvmeTcpProtocolException => "protocol",
        NvmeAuthenticationException => "authentication",
        NvmeTransportException => "transport",
        OperationCanceledException => "canceled",
        _ => error.GetType().FullName ?? "error",
    };

    public static void CountError(Exception error, string operation)
    {
        if (Errors.Enabled)
        {
            Errors.Add(1, new KeyValuePair<string, object?>("error.type", ErrorType(error)), new KeyValuePair<string, object?>("nvme.operation.name", operation));
        }
    }

    /// <summary>Starts an activity (null when nothing samples it) with the target's address.</summary>
    public static Activity? Start(string name, EndPoint? endPoint, string? subsystemNqn, ActivityKind kind = ActivityKind.Client)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(name, kind);
        if (activity is { IsAllDataRequested: true })
        {
            if (endPoint is IPEndPoint ip)
            {
                activity.SetTag("server.address", ip.Address.ToString());
                activity.SetTag("server.port", ip.Port);
            }
            else if (endPoint is DnsEndPoint dns)
            {
                activity.SetTag("server.address", dns.Host);
                activity.SetTag("server.port", dns.Port);
            }

            if (subsystemNqn is not null)
            {
                activity.SetTag("nvme.subsystem.nqn", subsystemNqn);
            }
        }

        return activity;
    }

    /// <summary>Marks an activity failed (OpenTelemetry: status Error and error.type).</summary>
    public static void Fail(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.SetTag("error.type", ErrorType(error));
    }

    private static IEnumerable<Measurement<int>> ObserveInFlight()
    {
        foreach (var controller in Controllers.Keys)
        {
            var association = controller.Current;
            var address = association.EndPoint is IPEndPoint ip ? ip.Address.ToString() : association.EndPoint.ToString();
            foreach (var connection in association.IoQueues)
            {
                yield return new Measurement<int>(
                    connection.InFlight,
                    new KeyValuePair<string, object?>("nvme.queue.id", QueueTag(connection.QueueId)),
                    new KeyValuePair<string, object?>("server.address", address));
            }
        }
    }
}
