using System.Net;
using Microsoft.Extensions.Logging;

namespace NvmeTcp.Target;

/// <summary>
/// How the target answers a digest the host asks for in its ICReq (NVMe/TCP 3.6.2.2): grant it, as Linux nvmet
/// does, or refuse it (the ICResp then leaves it off, which a strict host such as Linux treats as fatal).
/// </summary>
public enum NvmeDigestPolicy
{
    /// <summary>Enable the digest when the host asks for it (Linux nvmet's behaviour).</summary>
    AsRequested = 0,

    /// <summary>Never enable the digest, whatever the host asks.</summary>
    Refuse = 1,
}

/// <summary>When the last C2HData PDU of a read carries SUCCESS, so that no CapsuleResp follows (NVMe/TCP 3.6.2.8).</summary>
public enum NvmeC2HSuccessPolicy
{
    /// <summary>Only on queues connected with CATTR bit 2 (SQ flow control disabled), as Linux nvmet does.</summary>
    WhenSqFlowControlDisabled = 0,

    /// <summary>Never: every command ends with a CapsuleResp.</summary>
    Never = 1,

    /// <summary>On every successful read, as SPDK did before 2026 with its <c>c2h_success</c> option.</summary>
    Always = 2,
}

/// <summary>
/// What the target does with a reserved field of a host PDU that is not zero. NVMe Base 2.0 (1.5, "Reserved"):
/// receivers do not check reserved fields, so the default ignores them; checking them is a strict oracle mode for
/// testing hosts.
/// </summary>
public enum NvmeReservedFieldCheck
{
    /// <summary>Not checked, as the specification says of receivers (the default).</summary>
    Ignore = 0,

    /// <summary>Checked: a violation is recorded in <see cref="NvmeTargetTestHooks.Violations"/> and logged, and the PDU is handled as usual.</summary>
    Record = 1,

    /// <summary>Checked: a violation is recorded and answered with a C2HTermReq (FES 01h, FEI the byte), and the connection closes.</summary>
    Terminate = 2,
}

/// <summary>
/// Configuration of an <see cref="NvmeTcpTarget"/>: where it listens, what it negotiates in ICResp, how it moves data,
/// and which subsystems it serves. Read once by <see cref="NvmeTcpTarget.StartAsync"/>; later changes have no effect.
/// </summary>
public sealed class NvmeTargetOptions
{
    /// <summary>The conventional NVMe/TCP I/O port.</summary>
    public const int DefaultPort = 4420;

    /// <summary>The largest <see cref="AnaGroupMax"/> this target takes.</summary>
    public const uint MaxAnaGroupMax = ushort.MaxValue;

    /// <summary>
    /// Where to listen. Default 127.0.0.1:4420; port 0 picks a free port (read it back from
    /// <see cref="NvmeTcpTarget.EndPoint"/>).
    /// </summary>
    public IPEndPoint ListenEndPoint { get; set; } = new(IPAddress.Loopback, DefaultPort);

    /// <summary>
    /// CPDA sent in ICResp: the alignment of data in host-to-controller PDUs, in 0's based dwords (0 to 31).
    /// Default 0, as Linux nvmet (Linux hosts refuse anything else).
    /// </summary>
    public byte Cpda { get; set; }

    /// <summary>
    /// MAXH2CDATA sent in ICResp: the most data one H2CData PDU may carry. A dword multiple of at least 4096.
    /// Default 131072 (SPDK's value; nvmet sends 4 MiB). The receive buffer of each connection is sized from it.
    /// </summary>
    public int MaxH2CData { get; set; } = 128 * 1024;

    /// <summary>Whether a header digest the host asks for is granted. Default <see cref="NvmeDigestPolicy.AsRequested"/>.</summary>
    public NvmeDigestPolicy HeaderDigest { get; set; }

    /// <summary>Whether a data digest the host asks for is granted. Default <see cref="NvmeDigestPolicy.AsRequested"/>.</summary>
    public NvmeDigestPolicy DataDigest { get; set; }

    /// <summary>
    /// Largest data of one C2HData PDU; a read longer than that is sent in several PDUs. 0 (the default) sends each
    /// transfer in one PDU, as Linux nvmet does. Must be a multiple of 4 when set.
    /// </summary>
    public int C2HDataChunkSize { get; set; }

    /// <summary>When the last C2HData carries SUCCESS. Default: as Linux nvmet.</summary>
    public NvmeC2HSuccessPolicy C2HSuccess { get; set; }

    /// <summary>
    /// Largest R2TL of one R2T. 0 (the default) asks for all the remaining data in one R2T, as Linux nvmet does.
    /// Must be a multiple of 4 when set.
    /// </summary>
    public int R2TSize { get; set; }

    /// <summary>
    /// R2Ts the target keeps outstanding per command, further capped by the host's MAXR2T + 1. Default 1.
    /// </summary>
    public int MaxOutstandingR2Ts { get; set; } = 1;

    /// <summary>
    /// Reserved fields of host PDUs: ignored by default (NVMe Base 2.0: receivers do not check them); <see cref="NvmeReservedFieldCheck.Record"/>
    /// or <see cref="NvmeReservedFieldCheck.Terminate"/> make the target a strict oracle for testing hosts.
    /// </summary>
    public NvmeReservedFieldCheck ReservedFields { get; set; }

    /// <summary>
    /// Most connections open at once, over every host; a connection past it is closed as soon as it is accepted (and
    /// logged). Default 1024.
    /// </summary>
    public int MaxConnections { get; set; } = 1024;

