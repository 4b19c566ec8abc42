using System.Net;

namespace NvmeTcp.Client;

/// <summary>
/// How a <see cref="NvmeSubsystem"/> picks the path for each I/O, as Linux's <c>iopolicy</c> names them
/// (<c>Documentation/admin-guide/nvme-multipath.rst</c>). Every policy uses ANA Optimized paths while one is
/// usable and ANA Non-Optimized paths only when none is; never Inaccessible, Persistent Loss or Change.
/// </summary>
public enum NvmeIoPolicy
{
    /// <summary>
    /// <c>numa</c>: Linux picks the path closest to the submitting CPU's node. A user-space process cannot see which
    /// NIC is local, so this is the first usable path in path order: all I/O on one path until it stops being usable.
    /// </summary>
    Numa,

    /// <summary><c>round-robin</c>: each I/O goes to the next usable path in turn.</summary>
    RoundRobin,

    /// <summary><c>queue-depth</c> (Linux 6.11+): each I/O goes to the usable path with the fewest I/Os in flight.</summary>
    QueueDepth,
}

/// <summary>Settings of a <see cref="NvmeSubsystem"/>: where its paths are, and how I/O is spread and failed over.</summary>
public sealed class NvmeMultipathOptions
{
    /// <summary>
    /// Host identity, subsystem NQN, queues, digests, timeouts and authentication for every path (each path is a
    /// controller connected with a copy of these). <see cref="NvmeTcpOptions.Address"/> and
    /// <see cref="NvmeTcpOptions.Port"/> are ignored; the paths come from <see cref="Paths"/> and <see cref="DiscoveryEndPoints"/>.
    /// </summary>
    public NvmeTcpOptions Template { get; set; } = new();

    /// <summary>The paths to connect: one controller per endpoint (address and port of an NVMe/TCP I/O port).</summary>
    public IList<DnsEndPoint> Paths { get; } = new List<DnsEndPoint>();

    /// <summary>
    /// Discovery controllers to ask for more paths: every TCP entry of the discovery log with the template's
    /// subsystem NQN becomes a path, following referrals (up to 4 deep, each endpoint once).
    /// </summary>
    public IList<DnsEndPoint> DiscoveryEndPoints { get; } = new List<DnsEndPoint>();

    /// <summary>
    /// Keep a connection to each discovery controller of <see cref="DiscoveryEndPoints"/> (with keep-alive), and add or
    /// remove paths as discovery log change notices report them (see <see cref="NvmePersistentDiscovery"/>).
    /// </summary>
    public bool PersistentDiscovery { get; set; }

    /// <summary>The path selection policy; it can also be changed later through <see cref="NvmeSubsystem.IoPolicy"/>.</summary>
    public NvmeIoPolicy IoPolicy { get; set; } = NvmeIoPolicy.Numa;

    /// <summary>
    /// How long an I/O waits while no path is usable (Linux's <c>queue_if_no_path</c>) before it fails with
    /// <see cref="NvmeNoPathException"/>. Null (the default): <see cref="NvmeTcpOptions.FastIoFailTimeout"/> of the
    /// template when set, else its <see cref="NvmeTcpOptions.ControllerLossTimeout"/>. I/O fails at once when every
    /// path's controller is deleted.
    /// </summary>
    public TimeSpan? NoPathTimeout { get; set; }

    /// <summary>
    /// The most attempts one I/O makes across paths (the first included) before its last error is returned, so that a
    /// command never bounces between paths forever. Default 16.
    /// </summary>
    public int MaxAttempts { get; set; } = 16;

    /// <summary>Checks the settings; throws <see cref="ArgumentException"/> on the first bad one.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Template);
        Template.Validate();
        if (Template.SubsystemNqn == NvmeTcpOptions.DiscoveryNqn)
        {
            throw new ArgumentException("A subsystem is made of I/O controllers: set Template.SubsystemNqn to an NVM subsystem's NQN, not the discovery NQN.", nameof(Template));
        }

        if (Paths.Count == 0 && DiscoveryEndPoints.Count == 0)
        {
            throw new ArgumentException("Give at least one path or one discovery endpoint.", nameof(Paths));
        }

        if (PersistentDiscovery && DiscoveryEndPoints.Count == 0)
        {
            throw new ArgumentException("PersistentDiscovery needs at least one discovery endpoint.", nameof(PersistentDiscovery));
        }

        if (MaxAttempts < 1)
        {
            throw new ArgumentException("MaxAttempts must be at least 1.", nameof(MaxAttempts));
        }

        if (NoPathTimeout is { } wait && wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException("NoPathTimeout must be zero, positive or infinite.", nameof(NoPathTimeout));
        }
    }

    internal TimeSpan EffectiveNoPathTimeout => NoPathTimeout ?? Template.FastIoFailTimeout ?? Template.ControllerLossTimeout;
}
