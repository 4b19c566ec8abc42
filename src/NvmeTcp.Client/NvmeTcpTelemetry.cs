namespace NvmeTcp.Client;

/// <summary>
/// The names under which the library publishes metrics (<see cref="System.Diagnostics.Metrics.Meter"/>) and traces
/// (<see cref="System.Diagnostics.ActivitySource"/>), for <c>AddMeter</c> and <c>AddSource</c> of the OpenTelemetry
/// SDK or any <see cref="System.Diagnostics.Metrics.MeterListener"/> / <see cref="System.Diagnostics.ActivityListener"/>.
/// </summary>
/// <remarks>
/// <para>Instruments (units in brackets): <c>nvme.client.operation.duration</c> [s] histogram of I/O commands with tags
/// <c>nvme.operation.name</c> (read, write, compare, flush, write_zeroes, dsm, io_passthru), <c>nvme.outcome</c>
/// (success, error), <c>error.type</c> on failure, <c>nvme.queue.id</c>, <c>server.address</c> and <c>server.port</c>; <c>nvme.client.io.size</c> [By] counter of
/// bytes read and written (tag <c>nvme.io.direction</c>); <c>nvme.client.commands.in_flight</c> [{command}] per I/O queue
/// (<c>nvme.queue.id</c>, <c>server.address</c>); <c>nvme.client.connections</c> [{connection}] TCP connections opened;
/// <c>nvme.client.reconnects</c> [{reconnect}] attempts (tag <c>nvme.outcome</c>); <c>nvme.client.state_changes</c>
/// [{change}] (tag <c>nvme.controller.state</c>, the new state); <c>nvme.client.errors</c> [{error}] by
/// <c>error.type</c>: the NVMe status name, <c>transport</c>, <c>protocol</c>, <c>timeout</c>, <c>canceled</c> or the
/// exception's type; <c>nvme.client.keep_alives</c> [{command}] (tag <c>nvme.outcome</c>);
/// <c>nvme.client.async_events</c> [{event}] (tag <c>nvme.async_event.type</c>).</para>
/// <para>Activities: <c>nvme connect</c>, <c>nvme bring-up</c>, <c>nvme reconnect</c>, <c>nvme discovery</c> and
/// <c>nvme admin</c> (one per admin command a caller sends) always; one per I/O command (<c>nvme read</c>, ...) only when
/// a listener samples it. Attributes follow OpenTelemetry's names where they exist: <c>server.address</c>,
/// <c>server.port</c>, <c>error.type</c>; the rest are <c>nvme.*</c>.</para>
/// <para>When nothing listens, an I/O takes the same path as without telemetry and allocates nothing for it.</para>
/// </remarks>
public static class NvmeTcpTelemetry
{
    /// <summary>The name of the library's <see cref="System.Diagnostics.Metrics.Meter"/>: <c>NvmeTcp.Client</c>.</summary>
    public const string MeterName = "NvmeTcp.Client";

    /// <summary>The name of the library's <see cref="System.Diagnostics.ActivitySource"/>: <c>NvmeTcp.Client</c>.</summary>
    public const string ActivitySourceName = "NvmeTcp.Client";
}
