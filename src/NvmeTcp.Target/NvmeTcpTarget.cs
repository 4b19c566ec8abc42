using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using NvmeTcp.Client;
using NvmeTcp.Target.Internal;
using NvmeTcp.Target.Internal.Transport;

namespace NvmeTcp.Target;

/// <summary>
/// An in-process NVMe/TCP target (the controller side): it listens on a TCP endpoint, serves NVM subsystems backed
/// by sparse memory or null namespaces and, optionally, the discovery subsystem, and validates every PDU a host sends
/// as a strict test oracle. Meant for tests, demos and benchmarks of initiators.
/// </summary>
/// <remarks>
/// <para>
/// Behaviour follows Linux nvmet (drivers/nvme/target) unless a comment in the source says otherwise. A host that
/// breaks the transport rules gets a C2HTermReq (FES, FEI and its offending header), the connection closes, and the
/// violation is kept in <see cref="NvmeTargetTestHooks.Violations"/>. What exists for tests and demos (that record,
/// fault injection, counters) is grouped under <see cref="Testing"/>.
/// </para>
/// <para>
/// <see cref="StartAsync"/> throws <see cref="ArgumentException"/> for inconsistent options and
/// <see cref="SocketException"/> when the endpoint cannot be bound. The other members throw
/// <see cref="ObjectDisposedException"/> after <see cref="DisposeAsync"/> and <see cref="ArgumentException"/> for an
/// unknown subsystem or namespace.
/// </para>
/// </remarks>
public sealed partial class NvmeTcpTarget : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TargetSubsystem> _subsystems = new(StringComparer.Ordinal);
    private readonly TargetSubsystem? _discovery;
    private readonly ConcurrentDictionary<TargetConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<IPAddress, int> _perHost = [];
    private long _generation = 1;
    private int _disposed;

    private NvmeTcpTarget(NvmeTargetOptions options)
    {
        Options = options;
        Log = new TargetLog(options.Logger ?? NullLogger.Instance);
        Testing = new NvmeTargetTestHooks(this);
        _discovery = options.EnableDiscovery ? TargetSubsystem.CreateDiscovery() : null;
        foreach (var subsystem in options.Subsystems)
        {
            AddSubsystemCore(subsystem);
        }
    }

    /// <summary>
    /// The bound endpoint of the first port (the actual port when the options asked for port 0); it stays the same
    /// after that port is removed. <see cref="Ports"/> lists every port.
    /// </summary>
    public IPEndPoint EndPoint { get; private set; } = null!;

    /// <summary>The options the target started with.</summary>
    public NvmeTargetOptions Options { get; }

    /// <summary>Hooks for tests and demos: fault injection, the host violations seen, counters.</summary>
    public NvmeTargetTestHooks Testing { get; }

    /// <summary>Open connections.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Live controllers over every subsystem, discovery included.</summary>
    public int ControllerCount => AllSubsystems.Sum(s => s.Controllers.Count());

    /// <summary>GENCTR of the discovery log: bumped whenever subsystems or namespaces change.</summary>
    public ulong DiscoveryGenerationCounter => (ulong)Interlocked.Read(ref _generation);

    internal TargetLog Log { get; }

    /// <summary>TLS PSKs by identity, for the handshake on TLS ports.</summary>
    internal TlsKeyRegistry TlsKeys { get; } = new();

    internal ulong GenerationCounter => DiscoveryGenerationCounter;

    internal IEnumerable<TargetSubsystem> NvmSubsystems => _subsystems.Values.OrderBy(s => s.Nqn, StringComparer.Ordinal);

    private IEnumerable<TargetSubsystem> AllSubsystems => _discovery is null ? _subsystems.Values : _subsystems.Values.Append(_discovery);

    /// <summary>Validates the options, binds the endpoint and starts accepting connections.</summary>
    /// <param name="options">The configuration; read now, later changes are ignored.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running target; dispose it to stop.</returns>
    /// <exception cref="ArgumentException">The options are inconsistent.</exception>
    /// <exception cref="SocketException">The endpoint cannot be bound.</exception>
    public static Task<NvmeTcpTarget> StartAsync(NvmeTargetOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        Validate(options);
        var target = new NvmeTcpTarget(options);
        try
        {
            foreach (var port in ConfiguredPorts(options))
            {
                target.AddPortCore(port);
            }

            target.EndPoint = target._ports[0].EndPoint;
            return Task.FromResult(target);
        }
        catch
        {
            // A port that cannot be bound: close the ports bound so far and the files the namespaces opened.
            target.StopListening();
            foreach (var ns in target.AllSubsystems.SelectMany(s => s.Namespaces))
            {
                ns.Store.Dispose();
            }

            throw;
        }
    }

    /// <summary>Adds a subsystem; hosts connected to the discovery controller get a discovery log change notice.</summary>
    /// <exception cref="ArgumentException">The NQN is already served, or the options are inconsistent.</exception>
    public void AddSubsystem(NvmeSubsystemOptions subsystem)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        AddSubsystemCore(subsystem);
        RaiseDiscoveryLogChanged();
    }

    /// <summary>Removes a subsystem, tearing its controllers down; false if it was not served.</summary>
    public bool RemoveSubsystem(string subsystemNqn)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!_subsystems.TryRemove(subsystemNqn, out var removed))
        {
            return false;
        }

        TlsKeys.RemoveSubsystem(subsystemNqn);

        foreach (var controller in removed.Controllers.ToArray())
        {
            controller.TearDown("subsystem removed");
        }

        RaiseDiscoveryLogChanged();
        return true;
    }

    /// <summary>
    /// Changes the most I/O queues Set Features Number of Queues grants in the subsystem (as
    /// <see cref="NvmeSubsystemOptions.MaxIoQueues"/>). Controllers keep what they were granted; a host sees the new
    /// limit at its next association.
    /// </summary>
    /// <exception cref="ArgumentException">No such subsystem.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxIoQueues"/> is below 1 or above 65535.</exception>
    public void SetMaxIoQueues(string subsystemNqn, int maxIoQueues)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIoQueues, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxIoQueues, 65535);
        GetSubsystem(subsystemNqn).MaxIoQueues = maxIoQueues;
    }

    /// <summary>Adds a namespace; the subsystem's controllers get a namespace attribute changed notice.</summary>
    /// <exception cref="ArgumentException">No such subsystem.</exception>
    /// <exception cref="InvalidOperationException">The NSID is taken.</exception>
    public void AddNamespace(string subsystemNqn, NvmeNamespaceOptions ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var subsystem = GetSubsystem(subsystemNqn);
        CheckAnaGroups([ns]);
        subsystem.AddNamespace(new TargetNamespace(subsystem.Nqn, ns));
        Interlocked.Increment(ref _generation);
        RaiseNamespaceAttributeChanged(subsystemNqn, ns.Nsid);
    }

    /// <summary>Removes a namespace; false if absent. The subsystem's controllers get a namespace attribute changed notice.</summary>
    /// <exception cref="ArgumentException">No such subsystem.</exception>
    public bool RemoveNamespace(string subsystemNqn, uint nsid)
    {
        var subsystem = GetSubsystem(subsystemNqn);
        var removed = subsystem.FindNamespace(nsid);
        if (!subsystem.RemoveNamespace(nsid))
        {
            return false;
        }

        // A file is closed; a command still using it completes with an error.
        removed?.Store.Dispose();

        Interlocked.Increment(ref _generation);
        RaiseNamespaceAttributeChanged(subsystemNqn, nsid);
        return true;
    }

    /// <summary>
    /// Reports namespaces as changed to every controller of the subsystem: they enter the Changed Namespace List log
    /// (0x04) and an outstanding Asynchronous Event Request completes with DW0 0x00040002 (notice, namespace
    /// attribute changed, log 0x04) if the host enabled that event and has read the log since the last one.
    /// </summary>
    /// <exception cref="ArgumentException">No such subsystem.</exception>
    public void RaiseNamespaceAttributeChanged(string subsystemNqn, params uint[] nsids)
    {
        ArgumentNullException.ThrowIfNull(nsids);
        foreach (var controller in GetSubsystem(subsystemNqn).Controllers)
        {
            controller.NamespacesChanged(nsids);
        }
    }

    /// <summary>
    /// Bumps the discovery log's GENCTR and completes an outstanding Asynchronous Event Request of every discovery
    /// controller with DW0 0x0070F002 (notice, discovery log changed, log 0x70), if enabled and re-armed.
    /// </summary>
    public void RaiseDiscoveryLogChanged()
    {
        Interlocked.Increment(ref _generation);
        if (_discovery is null)
        {
            return;
        }

        foreach (var controller in _discovery.Controllers)
        {
            controller.RaiseNotice(Protocol.Spec.AsyncEventNotice.DiscoveryLogPageChange);
        }
    }

    /// <summary>
    /// Stops listening, closes every connection and waits (up to 10 s of <see cref="NvmeTargetOptions.TimeProvider"/>
    /// time) for them to finish.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(StopListening()).ConfigureAwait(false);
        foreach (var controller in AllSubsystems.SelectMany(s => s.Controllers).ToArray())
        {
            controller.TearDown("target stopped");
        }

        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }

        try
        {
            await Task.WhenAll(_connections.Values).WaitAsync(TimeSpan.FromSeconds(10), Options.TimeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A connection stuck in a socket call; its socket is shut down and will be collected.
        }

        foreach (var ns in AllSubsystems.SelectMany(s => s.Namespaces))
        {
            ns.Store.Dispose();
        }

        _stopping.Dispose();
    }

    internal TargetSubsystem? FindSubsystem(string nqn) =>
        nqn == NvmeIdentifyController.DiscoveryNqn ? _discovery : _subsystems.GetValueOrDefault(nqn);

    internal TargetSubsystem GetSubsystem(string nqn)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _subsystems.TryGetValue(nqn, out var subsystem) ? subsystem : throw new ArgumentException($"No subsystem {nqn}.", nameof(nqn));
    }

    internal TargetNamespace GetNamespace(string nqn, uint nsid) =>
        GetSubsystem(nqn).FindNamespace(nsid) ?? throw new ArgumentException($"Subsystem {nqn} has no namespace {nsid}.", nameof(nsid));

    private void AddSubsystemCore(NvmeSubsystemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nqn == NvmeIdentifyController.DiscoveryNqn)
        {
            throw new ArgumentException("The discovery NQN is served by EnableDiscovery, not as a subsystem.", nameof(options));
        }

        CheckAnaGroups(options.Namespaces);
        if (!_subsystems.TryAdd(options.Nqn, new TargetSubsystem(options)))
        {
            throw new ArgumentException($"Subsystem {options.Nqn} is served twice.", nameof(options));
        }

        TlsKeys.AddSubsystem(options.Nqn, options.TlsKeys);
    }

    private static void Validate(NvmeTargetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options.ListenEndPoint);
        ArgumentNullException.ThrowIfNull(options.TimeProvider);
        ArgumentNullException.ThrowIfNull(options.Ports);
        if (options.Ports.Any(p => p is null) || options.Ports.Select(p => p.PortId).Distinct().Count() != options.Ports.Count)
        {
            throw new ArgumentException("Ports must be distinct: no two with one PORTID.", nameof(options));
        }

        if (options.AnaGroupMax is < 1 or > NvmeTargetOptions.MaxAnaGroupMax)
        {
            throw new ArgumentException($"AnaGroupMax is 1 to {NvmeTargetOptions.MaxAnaGroupMax}.", nameof(options));
        }

        if (options.MaxH2CData < 4096 || options.MaxH2CData % 4 != 0 || options.MaxH2CData > 64 * 1024 * 1024)
        {
            throw new ArgumentException("MaxH2CData must be a multiple of 4 from 4096 to 64 MiB.", nameof(options));
        }

        if (options.Cpda > 31 || options.C2HDataChunkSize < 0 || options.C2HDataChunkSize % 4 != 0
            || options.R2TSize < 0 || options.R2TSize % 4 != 0 || options.MaxOutstandingR2Ts < 1)
        {
            throw new ArgumentException("CPDA is 0 to 31; chunk and R2T sizes are non-negative multiples of 4; at least one R2T.", nameof(options));
        }

        if (options.MaxBufferedBytesPerConnection < 64 * 1024 || options.MaxBufferedCommandsPerConnection < 1)
        {
            throw new ArgumentException("A connection buffers at least 64 KiB and one command.", nameof(options));
        }

        if (options.MaxConnections < 1 || options.MaxConnectionsPerHost < 1 || options.IcReqTimeout < TimeSpan.Zero || options.PduTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException("At least one connection, and per host; timeouts are zero (none) or positive.", nameof(options));
        }
    }

    /// <summary>Largest data one received PDU may carry: admin in-capsule data, any I/O queue's, or MAXH2CDATA.</summary>
    private int MaxDataLength() =>
        _subsystems.Values.Select(s => s.IoInCapsuleSize).Append(TargetSubsystem.AdminInCapsuleSize).Append(Options.MaxH2CData).Max();

    /// <summary>Counts a new connection from <paramref name="host"/>, unless a connection limit is reached.</summary>
    private bool TryAdmit(IPAddress host)
    {
        lock (_perHost)
        {
            var fromHost = _perHost.GetValueOrDefault(host);
            if (_connections.Count >= Options.MaxConnections || fromHost >= Options.MaxConnectionsPerHost)
            {
                return false;
            }

            _perHost[host] = fromHost + 1;
            return true;
        }
    }

    private void Release(IPAddress host)
    {
        lock (_perHost)
        {
            if (_perHost.TryGetValue(host, out var count) && count > 1)
            {
                _perHost[host] = count - 1;
            }
            else
            {
                _perHost.Remove(host);
            }
        }
    }
}
