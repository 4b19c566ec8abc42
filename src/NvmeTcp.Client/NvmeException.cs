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
/// </list>
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
    public bool IsTransient => !Status.DoNotRetry;
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
}
