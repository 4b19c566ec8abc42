using Microsoft.Extensions.Logging;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>
/// How to reach and bring up an NVMe/TCP controller. Names and defaults follow nvme-cli's <c>connect</c> and the Linux
/// host driver: port 4420, KATO 5 s, admin timeout 60 s, I/O timeout 30 s, ICResp timeout 10 s, queue size 128.
/// </summary>
public sealed class NvmeTcpOptions
{
    /// <summary>The NQN of the discovery subsystem every NVMe-oF target serves: <see cref="NvmeQualifiedName.Discovery"/>.</summary>
    public const string DiscoveryNqn = NvmeQualifiedName.Discovery;

    /// <summary>The IANA port for NVMe/TCP I/O controllers.</summary>
    public const int DefaultPort = 4420;

    /// <summary>The IANA port for NVMe/TCP discovery controllers.</summary>
    public const int DefaultDiscoveryPort = 8009;

    private Guid? _hostId;
    private string? _hostNqn;

    /// <summary>TRADDR: the target's host name or IP address.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>TRSVCID: the target's TCP port.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>SUBNQN: the subsystem to connect to (<see cref="DiscoveryNqn"/> for a discovery controller).</summary>
    public string SubsystemNqn { get; set; } = DiscoveryNqn;

    /// <summary>
    /// HOSTID: this host's identifier, sent in every Connect. Default: <see cref="NvmeHostIdentity.Default"/>'s, stable
    /// across connections and runs (nvme-cli's <c>/etc/nvme/hostid</c>, <c>NVMETCP_HOSTID</c>, or a per-user file).
    /// </summary>
    public Guid HostId
    {
        get => _hostId ?? NvmeHostIdentity.Default.HostId;
        set => _hostId = value;
    }

    /// <summary>
    /// HOSTNQN: this host's NQN. Default: <see cref="NvmeHostIdentity.Default"/>'s when <see cref="HostId"/> was not set,
    /// else nvme-cli's form <c>nqn.2014-08.org.nvmexpress:uuid:&lt;HostId&gt;</c>.
    /// </summary>
    public string HostNqn
    {
        get => _hostNqn ?? (_hostId is { } id ? NvmeHostIdentity.NqnOf(id) : NvmeHostIdentity.Default.HostNqn);
        set => _hostNqn = value;
    }

    /// <summary>
    /// The host's DH-HMAC-CHAP secret (nvme-cli's <c>--dhchap-secret</c>): when a controller's Connect response asks for
    /// authentication (AUTHREQ ATR), every queue authenticates with it, on every reconnect too. Null (the default)
    /// means this host cannot authenticate, and such a controller is refused with <see cref="NvmeAuthenticationException"/>.
    /// </summary>
    public DhchapSecret? DhchapSecret { get; set; }

    /// <summary>
    /// The controller's DH-HMAC-CHAP secret (nvme-cli's <c>--dhchap-ctrl-secret</c>): set it to authenticate the
    /// controller too (bidirectional). A controller that cannot prove it knows this secret, or does not ask for
    /// authentication at all, is refused. Needs <see cref="DhchapSecret"/>.
    /// </summary>
    public DhchapSecret? DhchapControllerSecret { get; set; }

    /// <summary>
    /// Secure channel concatenation (nvme-cli's <c>--concat</c>, Linux 6.15+): the admin queue authenticates with
    /// DH-HMAC-CHAP in the clear, asking for a new TLS PSK (AUTH_Negotiate SC_C NEWTLSPSK); both sides derive that PSK
    /// from the exchange (identity <c>NVMe1Ghh NQNh NQNc digest</c>), and the admin queue is then brought up again inside
    /// TLS with it, the I/O queues too. Every reconnect starts in the clear again and generates a new PSK. Needs
    /// <see cref="DhchapSecret"/>, and the controller must choose a DH group other than NULL (the exchange is refused
    /// with <see cref="NvmeAuthenticationException"/>, reason "secure channel concatenation mismatch", otherwise). Only
    /// SHA-256 and SHA-384 are offered: TLS 1.3 has no SHA-512 suite. With <see cref="DhchapControllerSecret"/> the
    /// controller is authenticated too before the PSK is used (Linux's host skips that with concatenation).
    /// </summary>
    public bool Concatenation { get; set; }

