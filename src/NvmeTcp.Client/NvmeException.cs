using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client;

/// <summary>Base of every error this library raises about a controller, a queue or a command.</summary>
/// <remarks>
/// <para>The error policy:</para>
/// <list type="bullet">
/// <item><see cref="NvmeStatusException"/>: the controller completed the command with a non-zero status. The queue stays up.</item>
/// <item><see cref="NvmeTcpProtocolException"/>: a peer broke the NVMe/TCP protocol (bad header, digest, unknown CID, C2HTermReq,
/// ICResp mismatch). The connection is closed once, and every command pending on it fails with this error.</item>
/// <item><see cref="NvmeTransportException"/>: the connection was lost or a data digest did not match; the command may be retried
/// (<see cref="NvmeTransportException.IsRetryable"/>). Commands are never replayed by the library.</item>
/// <item><see cref="NvmeTimeoutException"/>: a command or connection step took longer than its timeout; the association is reset.</item>
/// <item><see cref="NvmeControllerFatalException"/>: the controller reported a fatal status (CSTS.CFS); the association is reset.</item>
/// <item><see cref="NvmeAuthenticationException"/>: the controller demands in-band authentication this host cannot give, or
/// refused it. Reconnecting does not help.</item>
/// </list>
/// <para><see cref="IsTransient"/> says, from the base type, whether the same operation may succeed if tried again (after the
/// controller has reconnected by itself); a caller can classify any error of this library with it alone.</para>
/// <para>Mistakes of the caller (a buffer of the wrong size, a disposed object) raise the usual CLR exceptions instead.</para>
/// </remarks>
public class NvmeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NvmeException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NvmeException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// Whether the operation may succeed if tried again: the controller did not refuse it for good (no DNR), and the
    /// failure was of the path (connection lost, timeout, protocol error, fatal controller status), which the library
    /// recovers from by reconnecting. False for a refusal that repeats (DNR, authentication) or a controller deleted.
    /// </summary>
    public virtual bool IsTransient => false;
}

/// <summary>A command completed with a non-zero NVMe status. The queue is still usable.</summary>
public class NvmeStatusException : NvmeException
{
    /// <summary>Creates the exception.</summary>
    public NvmeStatusException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmeStatusException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NvmeStatusException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a completion.</summary>
    /// <param name="status">The status the controller returned.</param>
    /// <param name="queueId">The queue the command ran on (0 for admin).</param>
    /// <param name="commandId">The CID.</param>
    /// <param name="opcode">The command's opcode.</param>
    /// <param name="commandName">What the command was, for the message.</param>
    /// <param name="dword0">CQE dword 0, command specific.</param>
    /// <param name="statusName">The status's name in the context of the command.</param>
    public NvmeStatusException(NvmeStatus status, ushort queueId, ushort commandId, byte opcode, string commandName, uint dword0, string statusName)
        : base($"{commandName} failed on queue {queueId} (CID {commandId}): {statusName} (SCT 0x{(int)status.CodeType:X}, SC 0x{status.Code:X2}{(status.DoNotRetry ? ", DNR" : string.Empty)})")
    {
        Status = status;
        QueueId = queueId;
        CommandId = commandId;
        Opcode = opcode;
        Dword0 = dword0;
        StatusName = statusName;
    }

    /// <summary>The status the controller returned.</summary>
    public NvmeStatus Status { get; }

    /// <summary>The spec's name of the status, read in the context of the command (fabrics codes differ from I/O ones).</summary>
    public string StatusName { get; } = string.Empty;

    /// <summary>The queue ID (0 for the admin queue).</summary>
    public ushort QueueId { get; }

    /// <summary>The command identifier.</summary>
    public ushort CommandId { get; }

    /// <summary>The command's opcode.</summary>
    public byte Opcode { get; }

    /// <summary>CQE dword 0 (for Connect Invalid Parameters: the offset of the bad field, bit 16 set when it is in the data).</summary>
    public uint Dword0 { get; }

    /// <summary>Whether a retry might succeed: the controller did not set DNR.</summary>
    public override bool IsTransient => !Status.DoNotRetry;
}

/// <summary>The connection was lost, or one command's data failed its digest. The command may be retried; the library never replays it.</summary>
public class NvmeTransportException : NvmeException
{
    /// <summary>Creates the exception.</summary>
    public NvmeTransportException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmeTransportException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NvmeTransportException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a queue.</summary>
    public NvmeTransportException(string message, ushort queueId, bool isRetryable, Exception? innerException = null)
        : base(message, innerException)
    {
        QueueId = queueId;
        IsRetryable = isRetryable;
    }