    /// <summary>
    /// Most connections open at once from one host, told apart by IP address (before Connect nothing else names it); a
    /// Linux host uses one per queue, so 1 + I/O queues per controller. Default 128.
    /// </summary>
    public int MaxConnectionsPerHost { get; set; } = 128;

    /// <summary>
    /// How long an accepted connection may take to send its ICReq before it is closed; <see cref="TimeSpan.Zero"/>
    /// waits for ever. Default 10 s (Linux's host waits as long for the ICResp).
    /// </summary>
    public TimeSpan IcReqTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a PDU may take to arrive whole once its first byte has, and how long a send may wait for a host that
    /// takes none of it: a host that stops or trickles in the middle of a PDU, or never reads its replies, is closed
    /// after this. Time between PDUs does not count (keep-alive covers an idle host), nor time the target itself stops
    /// reading for back-pressure. <see cref="TimeSpan.Zero"/> waits for ever. Default 30 s.
    /// </summary>
    public TimeSpan PduTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Most bytes one connection holds for its host: replies queued and not yet written to the socket, and, counted
    /// apart, host data solicited by R2T. Past it the connection reads no more PDUs until the host has taken its
    /// replies, and a write waits for its R2T until earlier writes have their data. One command alone may exceed it
    /// (a transfer is at most MDTS). Default 8 MiB.
    /// </summary>
    public int MaxBufferedBytesPerConnection { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Most completions one connection holds queued and not yet written; past it the connection reads no more PDUs
    /// until the host has taken some. Default 256.
    /// </summary>
    public int MaxBufferedCommandsPerConnection { get; set; } = 256;

    /// <summary>
    /// Whether each plain-TCP connection receives on a thread of its own, named "nvmetcp tgt rx", that sleeps in the
    /// kernel (a blocking recv(2)) and handles the PDUs it reads inline: a command that completes at once (a null or memory
    /// namespace) is answered from that thread with a blocking send(2), with no thread-pool hop per I/O. The socket is
    /// then never used asynchronously (an asynchronous operation would register it with .NET's event loop, which wakes
    /// and hands work to the pool at every arrival). Replies queued from other threads (file namespaces, asynchronous
    /// events, fault rules) still leave through the connection's send loop, with blocking sends. Connections that start
    /// TLS, and every connection on a TLS port, keep the asynchronous path. Behaviour towards the host is the same
    /// either way; only the threads differ. Costs a thread per connection. Default false.
    /// </summary>
    public bool DedicatedReceiveThreads { get; set; }

    /// <summary>Whether the discovery subsystem (nqn.2014-08.org.nvmexpress.discovery) answers. Default true.</summary>
    public bool EnableDiscovery { get; set; } = true;

    /// <summary>
    /// Whether the discovery log starts with an entry for the discovery subsystem itself (SUBTYPE 3, "current
    /// discovery subsystem"), as Linux nvmet does since it supports unique discovery NQNs. Default false.
    /// </summary>
    public bool DiscoveryReportsItself { get; set; }

    /// <summary>
    /// Other discovery controllers this one refers hosts to: each becomes a discovery log entry of SUBTYPE 1
    /// (referral) with the discovery NQN and that endpoint. Empty by default.
    /// </summary>
    public IList<IPEndPoint> DiscoveryReferrals { get; } = new List<IPEndPoint>();

    /// <summary>TLS on the single port <see cref="ListenEndPoint"/> makes when <see cref="Ports"/> is empty. Default none.</summary>
    public NvmeTargetTls Tls { get; set; }

    /// <summary>PORTID of the single port <see cref="ListenEndPoint"/> makes when <see cref="Ports"/> is empty. Default 1.</summary>
    public ushort PortId { get; set; } = 1;

    /// <summary>
    /// The ports to listen on, each with its PORTID; every subsystem is served on each (a multipath target). Empty by
    /// default: the target then has one port, <see cref="PortId"/> on <see cref="ListenEndPoint"/>. PORTIDs are
    /// distinct.
    /// </summary>
    public IList<NvmeTargetPort> Ports { get; } = new List<NvmeTargetPort>();

    /// <summary>
    /// ANATT, the ANA Transition Time in Identify Controller: the seconds a host waits for a group in ANA Change
    /// before it may treat it as inaccessible. Default 10, as nvmet.
    /// </summary>
    public byte AnaTransitionTime { get; set; } = 10;

    /// <summary>
    /// The largest ANA group ID (ANAGRPMAX, and NANAGRPID, in Identify Controller): namespaces take groups 1 to this.
    /// 1 to <see cref="MaxAnaGroupMax"/>; default 128, as nvmet's NVMET_MAX_ANAGRPS.
    /// </summary>
    public uint AnaGroupMax { get; set; } = 128;

    /// <summary>The NVM subsystems served.</summary>
    public IList<NvmeSubsystemOptions> Subsystems { get; } = new List<NvmeSubsystemOptions>();

    /// <summary>Where the target logs connections, controllers and every host violation; none by default.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>
    /// The clock behind every timer and delay of the target: the keep-alive timers, fault delays
    /// (<see cref="NvmeFaultAction.Delay"/>, <see cref="NvmeFaultAction.Split"/>) and the bound on disposal. Default
    /// <see cref="TimeProvider.System"/>; tests pass a fake one to expire a keep-alive without waiting for it.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