    /// <summary>
    /// TLS 1.3 with a pre-shared key on every queue (admin and I/O, on every reconnect too), nvme-cli's <c>--tls</c> /
    /// <c>--tls-key</c>. Null (the default): plain TCP, and a discovery log entry whose TREQ requires a secure channel
    /// is refused with <see cref="NvmeTlsException"/>. A failed handshake raises <see cref="NvmeTlsException"/>; there is
    /// no fallback to plain TCP.
    /// </summary>
    public NvmeTlsOptions? Tls { get; set; }

    /// <summary>Sets <see cref="HostNqn"/> and <see cref="HostId"/> from <paramref name="identity"/>.</summary>
    /// <param name="identity">The identity, e.g. <see cref="NvmeHostIdentity.CreateRandom"/> for a throw-away one.</param>
    public void UseIdentity(NvmeHostIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        _hostId = identity.HostId;
        _hostNqn = identity.HostNqn;
    }

    /// <summary>Ask for header digests (CRC-32C over every PDU header); nvme-cli's <c>--hdr-digest</c>.</summary>
    public bool HeaderDigest { get; set; }

    /// <summary>Ask for data digests (CRC-32C over all data); nvme-cli's <c>--data-digest</c>.</summary>
    public bool DataDigest { get; set; }

    /// <summary>I/O queues to ask for (each a TCP connection); the controller may grant fewer. nvme-cli's <c>--nr-io-queues</c>. Default: the processor count.</summary>
    public int IoQueueCount { get; set; } = Environment.ProcessorCount;

    /// <summary>Commands outstanding per I/O queue; nvme-cli's <c>--queue-size</c> (capped at CAP.MQES + 1).</summary>
    public int IoQueueSize { get; set; } = 128;

    /// <summary>KATO sent in the admin Connect; Keep Alive goes out every half of it. Zero disables keep-alive. nvme-cli's <c>--keep-alive-tmo</c>.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time between reconnect attempts after the association fails; nvme-cli's <c>--reconnect-delay</c> (Linux default 10 s).</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long to keep trying to reconnect before the controller is deleted; nvme-cli's <c>--ctrl-loss-tmo</c> (Linux
    /// default 600 s). <see cref="Timeout.InfiniteTimeSpan"/> retries forever; zero never reconnects.
    /// </summary>
    public TimeSpan ControllerLossTimeout { get; set; } = TimeSpan.FromSeconds(600);

    /// <summary>
    /// How long new I/O waits for a reconnect before failing; nvme-cli's <c>--fast_io_fail_tmo</c>. Null (the Linux
    /// default, off) lets I/O wait until the controller is live again or deleted.
    /// </summary>
    public TimeSpan? FastIoFailTimeout { get; set; }

    /// <summary>Time for the TCP connection and the ICReq/ICResp exchange of each queue.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time an admin command may take before the association is reset.</summary>
    public TimeSpan AdminTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Time an I/O command may take before the association is reset.</summary>
    public TimeSpan IoTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// MAXR2T offered in ICReq, 0's based: how many R2Ts one command may have outstanding, minus one. Linux offers 0
    /// (one at a time); a larger value lets a controller pipeline the data of big writes.
    /// </summary>
    public int MaxR2T { get; set; }

    /// <summary>Largest data transfer of one command; larger reads and writes are split. The controller's MDTS caps it further.</summary>
    public int MaxTransferSize { get; set; } = 1 << 20;

    /// <summary>
    /// Whether each queue's connection receives on a thread of its own that sleeps in the kernel in recv(2)
    /// instead of asynchronous socket reads completed through .NET's socket event loop and the thread pool. Off by
    /// default. On, a queue costs a thread, and a completion needs no hand-off between the event loop and a pool
    /// thread: at low queue depth the process does less and waits less per I/O (bench/RESULTS.md). The TLS transport
    /// always reads asynchronously.
    /// </summary>
    public bool DedicatedReceiveThreads { get; set; }

    /// <summary>
    /// Whether a command's completion, and so the code that awaits it, runs on the thread that received it rather than
    /// on a thread pool thread. Off by default. On, a queue at depth 1 needs no thread switch at all between the
    /// controller's answer and the next submission; but that code then holds up the queue's receiving while it runs,
    /// so it should not block (no synchronous wait on another command of the same controller, no long work). Code that
    /// blocks anyway delays the queue's other completions by about a tick of its timeout timer (<see cref="IoTimeout"/>
    /// / 10, between 10 ms and 1 s), and never deadlocks it: with <see cref="DedicatedReceiveThreads"/>, a new receive
    /// thread then takes the queue's receiving over (the blocked one ends when that code returns); without, the
    /// socket's next read is posted before callers' code runs, and a pool thread delivers what completes meanwhile.
    /// </summary>
    public bool InlineCompletions { get; set; }

