using System.Collections.Concurrent;
using NvmeTcp.Target.Internal;

namespace NvmeTcp.Target;

/// <summary>
/// What a target offers tests and demos beside serving hosts: fault injection, the record of host violations, a
/// keep-alive counter, a namespace's memory use, and a switch that makes controllers fail. Reached through
/// <see cref="NvmeTcpTarget.Testing"/>; a target serving hosts needs none of it.
/// </summary>
/// <remarks>
/// Thread-safe. <see cref="SetControllersFatal"/> and <see cref="GetAllocatedPageCount"/> throw
/// <see cref="ObjectDisposedException"/> after the target is disposed and <see cref="ArgumentException"/> for an
/// unknown subsystem or namespace.
/// </remarks>
public sealed class NvmeTargetTestHooks
{
    /// <summary>Bytes per page of a memory namespace (see <see cref="GetAllocatedPageCount"/>).</summary>
    public const int MemoryPageSize = SparseMemoryStore.PageSize;

    private readonly NvmeTcpTarget _target;
    private readonly ConcurrentQueue<NvmeTargetViolation> _violations = new();
    private long _keepAlives;
    private long _authenticated;
    private long _authenticationFailures;
    private long _plainIcReqs;
    private long _tlsIcReqs;
    private long _tlsFailures;
    private long _plainRefused;
    private long _receiveThreads;

    internal NvmeTargetTestHooks(NvmeTcpTarget target) => _target = target;

    /// <summary>How controllers fail DH-HMAC-CHAP on purpose (read when each exchange runs). Default none.</summary>
    public NvmeAuthenticationFault AuthenticationFault { get; set; }

    /// <summary>Queues that completed DH-HMAC-CHAP, over every controller.</summary>
    public long AuthenticatedQueues => Interlocked.Read(ref _authenticated);

    /// <summary>DH-HMAC-CHAP exchanges a controller failed (each AUTH_Failure1 decided), over every controller.</summary>
    public long AuthenticationFailures => Interlocked.Read(ref _authenticationFailures);

    /// <summary>ICReqs received in the clear, over every port (a host configured for TLS must never add to it).</summary>
    public long PlainIcReqs => Interlocked.Read(ref _plainIcReqs);

    /// <summary>ICReqs received inside TLS, over every port.</summary>
    public long TlsIcReqs => Interlocked.Read(ref _tlsIcReqs);

    /// <summary>TLS handshakes that failed (wrong key, unknown identity, a malformed ClientHello).</summary>
    public long TlsHandshakeFailures => Interlocked.Read(ref _tlsFailures);

    /// <summary>Plain connections closed unanswered because their port requires TLS.</summary>
    public long PlainConnectionsRefused => Interlocked.Read(ref _plainRefused);

    internal void CountIcReq(bool tls) => Interlocked.Increment(ref tls ? ref _tlsIcReqs : ref _plainIcReqs);

    internal void CountTlsFailure() => Interlocked.Increment(ref _tlsFailures);

    internal void CountPlainRefused() => Interlocked.Increment(ref _plainRefused);

    /// <summary>Connections whose receive loop ran on a thread of its own (<see cref="NvmeTargetOptions.DedicatedReceiveThreads"/>).</summary>
    public long ReceiveThreadsStarted => Interlocked.Read(ref _receiveThreads);

    internal void CountReceiveThread() => Interlocked.Increment(ref _receiveThreads);

    /// <summary>TLS PSKs secure channel concatenation generated, over every host (each reconnect generates one).</summary>
    public long GeneratedTlsPsks => _target.GeneratedPsks.Generated;

    /// <summary>
    /// The identity (<c>NVMe1Ghh NQNh NQNc digest</c>) of the TLS PSK concatenation last generated for a host and
    /// subsystem, or null; the identity travels in the clear in the TLS ClientHello, the key is not shown.
    /// </summary>
    public string? GeneratedTlsPskIdentity(string hostNqn, string subsystemNqn) => _target.GeneratedPsks.Find(hostNqn, subsystemNqn)?.Identity;

    /// <summary>Whether <paramref name="psk"/> is the TLS PSK concatenation last generated for a host and subsystem (key compared in constant time).</summary>
    public bool IsGeneratedTlsPsk(string hostNqn, string subsystemNqn, NvmeTcp.Protocol.Tls.NvmeTlsPsk psk)
    {
        ArgumentNullException.ThrowIfNull(psk);
        return _target.GeneratedPsks.Find(hostNqn, subsystemNqn)?.SameAs(psk) == true;
    }

    internal void CountAuthenticated() => Interlocked.Increment(ref _authenticated);

    internal void CountAuthenticationFailure() => Interlocked.Increment(ref _authenticationFailures);

    /// <summary>Fault rules applied to every PDU the target sends.</summary>
    public NvmeTargetFaults Faults { get; } = new();

    /// <summary>Every host violation seen so far, oldest first (a snapshot).</summary>
    public IReadOnlyList<NvmeTargetViolation> Violations => _violations.ToArray();

    /// <summary>Keep Alive commands received, over every controller (for tests of a host's keep-alive).</summary>
    public long KeepAliveCount => Interlocked.Read(ref _keepAlives);

    /// <summary>Memory pages a namespace holds (0 for a null namespace): what its sparse store costs.</summary>
    /// <exception cref="ArgumentException">No such subsystem or namespace.</exception>
    public long GetAllocatedPageCount(string subsystemNqn, uint nsid) => _target.GetNamespace(subsystemNqn, nsid).Store.AllocatedPages;

    /// <summary>
    /// Makes the subsystem's controllers fail, or stops it. While <paramref name="fatal"/>, every live controller
    /// reports a fatal status (CSTS.CFS) and its association is deleted, as Linux nvmet's <c>nvmet_ctrl_fatal_error</c>
    /// does, and every new controller reports CSTS.CFS when the host enables it (CC.EN), so bring-ups fail.
    /// </summary>
    /// <exception cref="ArgumentException">No such subsystem.</exception>
    public void SetControllersFatal(string subsystemNqn, bool fatal)
    {
        var subsystem = _target.GetSubsystem(subsystemNqn);
        subsystem.ControllersFatal = fatal;
        if (fatal)
        {
            foreach (var controller in subsystem.Controllers.ToArray())
            {
                controller.Fatal("controller fatal status");
            }
        }
    }

    internal void AddViolation(NvmeTargetViolation violation) => _violations.Enqueue(violation);

    internal void CountKeepAlive() => Interlocked.Increment(ref _keepAlives);
}
