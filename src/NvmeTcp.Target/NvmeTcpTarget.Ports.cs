using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Target.Internal;
using NvmeTcp.Target.Internal.Transport;

namespace NvmeTcp.Target;

/// <summary>Ports (listen endpoints) and the ANA states kept per port and ANA group.</summary>
public sealed partial class NvmeTcpTarget
{
    private readonly List<TargetPort> _ports = [];
    private readonly ConcurrentDictionary<ushort, PortAnaStates> _anaStates = new();
    private long _anaChangeCount;

    /// <summary>
    /// The ports listening now, in the order they were added, each with its bound endpoint (the actual port when
    /// port 0 was asked for). A snapshot.
    /// </summary>
    public IReadOnlyList<NvmeTargetPort> Ports
    {
        get
        {
            lock (_ports)
            {
                return _ports.Select(p => p.ToPublic()).ToArray();
            }
        }
    }

    /// <summary>CHGCNT of the ANA log (0Ch): bumped by every <see cref="SetAnaState"/>.</summary>
    public ulong AnaChangeCount => (ulong)Interlocked.Read(ref _anaChangeCount);

    /// <summary>
    /// Starts listening on another port and serves every subsystem there; hosts connected to the discovery controller
    /// get a discovery log change notice. The endpoint of a removed port may be used again at once.
    /// </summary>
    /// <param name="port">The PORTID and endpoint; port 0 picks a free port.</param>
    /// <returns>The port as bound.</returns>
    /// <exception cref="ArgumentException">A port with that PORTID is listening.</exception>
    /// <exception cref="SocketException">The endpoint cannot be bound.</exception>
    public NvmeTargetPort AddPort(NvmeTargetPort port)
    {
        ArgumentNullException.ThrowIfNull(port);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var added = AddPortCore(port);
        RaiseDiscoveryLogChanged();
        return added;
    }

    /// <summary>
    /// Stops listening on a port and drops what came through it, as nvmet does when a port is unlinked: every
    /// controller whose admin queue connected there is torn down (all its queues close) and every other connection
    /// accepted there is closed. Hosts connected to the discovery controller get a discovery log change notice.
    /// The port's ANA states are kept for when it is added again.
    /// </summary>
    /// <returns>False if no port with that PORTID is listening.</returns>
    public bool RemovePort(ushort portId)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        TargetPort? port;
        lock (_ports)
        {
            port = _ports.Find(p => p.PortId == portId);
            if (port is null)
            {
                return false;
            }

            _ports.Remove(port);
        }

        StopListening(port);
        foreach (var controller in AllSubsystems.SelectMany(s => s.Controllers).Where(c => c.PortId == portId).ToArray())
        {
            controller.TearDown($"port {portId} removed");
        }

        foreach (var connection in _connections.Keys.Where(c => c.Port.PortId == portId))
        {
            connection.Abort();
        }

