using System.Collections.Concurrent;
using NvmeTcp.Client;
using NvmeTcp.Protocol;
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
    public const uint Version = 0x00020000;

    /// <summary>Asynchronous Event Requests outstanding at most (AERL + 1), as nvmet's NVMET_ASYNC_EVENTS.</summary>
    public const byte MaxAsyncEvents = 4;

    /// <summary>Entries of the error information log (ELPE + 1).</summary>
    public const byte ErrorLogEntries = 64;

    /// <summary>Keep-alive timeout nvmet gives a discovery controller connected with KATO 0 (NVMET_DISC_KATO_MS).</summary>
    public const uint DiscoveryDefaultKatoMs = 120_000;

    private const uint CcEnable = 1;
    private const uint CstsReady = 1;
    private const uint CstsFatal = 1 << 1;
    private const uint CstsShutdownComplete = 2 << 2;

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

    public Controller(NvmeTcpTarget target, TargetSubsystem subsystem, ushort cntlid, string hostNqn, Guid hostId, uint katoMs)
    {
        _target = target;
        Subsystem = subsystem;
        Cntlid = cntlid;
        HostNqn = hostNqn;
        HostId = hostId;
        SupportedEvents = subsystem.IsDiscovery ? AsyncEventBits.DiscoveryLogChange : AsyncEventBits.NamespaceAttribute;
        _asyncEventConfig = SupportedEvents;
        _keepAliveTimer = target.Options.TimeProvider.CreateTimer(static s => ((Controller)s!).OnKeepAliveTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        SetKeepAliveTimeout(katoMs == 0 && subsystem.IsDiscovery ? DiscoveryDefaultKatoMs : katoMs);
    }

    public TargetSubsystem Subsystem { get; }

    public ushort Cntlid { get; }

    public string HostNqn { get; }

    public Guid HostId { get; }

    /// <summary>OAES: the asynchronous events this controller can send.</summary>
    public uint SupportedEvents { get; }

    /// <summary>CAP: MQES, CQR 1, TO 15 (7.5 s, as nvmet), CSS NVM (bit 37) and I/O command sets (bit 43), MPSMIN 0.</summary>
    public ulong Cap => (ulong)(Subsystem.MaxQueueSize - 1) | (1UL << 16) | (15UL << 24) | (1UL << 37) | (1UL << 43);

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

    public bool IsReady => (Csts & CstsReady) != 0 && (Cc & CcEnable) != 0;

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
            if ((value & CcEnable) != 0 && (old & CcEnable) == 0)
            {
                var iosqes = (value >> 16) & 0xF;
                var iocqes = (value >> 20) & 0xF;
                var mps = (value >> 7) & 0xF;
                var ams = (value >> 11) & 0x7;
                var css = (value >> 4) & 0x7;
                var badQueueEntries = !Subsystem.IsDiscovery && (iosqes != 6 || iocqes != 4);
                _csts = badQueueEntries || mps != 0 || ams != 0 || css is not (0 or 6) || Subsystem.ControllersFatal ? CstsFatal : CstsReady;
                if (_csts == CstsReady)
                {
                    ArmKeepAlive();
                }
            }

            if ((value & CcEnable) == 0 && (old & CcEnable) != 0)
            {
                _csts &= ~CstsReady;
                _cc = 0;
            }

            var shn = (value >> 14) & 0x3;
            var oldShn = (old >> 14) & 0x3;
            if (shn != 0 && oldShn == 0)
            {
                _csts &= ~CstsReady;
                _cc &= ~CcEnable;
                _csts |= CstsShutdownComplete;
            }

            if (shn == 0 && oldShn != 0)
            {
                _csts &= ~CstsShutdownComplete;
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
            _csts |= CstsFatal;
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
            _katoMs = katoMs == 0 ? 0 : (uint)Math.Min(uint.MaxValue, (katoMs + (ulong)unit - 1) / unit * unit);
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
            _csts |= CstsFatal;
        }

        _target.Log.KeepAliveExpired(Cntlid, Subsystem.Nqn, KeepAliveTimeoutMs);
        TearDown("keep-alive timeout");
    }
}

/// <summary>Asynchronous Event Configuration and OAES bits (NVMe Base 2.0 5.27.1.7).</summary>
internal static class AsyncEventBits
{
    public const uint NamespaceAttribute = 1 << 8;
    public const uint DiscoveryLogChange = 1u << 31;
}
