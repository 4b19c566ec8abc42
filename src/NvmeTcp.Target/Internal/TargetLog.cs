using System.Net;
using Microsoft.Extensions.Logging;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// The target's log messages, with fixed event IDs (1xx connections, 2xx controllers, 3xx violations and faults).
/// Method names are the event names; nothing per PDU is logged above Trace.
/// </summary>
internal sealed partial class TargetLog
{
    private readonly ILogger _logger;

    public TargetLog(ILogger logger) => _logger = logger;

    [LoggerMessage(100, LogLevel.Information, "NVMe/TCP target listening on {EndPoint}")]
    public partial void Listening(IPEndPoint endPoint);

    [LoggerMessage(104, LogLevel.Information, "Port {PortId} ({EndPoint}) removed: its listener and connections are closed")]
    public partial void PortRemoved(ushort portId, IPEndPoint endPoint);

    [LoggerMessage(105, LogLevel.Information, "Port {PortId}: ANA group {GroupId} set to {State}")]
    public partial void AnaStateSet(ushort portId, uint groupId, NvmeTcp.Protocol.Spec.AnaState state);

    [LoggerMessage(101, LogLevel.Information, "Connection from {Remote} accepted")]
    public partial void ConnectionAccepted(EndPoint? remote);

    [LoggerMessage(102, LogLevel.Information, "Connection from {Remote} (queue {QueueId}) closed")]
    public partial void ConnectionClosed(EndPoint? remote, int queueId);

    [LoggerMessage(103, LogLevel.Debug, "ICReq from {Remote}: HPDA {Hpda}, digests {Digests}, MAXR2T {MaxR2T}; granted digests {Granted}")]
    public partial void Initialized(EndPoint? remote, int hpda, int digests, uint maxR2T, int granted);

    [LoggerMessage(110, LogLevel.Error, "Queue {QueueId} from {Remote}: unhandled error; closing the connection")]
    public partial void UnhandledError(int queueId, EndPoint? remote, Exception exception);

    [LoggerMessage(111, LogLevel.Error, "Queue {QueueId}: command 0x{Opcode:X2} CID {Cid} failed with an unhandled error; completed with Internal Error")]
    public partial void CommandCrashed(int queueId, byte opcode, ushort cid, Exception exception);

    [LoggerMessage(112, LogLevel.Debug, "Queue {QueueId} from {Remote}: {Bytes} bytes and {Commands} completions wait to be sent; not reading until the host takes them")]
    public partial void BackPressure(int queueId, EndPoint? remote, long bytes, int commands);

    [LoggerMessage(113, LogLevel.Warning, "Limit {Limit} reached by {Remote}: {Message}; closing the connection")]
    public partial void LimitReached(string limit, EndPoint? remote, string message);

    [LoggerMessage(200, LogLevel.Information, "Controller {Cntlid} of {Subsystem} created for host {HostNqn} (KATO {KatoMs} ms)")]
    public partial void ControllerCreated(ushort cntlid, string subsystem, string hostNqn, uint katoMs);

    [LoggerMessage(201, LogLevel.Information, "Controller {Cntlid} of {Subsystem} torn down: {Reason}")]
    public partial void ControllerTornDown(ushort cntlid, string subsystem, string reason);

    [LoggerMessage(202, LogLevel.Warning, "Controller {Cntlid} of {Subsystem}: keep-alive timeout ({KatoMs} ms) expired")]
    public partial void KeepAliveExpired(ushort cntlid, string subsystem, uint katoMs);

    [LoggerMessage(206, LogLevel.Error, "Controller {Cntlid}: the keep-alive timer failed")]
    public partial void KeepAliveTimerFailed(ushort cntlid, Exception exception);

    [LoggerMessage(203, LogLevel.Information, "Connect refused for host {HostNqn} to {Subsystem} on queue {QueueId}: {Reason}")]
    public partial void ConnectRefused(string hostNqn, string subsystem, ushort queueId, string reason);

    [LoggerMessage(204, LogLevel.Debug, "Controller {Cntlid}: asynchronous event 0x{Dw0:X8} sent")]
    public partial void AsyncEventSent(ushort cntlid, uint dw0);

    [LoggerMessage(205, LogLevel.Trace, "Queue {QueueId}: command 0x{Opcode:X2} CID {Cid} failed with {Status}")]
    public partial void CommandFailed(int queueId, byte opcode, ushort cid, string status);

    [LoggerMessage(300, LogLevel.Warning, "Queue {QueueId} from {Remote}: host violation {Rule} (FES {Fes}, FEI {Fei}): {Message}; sending C2HTermReq and closing")]
    public partial void Violation(int queueId, EndPoint? remote, string rule, int fes, uint fei, string message);

    [LoggerMessage(303, LogLevel.Warning, "Queue {QueueId} from {Remote}: host violation {Rule} (FES {Fes}, FEI {Fei}): {Message}; recorded, connection kept")]
    public partial void ViolationRecorded(int queueId, EndPoint? remote, string rule, int fes, uint fei, string message);

    [LoggerMessage(301, LogLevel.Information, "Queue {QueueId}: fault {Action} applied to {PduType} #{Ordinal}")]
    public partial void FaultApplied(int queueId, string action, string pduType, int ordinal);

    [LoggerMessage(114, LogLevel.Debug, "Connection from {Remote}: TLS 1.3 with PSK identity '{Identity}', {CipherSuite}")]
    public partial void TlsEstablished(EndPoint? remote, string? identity, string cipherSuite);

    [LoggerMessage(115, LogLevel.Warning, "Connection from {Remote}: TLS handshake failed: {Reason} (identities offered: {Identities}); closing")]
    public partial void TlsFailed(EndPoint? remote, string reason, string identities);

    [LoggerMessage(116, LogLevel.Warning, "Connection from {Remote}: port {PortId} requires TLS and the host sent a plain PDU (type {PduType}); closing")]
    public partial void TlsRequired(EndPoint? remote, ushort portId, byte pduType);

    [LoggerMessage(302, LogLevel.Debug, "Queue {QueueId}: H2CTermReq received (FES {Fes}); closing")]
    public partial void HostTerminated(int queueId, int fes);
}
