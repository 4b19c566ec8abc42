using Microsoft.Extensions.Logging;

namespace NvmeTcp.Client;

/// <summary>
/// Log messages, one method per event. The method names are event names and the IDs are fixed: consumers filter on
/// them. Nothing is logged per I/O above Trace, and no key or secret is ever a parameter.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Connected to {SubsystemNqn} at {EndPoint}: controller {ControllerId}, {QueueCount} I/O queues of {QueueSize}, digests header={HeaderDigest} data={DataDigest}")]
    public static partial void Connected(ILogger logger, string subsystemNqn, System.Net.EndPoint endPoint, int controllerId, int queueCount, int queueSize, bool headerDigest, bool dataDigest);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Queue {QueueId} connected to {EndPoint}")]
    public static partial void QueueConnected(ILogger logger, int queueId, System.Net.EndPoint endPoint);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Controller {ControllerId} at {EndPoint} shut down ({Outcome})")]
    public static partial void ShutDown(ILogger logger, int controllerId, System.Net.EndPoint endPoint, string outcome);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "I/O queues: asked for {Requested}, granted {Granted}")]
    public static partial void QueuesGranted(ILogger logger, int requested, int granted);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Controller {ControllerId}: {Previous} -> {Current} {Reason}")]
    public static partial void StateChanged(ILogger logger, int controllerId, NvmeControllerState previous, NvmeControllerState current, string reason);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Controller {ControllerId}: asynchronous event type {Type}, information 0x{Information:X2}, log page 0x{LogPage:X2}")]
    public static partial void AsyncEvent(ILogger logger, int controllerId, int type, int information, int logPage);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "Queue {QueueId} authenticated (DH-HMAC-CHAP, hash {Hash}, DH group {Group}, bidirectional {Bidirectional})")]
    public static partial void QueueAuthenticated(ILogger logger, int queueId, NvmeTcp.Protocol.Auth.DhchapHashFunction hash, NvmeTcp.Protocol.Auth.DhchapDhGroup group, bool bidirectional);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "Queue {QueueId} runs TLS 1.3 with PSK identity '{Identity}', {CipherSuite}")]
    public static partial void QueueTls(ILogger logger, int queueId, string identity, string cipherSuite);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Debug, Message = "Secure channel concatenation generated TLS PSK identity '{Identity}'; bringing the admin queue up again inside TLS")]
    public static partial void TlsPskGenerated(ILogger logger, string identity);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Queue {QueueId}: authentication failed: {Reason}")]
    public static partial void AuthenticationFailed(ILogger logger, int queueId, string reason);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Error, Message = "Queue {QueueId} failed: {Reason}")]
    public static partial void QueueFailed(ILogger logger, int queueId, string reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Keep Alive failed on controller {ControllerId}: {Reason}")]
    public static partial void KeepAliveFailed(ILogger logger, int controllerId, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Reconnect attempt {Attempt} to {EndPoint} failed: {Reason}")]
    public static partial void ReconnectFailed(ILogger logger, int attempt, System.Net.EndPoint? endPoint, string reason);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Debug, Message = "Discovery log from {EndPoint}: generation {Generation}, {Records} records")]
    public static partial void DiscoveryLogRead(ILogger logger, System.Net.EndPoint endPoint, ulong generation, ulong records);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "Discovery log generation changed while reading ({First} then {Second}); reading again")]
    public static partial void DiscoveryLogChanged(ILogger logger, ulong first, ulong second);

    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Subsystem {SubsystemNqn}: path {Path} to {Address}:{Port} added (controller {ControllerId})")]
    public static partial void PathAdded(ILogger logger, string subsystemNqn, string path, string address, int port, int controllerId);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Subsystem {SubsystemNqn}: path {Path} removed")]
    public static partial void PathRemoved(ILogger logger, string subsystemNqn, string path);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Subsystem {SubsystemNqn}: path to {Address}:{Port} not added: {Reason}")]
    public static partial void PathRefused(ILogger logger, string subsystemNqn, string address, int port, string reason);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "Subsystem {SubsystemNqn}: namespace {Nsid} is {State} through {Path}")]
    public static partial void PathAnaState(ILogger logger, string subsystemNqn, uint nsid, string path, NvmeTcp.Protocol.Spec.AnaState state);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Debug, Message = "Subsystem {SubsystemNqn}: I/O to namespace {Nsid} failed on {Path} ({Reason}); trying another path")]
    public static partial void Failover(ILogger logger, string subsystemNqn, uint nsid, string path, string reason);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Subsystem {SubsystemNqn}: namespace {Nsid} is still in ANA transition through {Path} after ANATT ({Seconds} s)")]
    public static partial void AnaTransitionOverdue(ILogger logger, string subsystemNqn, uint nsid, string path, int seconds);

    [LoggerMessage(EventId = 1306, Level = LogLevel.Warning, Message = "Subsystem {SubsystemNqn}: reading the ANA log through {Path} failed: {Reason}")]
    public static partial void AnaRefreshFailed(ILogger logger, string subsystemNqn, string path, string reason);
}
