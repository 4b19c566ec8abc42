using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NvmeTcp.Client.Core;
using NvmeTcp.Client.Diagnostics;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client;

/// <summary>
/// A connection to one NVMe over Fabrics controller on an NVMe/TCP target: the admin queue, the I/O queue pairs, the
/// controller's Identify data and its active namespaces. Create it with <see cref="ConnectAsync"/>; dispose it to shut
/// the controller down in order (CC.SHN, then wait for CSTS.SHST).
/// </summary>
/// <remarks>
/// <para>Errors are typed (see <see cref="NvmeException"/>). When any queue's connection fails, the commands on it fail
/// with a transient error, and the controller reconnects by itself with the Linux host's knobs
/// (<see cref="NvmeTcpOptions.ReconnectDelay"/>, <see cref="NvmeTcpOptions.ControllerLossTimeout"/>,
/// <see cref="NvmeTcpOptions.FastIoFailTimeout"/>); <see cref="State"/> and <see cref="StateChanged"/> tell where it is.
/// Commands submitted meanwhile wait for it. Only a refusal that reconnecting cannot fix (DNR, authentication) or the
/// controller loss timeout deletes it for good.</para>
/// <para>The identity properties (<see cref="ControllerId"/>, <see cref="Identify"/>, <see cref="Namespaces"/>,
/// <see cref="MaxTransferSize"/>, ...) describe the current association and change after a reconnect.</para>
/// </remarks>
public sealed partial class NvmeController : IAsyncDisposable
{
    private readonly NvmeTcpOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private Association _current;
    private NvmeQueuePair[] _ioQueues = [];
    private int _nextQueue = -1;
    private int _disposed;

    private NvmeController(NvmeTcpOptions options, Association association, ILogger logger)
    {
        _options = options;
        _current = association;
        _logger = logger;
        _time = options.TimeProvider;
        Resources = options.Resources!;
        (ServerAddressTag, ServerPortTag) = association.EndPoint is System.Net.IPEndPoint ip
            ? (ip.Address.ToString(), (object)ip.Port)
            : (association.EndPoint.ToString() ?? string.Empty, (object)options.Port);
    }

    // server.address and server.port of the metrics, made (and the port boxed) once.
    internal string ServerAddressTag { get; }

    internal object ServerPortTag { get; }

    /// <summary>Sockets, background work and command slots this controller holds: all zero once it is disposed.</summary>
    internal ResourceCounters Resources { get; }

    /// <summary>The association in use now (or being replaced, while the controller is not live).</summary>
    internal Association Current => Volatile.Read(ref _current);

    /// <summary>I/O connections of the current association (the queues the controller granted, which the <see cref="IoQueues"/> share).</summary>
    internal int IoConnectionCount => Current.IoQueues.Length;

    /// <summary>The controller ID (CNTLID) the target assigned in the admin Connect.</summary>
    public ushort ControllerId => Current.ControllerId;

    /// <summary>CAP: the controller capabilities property.</summary>
    public ulong Capabilities => Current.Capabilities;

    /// <summary>VS: the NVMe version the controller implements.</summary>
    public Version Version => Current.Version;

    /// <summary>Identify Controller (CNS 01h), read at bring-up.</summary>
    public NvmeIdentifyController Identify => Current.Identify!;

    /// <summary>The active namespaces (none on a discovery controller), refreshed when the controller reports a change.</summary>
    public IReadOnlyList<NvmeNamespace> Namespaces => Current.Namespaces;

    /// <summary>
    /// The last ANA log (LID 0Ch) read from this controller: at bring-up, on each ANA change notice, and by
    /// <see cref="GetAnaLogAsync"/>. Null when the controller does not report ANA (see <see cref="NvmeIdentifyController.ReportsAna"/>).
    /// </summary>
    public NvmeAnaLog? AnaLog => Current.AnaLog;

    /// <summary>
    /// The I/O queue pairs: always as many as <see cref="NvmeTcpOptions.IoQueueCount"/> asked for, spread over the I/O
    /// queues (TCP connections) the controller granted in Set Features Number of Queues at the last connect or
    /// reconnect. When it granted fewer, pair <c>i</c> uses connection <c>i</c> mod granted, so several pairs share one;
    /// a reconnect follows the new grant both ways, up to one connection per pair. The list never changes: pairs held
    /// across a reconnect stay valid.
    /// </summary>
    public IReadOnlyList<NvmeQueuePair> IoQueues => _ioQueues;

    /// <summary>Where this controller logs (the options' logger factory, or nowhere).</summary>
    internal ILogger Logger => _logger;

    /// <summary>The target's endpoint.</summary>
    public System.Net.EndPoint RemoteEndPoint => Current.EndPoint;

    /// <summary>The subsystem NQN connected to.</summary>
    public string SubsystemNqn => _options.SubsystemNqn;

