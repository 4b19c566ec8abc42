using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NvmeTcp.Client.Transport;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>What happened to a path of a <see cref="NvmeSubsystem"/>.</summary>
public enum NvmePathChange
{
    /// <summary>The path was added (connected and checked).</summary>
    Added,

    /// <summary>The path was removed; its controller is disposed.</summary>
    Removed,

    /// <summary>The path's controller changed state (<see cref="NvmePath.State"/>).</summary>
    StateChanged,

    /// <summary>The ANA state of a namespace through the path changed (<see cref="NvmePath.AnaStateOf"/>).</summary>
    AnaChanged,
}

/// <summary>A path of a <see cref="NvmeSubsystem"/> changed.</summary>
public sealed class NvmePathChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    /// <param name="path">The path.</param>
    /// <param name="change">What changed.</param>
    public NvmePathChangedEventArgs(NvmePath path, NvmePathChange change)
    {
        Path = path;
        Change = change;
    }

    /// <summary>The path.</summary>
    public NvmePath Path { get; }

    /// <summary>What changed.</summary>
    public NvmePathChange Change { get; }
}

/// <summary>
/// An NVM subsystem reached through several controllers (paths), as Linux's native NVMe multipath sees it: the
/// namespaces that are the same on every path (same NSID and identifiers), I/O routed to a path by ANA state and
/// <see cref="IoPolicy"/>, and I/O that fails on one path for a path reason sent again on another.
/// </summary>
/// <remarks>
/// <para>
/// Failover follows <c>nvme_failover_req</c>: an I/O that fails with a path-related status (SCT 3) or because its
/// path's connection failed goes again on another usable path; never when DNR is set, never on a path it already
/// failed on until the paths change, at most <see cref="NvmeMultipathOptions.MaxAttempts"/> times. While no path is
/// usable an I/O waits (<c>queue_if_no_path</c>) until one is, or fails with <see cref="NvmeNoPathException"/> after
/// <see cref="NvmeMultipathOptions.NoPathTimeout"/>.
/// </para>
/// <para>
/// A write, write zeroes or deallocate whose first attempt's fate is unknown (the connection failed after it was sent)
/// may therefore run twice, the second time through another controller. That is what a block device does too and is
/// safe for block I/O: both attempts write the same data to the same blocks, and a caller never sees the first
/// attempt's completion, so no later write of the caller can be ordered between them. It is not safe for commands
/// whose effect depends on the state they find (Compare and Write fused pairs, reservations); those are not offered here.
/// docs/MULTIPATH.md says what happens on each failure.
/// </para>
/// </remarks>
public sealed partial class NvmeSubsystem : IAsyncDisposable
{
    private static int s_pathNumber = -1;

    private readonly NvmeMultipathOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly object _lock = new();
    private readonly SerialEvents _events = new();
    private readonly CancellationTokenSource _stop = new();
    private NvmePath[] _paths = [];
    private NvmeSubsystemNamespace[] _namespaces = [];
    private TaskCompletionSource _changed = NewSignal();
    private NvmePersistentDiscovery[] _discovery = [];
    private int _policy;
    private int _pathCount;
    private bool _disposed;

    private NvmeSubsystem(NvmeMultipathOptions options)
    {
        _options = options;
        _logger = options.Template.LoggerFactory?.CreateLogger<NvmeSubsystem>() ?? NullLogger<NvmeSubsystem>.Instance;
        _time = options.Template.TimeProvider;
        _policy = (int)options.IoPolicy;
    }

    /// <summary>Raised when a path is added, removed, changes state or ANA state; in order, one at a time, on the thread pool.</summary>
    public event EventHandler<NvmePathChangedEventArgs>? PathChanged;

    /// <summary>The subsystem NQN.</summary>
    public string SubsystemNqn => _options.Template.SubsystemNqn;

    /// <summary>The host NQN every path uses.</summary>
    public string HostNqn => _options.Template.HostNqn;

    /// <summary>The paths, in the order they were added.</summary>
    public IReadOnlyList<NvmePath> Paths => Volatile.Read(ref _paths);

    /// <summary>The namespaces, by NSID.</summary>
    public IReadOnlyList<NvmeSubsystemNamespace> Namespaces => Volatile.Read(ref _namespaces);

    /// <summary>The path selection policy; may be changed at any time (I/O already routed is not moved).</summary>
    public NvmeIoPolicy IoPolicy
    {
        get => (NvmeIoPolicy)Volatile.Read(ref _policy);
        set => Volatile.Write(ref _policy, (int)value);
    }