    /// <summary>The queue ID (0 for the admin queue).</summary>
    public ushort QueueId { get; }

    /// <summary>Whether the same command may succeed if submitted again (on this or a new connection).</summary>
    public bool IsRetryable { get; } = true;

    /// <inheritdoc/>
    public override bool IsTransient => IsRetryable;
}

/// <summary>A peer broke the NVMe/TCP protocol; the connection was closed and every pending command failed with this error.</summary>
public class NvmeTcpProtocolException : NvmeException
{
    /// <summary>Creates the exception.</summary>
    public NvmeTcpProtocolException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmeTcpProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NvmeTcpProtocolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a violation.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="queueId">The queue.</param>
    /// <param name="commandId">The CID the PDU named, if any.</param>
    /// <param name="pduType">The PDU-Type byte of the offending PDU.</param>
    /// <param name="rule">The rule broken, in words.</param>
    /// <param name="fatalErrorStatus">FES: of the TermReq we sent, or of the C2HTermReq received.</param>
    /// <param name="fatalErrorInformation">FEI, as FES.</param>
    /// <param name="sentByController">True when the controller reported the error in a C2HTermReq.</param>
    public NvmeTcpProtocolException(string message, ushort queueId, int? commandId, byte pduType, string rule, int fatalErrorStatus, uint fatalErrorInformation, bool sentByController)
        : base(message)
    {
        QueueId = queueId;
        CommandId = commandId;
        PduType = pduType;
        Rule = rule;
        FatalErrorStatus = fatalErrorStatus;
        FatalErrorInformation = fatalErrorInformation;
        SentByController = sentByController;
    }

    /// <summary>The queue ID (0 for the admin queue).</summary>
    public ushort QueueId { get; }

    /// <summary>The CID the offending PDU named, when it named one.</summary>
    public int? CommandId { get; }

    /// <summary>The PDU-Type byte of the offending PDU (0x03 for a C2HTermReq).</summary>
    public byte PduType { get; }

    /// <summary>The rule that was broken, in words.</summary>
    public string Rule { get; } = string.Empty;

    /// <summary>FES: 1 invalid header field, 2 PDU sequence error, 3 header digest error, 4 data transfer out of range, 5 R2T / data limit exceeded, 6 unsupported parameter; 0 when no TermReq applies.</summary>
    public int FatalErrorStatus { get; }

    /// <summary>FEI: the offending field's byte offset, or the received header digest for FES 3.</summary>
    public uint FatalErrorInformation { get; }

    /// <summary>True when the controller ended the connection with a C2HTermReq.</summary>
    public bool SentByController { get; }

    /// <summary>True: the association is rebuilt, and the command may succeed on the new one.</summary>
    public override bool IsTransient => true;
}

/// <summary>A command or a connection step took longer than its timeout. The association was reset.</summary>
public class NvmeTimeoutException : NvmeException
{
    /// <summary>Creates the exception.</summary>
    public NvmeTimeoutException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmeTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NvmeTimeoutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a queue.</summary>
    public NvmeTimeoutException(string message, ushort queueId, TimeSpan timeout)
        : base(message)
    {
        QueueId = queueId;
        Timeout = timeout;
    }

    /// <summary>The queue ID (0 for the admin queue).</summary>
    public ushort QueueId { get; }

    /// <summary>The timeout that expired.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>True: the association is reset and rebuilt.</summary>
    public override bool IsTransient => true;
}

/// <summary>
/// The controller reported a fatal status (CSTS.CFS: NVMe Base, "Controller Fatal Status"): it cannot go on without a
/// reset. The library resets the association (a new Connect), as Linux does; the operation may succeed after it.
/// </summary>
public class NvmeControllerFatalException : NvmeException
{
    /// <summary>Creates the exception.</summary>
    public NvmeControllerFatalException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmeControllerFatalException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NvmeControllerFatalException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a controller and the CSTS value read.</summary>
    public NvmeControllerFatalException(string message, ushort controllerId, uint controllerStatus)
        : base(message)
    {
        ControllerId = controllerId;
        ControllerStatus = controllerStatus;
    }

    /// <summary>The CNTLID.</summary>
    public ushort ControllerId { get; }

    /// <summary>CSTS as read (bit 1 CFS set).</summary>
    public uint ControllerStatus { get; }

