using System.Net;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>
/// One path of a <see cref="NvmeSubsystem"/>: a controller of the subsystem reached through one port. The path owns
/// its controller (which reconnects by itself); the subsystem routes I/O to it while it is live and its ANA state
/// for the namespace allows.
/// </summary>
public sealed class NvmePath
{
    private long _inFlight;
    private long _completed;
    private int _removed;
    private int _anaRefreshing;

    internal NvmePath(string name, int number, DnsEndPoint endPoint, NvmeController controller)
    {
        Bit = 1UL << (number & 63);
        Name = name;
        EndPoint = endPoint;
        Controller = controller;
    }

    /// <summary>The path's name in this process (<c>nvme0</c>, <c>nvme1</c>, ...), as nvme-cli names controllers.</summary>
    public string Name { get; }

    /// <summary>The port this path connects to.</summary>
    public DnsEndPoint EndPoint { get; }

    /// <summary>The path's controller. Use the subsystem for I/O; the controller is here for its state, logs and admin commands.</summary>
    public NvmeController Controller { get; }

    /// <summary>The controller's state (<see cref="NvmeControllerState.Live"/> when I/O can go this way).</summary>
    public NvmeControllerState State => Controller.State;

    /// <summary>I/Os on this path now.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>I/Os this path completed successfully since it was added.</summary>
    public long CompletedIos => Interlocked.Read(ref _completed);

    /// <summary>Whether the path was removed from its subsystem (its controller is then disposed).</summary>
    public bool IsRemoved => Volatile.Read(ref _removed) != 0;

    /// <summary>The ANA state of namespace <paramref name="namespaceId"/> through this path, as the subsystem last learnt it.</summary>
    /// <param name="namespaceId">NSID.</param>
    /// <returns>The state; <see cref="AnaState.None"/> when the path does not reach that namespace.</returns>
    public AnaState AnaStateOf(uint namespaceId) => AnaStates.TryGetValue(namespaceId, out var state) ? state : AnaState.None;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {EndPoint.Host}:{EndPoint.Port} {State}";

    // NSID to state, replaced whole by the subsystem (readers see one snapshot).
    internal IReadOnlyDictionary<uint, AnaState> AnaStates { get; set; } = new Dictionary<uint, AnaState>();

    // This path's bit in an I/O's set of paths it failed on (paths beyond 64 share bits: they are then skipped together).
    internal ulong Bit { get; }

    internal bool IsLive => !IsRemoved && Controller.State == NvmeControllerState.Live;

    internal void Started() => Interlocked.Increment(ref _inFlight);

    internal void Finished(bool success)
    {
        Interlocked.Decrement(ref _inFlight);
        if (success)
        {
            Interlocked.Increment(ref _completed);
        }
    }

    internal bool MarkRemoved() => Interlocked.Exchange(ref _removed, 1) == 0;

    // One ANA log refresh at a time per path; more requests while one runs are covered by it.
    internal bool TryBeginAnaRefresh() => Interlocked.Exchange(ref _anaRefreshing, 1) == 0;

    internal void EndAnaRefresh() => Volatile.Write(ref _anaRefreshing, 0);
}