    /// <summary>The namespace with NSID <paramref name="namespaceId"/>.</summary>
    /// <exception cref="KeyNotFoundException">No path reaches such a namespace.</exception>
    public NvmeSubsystemNamespace GetNamespace(uint namespaceId) =>
        Array.Find(Volatile.Read(ref _namespaces), n => n.Id == namespaceId) ?? throw new KeyNotFoundException($"Subsystem {SubsystemNqn} has no namespace {namespaceId} on any path.");

    /// <summary>
    /// Connects every path of <paramref name="options"/> (the listed endpoints, then what discovery reports for the
    /// subsystem NQN), checks that they reach the same namespaces, and returns the subsystem once at least one path is
    /// live. A path that cannot be connected or does not match is logged and left out; the call fails only when none
    /// is left.
    /// </summary>
    /// <param name="options">Paths, template and policy; copied where it matters.</param>
    /// <param name="cancellationToken">Cancels the bring-up; every path opened so far is closed.</param>
    /// <returns>The subsystem.</returns>
    /// <exception cref="NvmeException">No path could be connected; the inner exception is the first path's error.</exception>
    public static async Task<NvmeSubsystem> ConnectAsync(NvmeMultipathOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var subsystem = new NvmeSubsystem(options);
        try
        {
            var endPoints = new List<DnsEndPoint>(options.Paths);
            foreach (var discovery in options.DiscoveryEndPoints)
            {
                endPoints.AddRange(await subsystem.DiscoverAsync(discovery, cancellationToken).ConfigureAwait(false));
            }

            Exception? first = null;
            foreach (var endPoint in Distinct(endPoints))
            {
                try
                {
                    await subsystem.AddPathAsync(endPoint, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is NvmeException or System.Net.Sockets.SocketException or IOException)
                {
                    first ??= e;
                    Log.PathRefused(subsystem._logger, options.Template.SubsystemNqn, endPoint.Host, endPoint.Port, e.Message);
                }
            }

            if (subsystem.Paths.Count == 0)
            {
                throw new NvmeException($"No path to {options.Template.SubsystemNqn} could be connected ({endPoints.Count} tried).", first);
            }

            if (options.PersistentDiscovery)
            {
                await subsystem.StartPersistentDiscoveryAsync(cancellationToken).ConfigureAwait(false);
            }

            return subsystem;
        }
        catch
        {
            await subsystem.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Connects a controller at <paramref name="endPoint"/> with the template's settings and adds it as a path, once its
    /// subsystem NQN and every namespace it shares with the other paths match them.
    /// </summary>
    /// <param name="endPoint">The port's address and TCP port.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The new path; the existing one when a path to that endpoint is already there.</returns>
    /// <exception cref="NvmePathMismatchException">The controller is not a path to this subsystem's namespaces.</exception>
    public async Task<NvmePath> AddPathAsync(DnsEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Find(endPoint) is { } existing)
        {
            return existing;
        }

        var options = _options.Template.Clone();
        options.Address = endPoint.Host;
        options.Port = endPoint.Port;

        // The subsystem fails I/O over instead of letting it wait for one controller to come back.
        options.FastIoFailTimeout = TimeSpan.Zero;
        var controller = await NvmeController.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        NvmePath path;
        try
        {
            if (controller.Identify.SubsystemNqn != SubsystemNqn)
            {
                throw new NvmePathMismatchException($"The controller at {endPoint.Host}:{endPoint.Port} belongs to {controller.Identify.SubsystemNqn}, not {SubsystemNqn}.");
            }

            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (Find(endPoint) is { } raced)
                {
                    path = raced;
                }
                else
                {
                    path = new NvmePath($"nvme{Interlocked.Increment(ref s_pathNumber)}", _pathCount++, endPoint, controller);
                    Attach(path, strict: true);
                    _paths = [.. _paths, path];
                }
            }
        }
        catch
        {
            await controller.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (path.Controller != controller)
        {
            await controller.DisposeAsync().ConfigureAwait(false);
            return path;
        }

        controller.StateChanged += (_, e) => OnPathStateChanged(path, e);
        controller.AsyncEvent += (_, e) => OnPathAsyncEvent(path, e);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.PathAdded(_logger, SubsystemNqn, path.Name, endPoint.Host, endPoint.Port, controller.ControllerId);
        }

        Raise(path, NvmePathChange.Added);
        Signal();
        return path;
    }

    /// <summary>
    /// Takes <paramref name="path"/> out of routing and disposes its controller. I/O in flight on it fails over to the
    /// other paths like I/O on a failed connection.
    /// </summary>
    /// <param name="path">A path of this subsystem.</param>
    /// <returns>Completes once the controller is disposed; false when the path was already removed.</returns>
    public async Task<bool> RemovePathAsync(NvmePath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.MarkRemoved())
        {
            return false;
        }

        lock (_lock)
        {
            _paths = [.. _paths.Where(p => p != path)];
            foreach (var ns in _namespaces)
            {
                ns.Routes = [.. ns.Routes.Where(r => r.Path != path)];
            }
        }

        Signal();
        await path.Controller.DisposeAsync().ConfigureAwait(false);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.PathRemoved(_logger, SubsystemNqn, path.Name);
        }