    /// <summary>The clock of every timeout, delay and keep-alive; tests pass a fake one. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where logs go; nothing is logged per I/O above Trace, and no secret ever is.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>A copy, so a caller's later changes do not affect a live controller.</summary>
    public NvmeTcpOptions Clone()
    {
        var copy = (NvmeTcpOptions)MemberwiseClone();
        copy.Tls = Tls?.Clone();
        return copy;
    }

    /// <summary>Where a controller counts what it holds (sockets, background work, command slots); tests pass their own to check for leaks even when the connect fails.</summary>
    internal Transport.ResourceCounters? Resources { get; set; }

    /// <summary>
    /// Set from a discovery log entry whose TREQ says a secure channel is required (<see cref="NvmeDiscovery.OptionsFor"/>):
    /// the connect then refuses to run without TLS, whatever <see cref="NvmeTlsOptions.Required"/> says.
    /// </summary>
    internal bool SecureChannelRequired { get; set; }

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(TimeProvider);
        if (string.IsNullOrWhiteSpace(Address))
        {
            throw new ArgumentException("Address is required.", nameof(Address));
        }

        if (Port is < 1 or > 65535)
        {
            throw new ArgumentException("Port must be 1 to 65535.", nameof(Port));
        }

        if (DhchapControllerSecret is not null && DhchapSecret is null)
        {
            throw new ArgumentException("DhchapControllerSecret needs DhchapSecret: the host authenticates first.", nameof(DhchapControllerSecret));
        }

        Tls?.Validate();

        if (Concatenation && DhchapSecret is null)
        {
            throw new ArgumentException("Concatenation needs DhchapSecret: the TLS PSK is generated by DH-HMAC-CHAP (with a DH group other than NULL).", nameof(Concatenation));
        }

        // Linux refuses both ("Secure concatenation over TLS is not supported", "Cannot specify a TLS key for secure
        // concatenation"): the generated PSK is the only key.
        if (Concatenation && Tls is not null)
        {
            throw new ArgumentException("Concatenation generates its own TLS PSK: it cannot be combined with Tls.", nameof(Concatenation));
        }

        if (string.IsNullOrWhiteSpace(SubsystemNqn))
        {
            throw new ArgumentException("SubsystemNqn is required.", nameof(SubsystemNqn));
        }

        if (IoQueueCount is < 0 or > 65534)
        {
            throw new ArgumentException("IoQueueCount must be 0 to 65534.", nameof(IoQueueCount));
        }

        if (IoQueueSize is < 2 or > 4096)
        {
            throw new ArgumentException("IoQueueSize must be 2 to 4096.", nameof(IoQueueSize));
        }

        if (KeepAliveTimeout < TimeSpan.Zero || KeepAliveTimeout.TotalMilliseconds > uint.MaxValue)
        {
            throw new ArgumentException("KeepAliveTimeout is out of range.", nameof(KeepAliveTimeout));
        }

        if (MaxR2T is < 0 or > 255)
        {
            throw new ArgumentException("MaxR2T must be 0 to 255.", nameof(MaxR2T));
        }

        if (MaxTransferSize < 4096)
        {
            throw new ArgumentException("MaxTransferSize must be at least 4096.", nameof(MaxTransferSize));
        }

        if (ReconnectDelay < TimeSpan.Zero)
        {
            throw new ArgumentException("ReconnectDelay must not be negative.", nameof(ReconnectDelay));
        }

        if (ControllerLossTimeout < TimeSpan.Zero && ControllerLossTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException("ControllerLossTimeout must be zero, positive or infinite.", nameof(ControllerLossTimeout));
        }

        if (FastIoFailTimeout is { } fastIoFail && fastIoFail < TimeSpan.Zero)
        {
            throw new ArgumentException("FastIoFailTimeout must not be negative.", nameof(FastIoFailTimeout));
        }

        foreach (var (value, name) in new[] { (ConnectTimeout, nameof(ConnectTimeout)), (AdminTimeout, nameof(AdminTimeout)), (IoTimeout, nameof(IoTimeout)) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"{name} must be positive.", name);
            }
        }
    }
}
