using System.Collections.Concurrent;
using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Target.Internal.Execution;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// One dynamic controller (NVMe-oF 1.1 "Controller Model"): created by an admin-queue Connect, addressed by its
/// CNTLID from I/O-queue Connects, holding the properties (CC, CSTS), features, keep-alive timer, asynchronous events
/// and logs. Torn down when its admin queue goes away or its keep-alive timer expires; either way every connection
/// of the association is closed, as nvmet's <c>nvmet_tcp_delete_ctrl</c> shuts their sockets down.
/// </summary>
/// <remarks>
/// Admin commands arrive on one connection, I/O Connects and completions of asynchronous events on others, the
/// timer on the thread pool: state is guarded by <c>_sync</c>, never held across an await (there is none here).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The timer is disposed by TearDown, which every path that ends a controller calls.")]
internal sealed partial class Controller
{
    /// <summary>VS: NVMe 2.0.0.</summary>
    public static readonly uint Version = ControllerVersion.Create(2, 0);

    /// <summary>Asynchronous Event Requests outstanding at most (AERL + 1), as nvmet's NVMET_ASYNC_EVENTS.</summary>
    public const byte MaxAsyncEvents = 4;

    /// <summary>Entries of the error information log (ELPE + 1).</summary>
    public const byte ErrorLogEntries = 64;

    /// <summary>Keep-alive timeout nvmet gives a discovery controller connected with KATO 0 (NVMET_DISC_KATO_MS).</summary>
    public const uint DiscoveryDefaultKatoMs = 120_000;

    // The longest due time a timer takes, in milliseconds.
    private const ulong MaxTimerMs = uint.MaxValue - 1;

    // CAP.TO as nvmet: 15 units of 500 ms.
    private static readonly TimeSpan CapTimeout = TimeSpan.FromSeconds(7.5);

    private readonly object _sync = new();
    private readonly NvmeTcpTarget _target;
    private readonly ConcurrentDictionary<ushort, ITargetQueue> _queues = new();
    private readonly ITimer _keepAliveTimer;
    private uint _cc;
    private uint _csts;
    private uint _katoMs;
    private volatile bool _traffic;
    private int _grantedQueues;
    private int _torn;

