namespace NvmeTcp.Client;

/// <summary>Why a queue's TLS session (NVMe/TCP "Transport Layer Security") could not be set up.</summary>
public enum NvmeTlsFailure
{
    /// <summary>The handshake failed for another reason: an unexpected alert, a malformed record, a suite or group the peers do not share.</summary>
    HandshakeFailed,

    /// <summary>
    /// The controller knows the PSK identity but not with this key: its binder check failed (alert decrypt_error), or a
    /// record could not be decrypted.
    /// </summary>
    KeyRejected,

    /// <summary>
    /// The controller selected no PSK for the identity offered (alert unknown_psk_identity or handshake_failure, or it
    /// closed the connection during the handshake, as Linux nvmet does when its handshake daemon finds no key).
    /// </summary>
    IdentityUnknown,

    /// <summary>The controller did not answer in TLS at all (its port is not configured for TLS): it sent a plain PDU or closed.</summary>
    NotOffered,

    /// <summary>
    /// A secure channel is required (a discovery log entry's TREQ, or <c>NvmeTlsOptions.Required</c>) and no TLS key
    /// is configured, or the key lookup has no key for the identity: nothing was sent in the clear.
    /// </summary>
    NotConfigured,
}

/// <summary>
/// A queue's TLS 1.3 session could not be set up: a wrong key, an identity the controller does not know, a controller
/// that does not speak TLS on that port, or TLS required and not configured. The library never falls back to plain
/// TCP. Not transient: reconnecting with the same key repeats the failure, so a reconnect that meets it deletes the
/// controller. The message names the queue, the PSK identity and the TLS alert, never key material.
/// </summary>
public class NvmeTlsException : NvmeException
{
    /// <summary>Creates the exception.</summary>
    public NvmeTlsException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NvmeTlsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NvmeTlsException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a queue.</summary>
    /// <param name="message">What happened; never key material.</param>
    /// <param name="failure">Why.</param>
    /// <param name="queueId">The queue (0 for admin).</param>
    /// <param name="identity">The PSK identity offered, if any.</param>
    /// <param name="alert">The TLS alert sent or received (RFC 8446 section 6 name, e.g. <c>decrypt_error</c>), if any.</param>
    /// <param name="innerException">The cause, if any.</param>
    public NvmeTlsException(string message, NvmeTlsFailure failure, ushort queueId, string? identity, string? alert, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        QueueId = queueId;
        Identity = identity;
        Alert = alert;
    }

    /// <summary>Why the session could not be set up.</summary>
    public NvmeTlsFailure Failure { get; }

    /// <summary>The queue (0 for admin).</summary>
    public ushort QueueId { get; }

    /// <summary>The PSK identity offered (not secret: it is sent in the clear in the ClientHello), or null.</summary>
    public string? Identity { get; }

    /// <summary>The TLS alert sent or received, or null.</summary>
    public string? Alert { get; }
}