    /// <summary>The host NQN used.</summary>
    public string HostNqn => _options.HostNqn;

    /// <summary>The largest data transfer of one command: the smaller of MDTS and <see cref="NvmeTcpOptions.MaxTransferSize"/>.</summary>
    public int MaxTransferSize => Current.MaxTransferSize;

    /// <summary>Whether this is a discovery controller (no I/O queues; its data is the discovery log).</summary>
    public bool IsDiscoveryController => Identify.IsDiscoveryController || _options.SubsystemNqn == NvmeTcpOptions.DiscoveryNqn;

    /// <summary>The namespace with NSID <paramref name="namespaceId"/>.</summary>
    /// <exception cref="KeyNotFoundException">The controller has no such active namespace.</exception>
    public NvmeNamespace GetNamespace(uint namespaceId) =>
        Array.Find(Current.Namespaces, n => n.Id == namespaceId) ?? throw new KeyNotFoundException($"Controller {ControllerId} has no active namespace {namespaceId}.");

    /// <summary>The I/O queue pairs in turn, for spreading callers over them.</summary>
    /// <exception cref="InvalidOperationException">The controller has no I/O queues.</exception>
    public NvmeQueuePair NextIoQueue()
    {
        var queues = _ioQueues;
        if (queues.Length == 0)
        {
            throw new InvalidOperationException("This controller has no I/O queues.");
        }

        return queues[(int)((uint)Interlocked.Increment(ref _nextQueue) % (uint)queues.Length)];
    }

    /// <summary>
    /// Connects to the controller and brings it up in the order of the NVMe-oF spec and the Linux host: admin queue
    /// (ICReq, Connect), CAP and VS, CC.EN with CSTS.RDY within CAP.TO, Identify Controller, Number of Queues, a
    /// connection per I/O queue, then the active namespaces.
    /// </summary>
    /// <param name="options">Where and how to connect; copied.</param>
    /// <param name="cancellationToken">Cancels the bring-up; everything opened so far is closed.</param>
    /// <returns>A live controller.</returns>
    /// <remarks>Throws <see cref="NvmeStatusException"/> when the target refuses (e.g. Connect Invalid Host, Connect Invalid
    /// Parameters for an unknown NQN), <see cref="NvmeAuthenticationException"/> when it demands in-band
    /// authentication, <see cref="NvmeControllerFatalException"/> when it reports a fatal status while enabling,
    /// <see cref="NvmeTransportException"/> when it cannot be reached, <see cref="NvmeTimeoutException"/>, and
    /// <see cref="NvmeTcpProtocolException"/>.</remarks>
    public static async Task<NvmeController> ConnectAsync(NvmeTcpOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options.Clone();
        options.Validate();
        options.Resources ??= new ResourceCounters();
        var logger = options.LoggerFactory?.CreateLogger<NvmeController>() ?? (ILogger)NullLogger.Instance;
        using var activity = Telemetry.Start("nvme connect", new System.Net.DnsEndPoint(options.Address, options.Port), options.SubsystemNqn);
        try
        {
            var endPoint = await ResolveAsync(options, cancellationToken).ConfigureAwait(false);
            var association = await BringUpAsync(options, endPoint, logger, cancellationToken).ConfigureAwait(false);
            var controller = new NvmeController(options, association, logger);
            controller._ioQueues = [.. Enumerable.Range(0, association.IoQueues.Length == 0 ? 0 : options.IoQueueCount).Select(i => new NvmeQueuePair(controller, i))];
            controller.BecomeLive(association);
            Telemetry.Register(controller);
            activity?.SetTag("nvme.controller.id", (int)association.ControllerId);
            return controller;
        }
        catch (Exception e)
        {
            Telemetry.Fail(activity, e);
            Telemetry.CountError(e, "connect");
            throw;
        }
    }

    /// <summary>Shuts the controller down in order (CC.SHN, CSTS.SHST) and closes every connection.</summary>
    /// <returns>Completes when every connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Telemetry.Unregister(this);
        await _stop.CancelAsync().ConfigureAwait(false);
        SetState(NvmeControllerState.Deleting, null);
        await StopRecoveryAsync().ConfigureAwait(false);

        // Like Linux: I/O queues are just closed, then the controller is told to shut down on the admin queue.
        var association = Current;
        await association.Stopping.CancelAsync().ConfigureAwait(false);
        foreach (var connection in association.IoQueues)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        var outcome = "closed";
        if (association.Admin.Failure is null)
        {
            outcome = await ShutdownAsync(association).ConfigureAwait(false);
        }

        await association.CloseAsync(new NvmeTransportException($"Controller {association.ControllerId}: closed by the host.", 0, isRetryable: false)).ConfigureAwait(false);
        SetState(NvmeControllerState.Deleted, null);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.ShutDown(_logger, association.ControllerId, association.EndPoint, outcome);
        }

        _stop.Dispose();
    }
}