    /// <summary>True: a reset may bring the controller back.</summary>
    public override bool IsTransient => true;
}

/// <summary>Why in-band authentication stopped a connection.</summary>
public enum NvmeAuthenticationFailure
{
    /// <summary>The controller requires authentication (Connect AUTHREQ, or status Authentication Required) and this host has no secret for it.</summary>
    Required,

    /// <summary>The exchange broke off: a malformed or unexpected message, or an error status on Authentication Send/Receive.</summary>
    Failed,

    /// <summary>The controller failed the host (AUTH_Failure1): usually a wrong host secret, or a host the controller does not know.</summary>
    HostRejected,

    /// <summary>The host failed the controller: its response (R2) did not match the controller secret, or it gave none.</summary>
    ControllerRejected,

    /// <summary>The controller chose a hash function or DH group this host does not know, or asked for a secure channel.</summary>
    Unsupported,
}

/// <summary>
/// In-band authentication (NVMe Base, "Authentication"; DH-HMAC-CHAP) stopped the connection: the controller demands
/// it and this host cannot give it, or it failed. Not transient: reconnecting meets the same demand, so the library
/// does not retry.
/// </summary>
public class NvmeAuthenticationException : NvmeException
{
    /// <summary>Creates the exception.</summary>
    public NvmeAuthenticationException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmeAuthenticationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NvmeAuthenticationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened; never a secret.</param>
    /// <param name="failure">Why.</param>
    /// <param name="requirements">AUTHREQ from the Connect response (bit 1 ATR: DH-HMAC-CHAP; bit 2 ASCR: then a secure channel).</param>
    public NvmeAuthenticationException(string message, NvmeAuthenticationFailure failure, ushort requirements)
        : base(message)
    {
        Failure = failure;
        Requirements = requirements;
    }

    /// <summary>Creates the exception for a failed exchange.</summary>
    /// <param name="message">What happened; never a secret.</param>
    /// <param name="failure">Who failed whom, or why the exchange broke off.</param>
    /// <param name="requirements">AUTHREQ from the Connect response.</param>
    /// <param name="queueId">The queue being authenticated.</param>
    /// <param name="reason">The AUTH_Failure reason code explanation sent or received, <see cref="AuthFailureReason.None"/> if none.</param>
    /// <param name="innerException">The cause, if any.</param>
    public NvmeAuthenticationException(string message, NvmeAuthenticationFailure failure, ushort requirements, ushort queueId, AuthFailureReason reason, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        Requirements = requirements;
        QueueId = queueId;
        Reason = reason;
    }

    /// <summary>Why authentication stopped the connection.</summary>
    public NvmeAuthenticationFailure Failure { get; }

    /// <summary>The queue (0 for admin) whose authentication failed.</summary>
    public ushort QueueId { get; }

    /// <summary>
    /// The AUTH_Failure reason code explanation (NVMe Base 2.0 "AUTH_Failure1/AUTH_Failure2"): received in AUTH_Failure1
    /// when the controller failed the host, or sent in AUTH_Failure2 when this host stopped the exchange.
    /// </summary>
    public AuthFailureReason Reason { get; }

    /// <summary>AUTHREQ (Connect response DW0 bits 16-31): bit 1 ATR, authentication required; bit 2 ASCR, a secure channel after it.</summary>
    public ushort Requirements { get; }
}

/// <summary>
/// A <see cref="NvmeSubsystem"/> had no usable path for an I/O for <see cref="NvmeMultipathOptions.NoPathTimeout"/>,
/// or every path's controller was deleted. The I/O was not completed on any path (an earlier attempt may have been
/// sent; see <see cref="Exception.InnerException"/> for its error).
/// </summary>
public class NvmeNoPathException : NvmeException
{
    /// <summary>Creates the exception.</summary>
    public NvmeNoPathException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmeNoPathException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the last path's error.</summary>
    public NvmeNoPathException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A path may come back: the same I/O may succeed later.</summary>
    public override bool IsTransient => true;
}

/// <summary>
/// A path offered to a <see cref="NvmeSubsystem"/> is not a path to the same subsystem and namespaces: another
/// subsystem NQN, or a namespace whose identifiers (NGUID, EUI-64, UUID) or block size differ from what the other
/// paths report. The path is refused; the other paths are unaffected.
/// </summary>
public class NvmePathMismatchException : NvmeException
{
    /// <summary>Creates the exception.</summary>
    public NvmePathMismatchException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmePathMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NvmePathMismatchException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