        Log.PortRemoved(portId, port.EndPoint);
        RaiseDiscoveryLogChanged();
        return true;
    }

    /// <summary>
    /// Sets the ANA state of <paramref name="groupId"/> as seen through <paramref name="portId"/> (nvmet's
    /// <c>ports/N/ana_groups/G/ana_state</c>); every pair starts <see cref="AnaState.Optimized"/>. As a write to that
    /// file does, every call counts as a change, even to the same state: the log's CHGCNT and the group's go up, and
    /// each I/O controller whose admin queue came through that port gets an ANA change notice (DW0 0x000C0302) if
    /// it enabled them (Asynchronous Event Configuration bit 11, on by default) and has read log 0Ch (with RAE
    /// clear) since its last one. I/O to the group's namespaces through the port then completes with ANA
    /// Inaccessible, Persistent Loss or Transition (SCT 3, DNR clear) when the state says so.
    /// </summary>
    /// <exception cref="ArgumentException">No port with that PORTID was ever added.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="groupId"/> is not 1 to
    /// <see cref="NvmeTargetOptions.AnaGroupMax"/>, or <paramref name="state"/> is not a state the log reports.</exception>
    public void SetAnaState(ushort portId, uint groupId, AnaState state)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (state is not (AnaState.Optimized or AnaState.NonOptimized or AnaState.Inaccessible or AnaState.PersistentLoss or AnaState.Change))
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "Not an ANA state.");
        }

        var states = AnaStatesOf(portId, groupId);
        lock (_anaStates)
        {
            states.Set(groupId, state);
            Interlocked.Increment(ref _anaChangeCount);
        }

        Log.AnaStateSet(portId, groupId, state);
        foreach (var controller in _subsystems.Values.SelectMany(s => s.Controllers).Where(c => c.PortId == portId))
        {
            controller.RaiseNotice(AsyncEventNotice.AnaChange);
        }
    }

    /// <summary>The ANA state of <paramref name="groupId"/> as seen through <paramref name="portId"/>.</summary>
    /// <exception cref="ArgumentException">No port with that PORTID was ever added.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="groupId"/> is not 1 to <see cref="NvmeTargetOptions.AnaGroupMax"/>.</exception>
    public AnaState GetAnaState(ushort portId, uint groupId) => AnaStatesOf(portId, groupId)[groupId];

    /// <summary>The ports listening now, in the order they were added (a snapshot).</summary>
    internal IReadOnlyList<TargetPort> ListeningPorts
    {
        get
        {
            lock (_ports)
            {
                return _ports.ToArray();
            }
        }
    }

    /// <summary>A consistent view of the ANA log's counts and the port's states, for log 0Ch.</summary>
    internal (ulong ChangeCount, PortAnaStates States) AnaSnapshot(ushort portId)
    {
        lock (_anaStates)
        {
            return ((ulong)Interlocked.Read(ref _anaChangeCount), _anaStates[portId]);
        }
    }

    private static IEnumerable<NvmeTargetPort> ConfiguredPorts(NvmeTargetOptions options) =>
        options.Ports.Count == 0 ? [new NvmeTargetPort(options.PortId, options.ListenEndPoint) { Tls = options.Tls }] : options.Ports;

    private PortAnaStates AnaStatesOf(ushort portId, uint groupId)
    {
        ArgumentOutOfRangeException.ThrowIfZero(groupId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(groupId, Options.AnaGroupMax);
        return _anaStates.TryGetValue(portId, out var states) ? states : throw new ArgumentException($"No port {portId}.", nameof(portId));
    }

    private void CheckAnaGroups(IEnumerable<NvmeNamespaceOptions> namespaces)
    {
        foreach (var ns in namespaces)
        {
            if (ns is not null && (ns.AnaGroupId == 0 || ns.AnaGroupId > Options.AnaGroupMax))
            {
                throw new ArgumentException($"Namespace {ns.Nsid}: ANA group {ns.AnaGroupId} is not 1 to {Options.AnaGroupMax} (AnaGroupMax).", nameof(namespaces));
            }
        }
    }

    private NvmeTargetPort AddPortCore(NvmeTargetPort port)
    {
        ArgumentNullException.ThrowIfNull(port.EndPoint);
        lock (_ports)
        {
            if (_ports.Exists(p => p.PortId == port.PortId))
            {
                throw new ArgumentException($"Port {port.PortId} is listening already.", nameof(port));
            }

            var listener = new Socket(port.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // No ReuseAddress: on Linux .NET maps it to SO_REUSEPORT too, which would let two listeners share an
                // endpoint. A removed port's endpoint is free again anyway: .NET binds with SO_REUSEADDR on Unix, so
                // the connections it closed (TIME_WAIT) do not hold the address.
                listener.Bind(port.EndPoint);
                listener.Listen(128);
            }
            catch
            {
                listener.Dispose();
                throw;
            }

            var bound = new TargetPort(port.PortId, listener, _anaStates.GetOrAdd(port.PortId, _ => new PortAnaStates(Options.AnaGroupMax))) { Tls = port.Tls };
            _ports.Add(bound);
            bound.AcceptLoop = Task.Run(() => AcceptLoopAsync(bound), CancellationToken.None);
            Log.Listening(bound.EndPoint);
            return bound.ToPublic();
        }
    }

    /// <summary>Stops every port's listener; returns their accept loops.</summary>
    private Task[] StopListening()
    {
        lock (_ports)
        {
            foreach (var port in _ports)
            {
                StopListening(port);
            }

            return _ports.Select(p => p.AcceptLoop).ToArray();
        }
    }

    private static void StopListening(TargetPort port)
    {
        port.Stopping.Cancel();
        port.Listener.Dispose();
    }

    private async Task AcceptLoopAsync(TargetPort port)
    {
        while (!_stopping.IsCancellationRequested && !port.Stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await port.Listener.AcceptAsync(port.Stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            socket.NoDelay = true;
            var host = (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
            if (!TryAdmit(host))
            {
                Log.LimitReached("MaxConnections", socket.RemoteEndPoint, $"{_connections.Count} connections open, {_perHost.GetValueOrDefault(host)} from this host (at most {Options.MaxConnections}, {Options.MaxConnectionsPerHost} per host)");
                socket.Dispose();
                continue;
            }

            var connection = new TargetConnection(this, socket, MaxDataLength(), port);
            var run = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connections[connection] = run.Task;
            if (port.Stopping.IsCancellationRequested)
            {
                // RemovePort ran between the accept and the line above, and did not see this connection.
                connection.Abort();
            }

            // Tracked in _connections until it has ended, whatever ends it: DisposeAsync waits for these tasks.
            _ = Task.Run(async () =>
            {
                try
                {
                    await connection.RunAsync().ConfigureAwait(false);
                }
                finally
                {
                    _connections.TryRemove(connection, out _);
                    Release(host);
                    run.SetResult();
                }
            });
        }
    }
}