    public Controller(NvmeTcpTarget target, TargetSubsystem subsystem, ushort cntlid, string hostNqn, Guid hostId, uint katoMs, ushort portId)
    {
        _target = target;
        PortId = portId;
        Subsystem = subsystem;
        Cntlid = cntlid;
        HostNqn = hostNqn;
        HostId = hostId;
        // nvmet's NVMET_AEN_CFG_OPTIONAL: namespace attribute and ANA change notices.
        SupportedEvents = (uint)(subsystem.IsDiscovery ? AsyncEventConfiguration.DiscoveryLogChange : AsyncEventConfiguration.NamespaceAttribute | AsyncEventConfiguration.AnaChange);
        _asyncEventConfig = SupportedEvents;
        _keepAliveTimer = target.Options.TimeProvider.CreateTimer(static s => ((Controller)s!).OnKeepAliveTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        SetKeepAliveTimeout(katoMs == 0 && subsystem.IsDiscovery ? DiscoveryDefaultKatoMs : katoMs);
    }

    public TargetSubsystem Subsystem { get; }

    public ushort Cntlid { get; }

    public string HostNqn { get; }

    public Guid HostId { get; }

    /// <summary>PORTID of the port the admin queue connected through (nvmet's <c>ctrl-&gt;port</c>): ANA notices follow it.</summary>
    public ushort PortId { get; }

    /// <summary>OAES: the asynchronous events this controller can send.</summary>
    public uint SupportedEvents { get; }

    /// <summary>CAP: MQES, CQR 1, TO 7.5 s (as nvmet), CSS NVM and I/O command sets, MPSMIN = MPSMAX = 4 KiB.</summary>
    public ulong Cap => ControllerCapabilities.Create(Subsystem.MaxQueueSize, CapTimeout, CommandSetsSupported.Nvm | CommandSetsSupported.IoCommandSets, contiguousQueuesRequired: true);

    public uint Cc
    {
        get
        {
            lock (_sync)
            {
                return _cc;
            }
        }
    }

    public uint Csts
    {
        get
        {
            lock (_sync)
            {
                return _csts;
            }
        }
    }

    public bool IsReady => ControllerStatus.IsReady(Csts) && ControllerConfiguration.IsEnabled(Cc);

    public bool IsTornDown => Volatile.Read(ref _torn) != 0;

    /// <summary>KATO in ms as in effect (rounded up to KAS units).</summary>
    public uint KeepAliveTimeoutMs
    {
        get
        {
            lock (_sync)
            {
                return _katoMs;
            }
        }
    }

    /// <summary>I/O queues granted by Set Features Number of Queues, or the subsystem's maximum if never set.</summary>
    public int GrantedQueues
    {
        get
        {
            lock (_sync)
            {
                return _grantedQueues == 0 ? Subsystem.MaxIoQueues : _grantedQueues;
            }
        }
    }

    /// <summary>Grants min(requested, configured) queues (NVMe Base 2.0 5.27.1.5); returns the granted count.</summary>
    public int GrantQueues(int requested)
    {
        lock (_sync)
        {
            _grantedQueues = Math.Clamp(requested, 1, Subsystem.MaxIoQueues);
            return _grantedQueues;
        }
    }

    /// <summary>
    /// Property Set CC, as nvmet's <c>nvmet_update_cc</c>: EN 0→1 checks IOSQES 6 and IOCQES 4 (I/O controllers
    /// only), MPS 0, AMS 0 and CSS NVM (000b) or all I/O command sets (110b), else CSTS.CFS; EN 1→0 clears RDY;
    /// SHN set reports the shutdown complete at once.
    /// </summary>
    public void SetCc(uint value)
    {
        lock (_sync)
        {
            var old = _cc;
            _cc = value;
            if (ControllerConfiguration.IsEnabled(value) && !ControllerConfiguration.IsEnabled(old))
            {
                var iosqes = ControllerConfiguration.IoSubmissionQueueEntrySize(value);
                var iocqes = ControllerConfiguration.IoCompletionQueueEntrySize(value);
                var pageSize = ControllerConfiguration.MemoryPageSize(value);
                var ams = ControllerConfiguration.ArbitrationMechanism(value);
                var css = ControllerConfiguration.CommandSet(value);
                var badQueueEntries = !Subsystem.IsDiscovery && (iosqes != ControllerConfiguration.SqeSizeLog2 || iocqes != ControllerConfiguration.CqeSizeLog2);
                var bad = badQueueEntries || pageSize != ControllerCapabilities.BasePageSize || ams != 0 || css is not (CommandSetSelection.Nvm or CommandSetSelection.AllIoCommandSets);
                _csts = bad || Subsystem.ControllersFatal ? ControllerStatus.Fatal : ControllerStatus.Ready;
                if (_csts == ControllerStatus.Ready)
                {
                    ArmKeepAlive();
                }
            }

            if (!ControllerConfiguration.IsEnabled(value) && ControllerConfiguration.IsEnabled(old))
            {
                _csts &= ~ControllerStatus.Ready;
                _cc = 0;
            }

            var shn = ControllerConfiguration.Shutdown(value);
            var oldShn = ControllerConfiguration.Shutdown(old);
            if (shn != ShutdownNotification.None && oldShn == ShutdownNotification.None)
            {
                _csts &= ~ControllerStatus.Ready;
                _cc &= ~ControllerConfiguration.Enable;
                _csts = ControllerStatus.WithShutdown(_csts, ShutdownStatus.Complete);
            }

            if (shn == ShutdownNotification.None && oldShn != ShutdownNotification.None)
            {
                _csts = ControllerStatus.WithShutdown(_csts, ShutdownStatus.Normal);
            }
        }
    }

    /// <summary>Registers the connection of queue <paramref name="qid"/>; false if that queue is already connected.</summary>
    public bool AddQueue(ushort qid, ITargetQueue connection) => !IsTornDown && _queues.TryAdd(qid, connection);

    /// <summary>A queue's connection closed. When it is the admin queue, the whole association ends.</summary>
    public void OnQueueClosed(ushort qid, ITargetQueue connection)
    {
        _queues.TryRemove(new KeyValuePair<ushort, ITargetQueue>(qid, connection));
        if (qid == 0)
        {
            TearDown("admin queue closed");
        }
    }

    /// <summary>Ends the association: every queue's connection is closed and the CNTLID freed.</summary>
    public void TearDown(string reason)
    {
        if (Interlocked.Exchange(ref _torn, 1) != 0)
        {
            return;
        }

        _keepAliveTimer.Dispose();
        Subsystem.RemoveController(this);
        _target.Log.ControllerTornDown(Cntlid, Subsystem.Nqn, reason);
        foreach (var queue in _queues.Values)
        {
            queue.Abort();
        }

        lock (_sync)
        {
            _pendingAers.Clear();
        }
    }

    /// <summary>As nvmet_ctrl_fatal_error: CSTS.CFS, then the association is deleted.</summary>
    public void Fatal(string reason)
    {
        lock (_sync)
        {
            _csts |= ControllerStatus.Fatal;
        }

        TearDown(reason);
    }

    /// <summary>Any command on any queue of the association: traffic-based keep alive (TBKAS), as nvmet resets its timer.</summary>
    public void NoteTraffic() => _traffic = true;

    /// <summary>Set Features Keep Alive Timer, or the Connect KATO: rounds up to KAS units, as nvmet rounds to seconds.</summary>
    public void SetKeepAliveTimeout(uint katoMs)
    {
        var unit = Math.Max(1u, Subsystem.Kas * 100u);
        lock (_sync)
        {
            // A timer holds at most 2^32 - 2 ms (ITimer.Change): a larger KATO (any from 4294967001 ms, once rounded
            // up) is clamped to the largest whole number of KAS units below that, about 49.7 days.
            var rounded = (katoMs + (ulong)unit - 1) / unit * unit;
            _katoMs = katoMs == 0 ? 0 : (uint)Math.Min(rounded, MaxTimerMs / unit * unit);
            ArmKeepAlive();
        }
    }

    private void ArmKeepAlive()
    {
        if (IsTornDown)
        {
            return;
        }

        _traffic = false;
        _keepAliveTimer.Change(_katoMs == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(_katoMs), Timeout.InfiniteTimeSpan);
    }

    private void OnKeepAliveTimer()
    {
        // A timer callback runs on the thread pool, where an exception would end the process.
        try
        {
            CheckKeepAlive();
        }
        catch (Exception e)
        {
            _target.Log.KeepAliveTimerFailed(Cntlid, e);
        }
    }

    private void CheckKeepAlive()
    {
        lock (_sync)
        {
            if (IsTornDown || _katoMs == 0)
            {
                return;
            }

            if (_traffic)
            {
                ArmKeepAlive();
                return;
            }

            // nvmet_keep_alive_timer: "keep alive timeout", then nvmet_ctrl_fatal_error: CSTS.CFS and delete_ctrl.
            _csts |= ControllerStatus.Fatal;
        }

        _target.Log.KeepAliveExpired(Cntlid, Subsystem.Nqn, KeepAliveTimeoutMs);
        TearDown("keep-alive timeout");
    }
}