        Raise(path, NvmePathChange.Removed);
        return true;
    }

    /// <summary>Stops persistent discovery, disposes every path's controller; I/O still waiting fails.</summary>
    /// <returns>Completes once every controller is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        NvmePath[] paths;
        NvmePersistentDiscovery[] discovery;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            paths = _paths;
            discovery = _discovery;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var watcher in discovery)
        {
            await watcher.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var path in paths)
        {
            await RemovePathAsync(path).ConfigureAwait(false);
        }

        Signal();
        _stop.Dispose();
    }

    private static IEnumerable<DnsEndPoint> Distinct(IEnumerable<DnsEndPoint> endPoints) =>
        endPoints.DistinctBy(e => (e.Host.ToUpperInvariant(), e.Port));

    private NvmePath? Find(DnsEndPoint endPoint) =>
        Array.Find(Volatile.Read(ref _paths), p => string.Equals(p.EndPoint.Host, endPoint.Host, StringComparison.OrdinalIgnoreCase) && p.EndPoint.Port == endPoint.Port);

    // Builds the path's routes from its controller's namespaces and ANA log. Under _lock. Strict (a new path): any
    // namespace that differs from the subsystem's refuses the whole path before anything changes. Not strict (a path
    // already in use whose namespaces changed): the namespace that differs loses this path, the others keep it.
    private void Attach(NvmePath path, bool strict)
    {
        var controller = path.Controller;
        var log = controller.AnaLog;
        var identities = new List<(NvmeNamespace Ns, NamespaceIdentity Identity, NvmeSubsystemNamespace? Existing)>();
        foreach (var ns in controller.Namespaces)
        {
            var identity = NamespaceIdentity.Of(ns);
            var existing = Array.Find(_namespaces, n => n.Id == ns.Id);
            string? why = null;
            if (existing is null && identity.IsEmpty && _paths.Length > 0)
            {
                why = "it reports no NGUID, EUI-64 or UUID, so it cannot be shown to be the same namespace on every path";
            }
            else if (existing is not null && !existing.Identity.SameAs(identity, out var differs))
            {
                why = differs;
            }
            else if (existing is not null && existing.BlockSize != ns.BlockSize)
            {
                why = $"its block size is {ns.BlockSize}, not {existing.BlockSize}";
            }

            if (why is not null)
            {
                var message = $"Path {path.EndPoint.Host}:{path.EndPoint.Port}: namespace {ns.Id} is not the subsystem's namespace {ns.Id}: {why}.";
                if (strict)
                {
                    throw new NvmePathMismatchException(message);
                }

                Log.PathRefused(_logger, SubsystemNqn, path.EndPoint.Host, path.EndPoint.Port, message);
                continue;
            }

            identities.Add((ns, identity, existing));
        }

        var namespaces = new List<NvmeSubsystemNamespace>(_namespaces);
        var states = new Dictionary<uint, AnaState>();
        foreach (var (ns, identity, existing) in identities)
        {
            var target = existing ?? new NvmeSubsystemNamespace(ns, identity);
            if (existing is null)
            {
                namespaces.Add(target);
            }

            var (group, state) = AnaOf(controller, log, ns);
            // The route replaces this path's old one in place: route order is path order.
            var route = new Route(path, ns, group, state);
            var routes = target.Routes;
            var at = Array.FindIndex(routes, r => r.Path == path);
            target.Routes = at < 0 ? [.. routes, route] : [.. routes[..at], route, .. routes[(at + 1)..]];
            states[ns.Id] = state;
        }

        // Namespaces this path no longer reaches lose their route through it.
        foreach (var ns in namespaces)
        {
            if (!states.ContainsKey(ns.Id) && ns.Routes.Any(r => r.Path == path))
            {
                ns.Routes = [.. ns.Routes.Where(r => r.Path != path)];
            }
        }

        path.AnaStates = states;
        _namespaces = [.. namespaces.OrderBy(n => n.Id)];
    }

    // The namespace's ANA group and state through this controller: its group from the log's NSID lists (or Identify
    // Namespace ANAGRPID when the log was read with RGO), the group's state from the log. A controller without ANA
    // reporting is optimized for everything.
    private static (uint Group, AnaState State) AnaOf(NvmeController controller, NvmeAnaLog? log, NvmeNamespace ns)
    {
        if (!controller.Identify.ReportsAna || log is null)
        {
            return (ns.Identify.Anagrpid, AnaState.Optimized);
        }

        var group = ns.Identify.Anagrpid;
        if (!log.GroupsOnly)
        {
            foreach (var g in log.Groups)
            {
                if (g.NamespaceIds.Contains(ns.Id))
                {
                    group = g.GroupId;
                    break;
                }
            }
        }

        var state = log.StateOf(group);

        // A group the log does not list: the namespace cannot be reached that way (Linux leaves it unusable too).
        return (group, state == AnaState.None ? AnaState.Inaccessible : state);
    }

    private void Refresh(NvmePath path)
    {
        IReadOnlyDictionary<uint, AnaState> before;
        IReadOnlyDictionary<uint, AnaState> after;
        lock (_lock)
        {
            if (path.IsRemoved || _disposed)
            {
                return;
            }

            before = path.AnaStates;
            Attach(path, strict: false);
            after = path.AnaStates;
        }

        var changed = false;
        foreach (var (nsid, state) in after)
        {
            if (!before.TryGetValue(nsid, out var old) || old != state)
            {
                changed = true;
                if (_logger.IsEnabled(LogLevel.Information))
                {
                    Log.PathAnaState(_logger, SubsystemNqn, nsid, path.Name, state);
                }

                if (state == AnaState.Change)
                {
                    _ = WatchTransitionAsync(path, nsid);
                }
            }
        }

        if (changed || before.Count != after.Count)
        {
            Raise(path, NvmePathChange.AnaChanged);
        }

        Signal();
    }

    private void OnPathStateChanged(NvmePath path, NvmeControllerStateChangedEventArgs e)
    {
        // A reconnected controller has a new association: new namespace objects and a fresh ANA log.
        if (e.Current == NvmeControllerState.Live)
        {
            Refresh(path);
        }

        Raise(path, NvmePathChange.StateChanged);
        Signal();
    }

    private void OnPathAsyncEvent(NvmePath path, NvmeAsyncEventArgs e)
    {
        // The controller re-read what the notice names (ANA log, namespaces) before raising it.
        if (e.IsAnaChange || e.IsNamespaceAttributeChanged)
        {
            Refresh(path);
        }
    }

    // A path-related status named an ANA state: use it at once, and read the log for the whole truth (once at a time).
    private void OnAnaStatus(Route route, AnaState implied)
    {
        if (implied != AnaState.None && route.State != implied)
        {
            route.State = implied;
            Signal();
        }

        var path = route.Path;
        if (path.Controller.Identify.ReportsAna && path.TryBeginAnaRefresh())
        {
            _ = RefreshAnaLogAsync(path);
        }
    }

    private async Task RefreshAnaLogAsync(NvmePath path)
    {
        try
        {
            await path.Controller.GetAnaLogAsync(cancellationToken: _stop.Token).ConfigureAwait(false);
            Refresh(path);
        }
        catch (Exception e) when (e is NvmeException or OperationCanceledException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested && !path.IsRemoved)
            {
                Log.AnaRefreshFailed(_logger, SubsystemNqn, path.Name, e.Message);
            }
        }
        finally
        {
            path.EndAnaRefresh();
        }
    }

    // ANA Change is bounded by ANATT (Identify Controller, seconds). Past it, read the log again in case a notice was
    // lost; if the group is still in transition, say so. The path stays unusable either way, as in Linux.
    private async Task WatchTransitionAsync(NvmePath path, uint nsid)
    {
        var anatt = Math.Max((int)path.Controller.Identify.Anatt, 1);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(anatt), _time, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (path.IsRemoved || path.AnaStateOf(nsid) != AnaState.Change)
        {
            return;
        }

        Log.AnaTransitionOverdue(_logger, SubsystemNqn, nsid, path.Name, anatt);
        if (path.TryBeginAnaRefresh())
        {
            await RefreshAnaLogAsync(path).ConfigureAwait(false);
        }
    }

    private void Raise(NvmePath path, NvmePathChange change)
    {
        if (PathChanged is { } handler)
        {
            var args = new NvmePathChangedEventArgs(path, change);
            _events.Post(() => handler(this, args));
        }
    }

    // Wakes I/O waiting for a usable path: it looks again.
    private void Signal() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
