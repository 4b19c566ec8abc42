using NvmeTcp.Protocol.Auth;

namespace NvmeTcp.Target;

/// <summary>
/// DH-HMAC-CHAP for one host of a subsystem, as a Linux nvmet <c>hosts/&lt;hostnqn&gt;</c> entry holds it
/// (<c>dhchap_key</c>, <c>dhchap_ctrl_key</c>, <c>dhchap_hash</c>, <c>dhchap_dhgroup</c>): the controller then answers
/// that host's Connect with AUTHREQ ATR and refuses its other commands with Authentication Required until a queue has
/// authenticated. The host must also be allowed (<see cref="NvmeSubsystemOptions.AllowedHosts"/>, or any host when it
/// is empty).
/// </summary>
public sealed class NvmeHostAuthentication
{
    /// <summary>Authentication for <paramref name="hostNqn"/> with the host's secret.</summary>
    /// <exception cref="ArgumentException"><paramref name="hostNqn"/> is empty.</exception>
    public NvmeHostAuthentication(string hostNqn, DhchapSecret secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostNqn);
        ArgumentNullException.ThrowIfNull(secret);
        HostNqn = hostNqn;
        Secret = secret;
    }

    /// <summary>The host NQN.</summary>
    public string HostNqn { get; }

    /// <summary>The host's secret: the host must prove it knows it.</summary>
    public DhchapSecret Secret { get; }

    /// <summary>The controller's secret, for a host that authenticates the controller too (bidirectional); null refuses such a host.</summary>
    public DhchapSecret? ControllerSecret { get; set; }

    /// <summary>
    /// Allows secure channel concatenation for this host: its admin queue's AUTH_Negotiate may ask for a generated TLS
    /// PSK (SC_C NEWTLSPSK, or REPLACETLSPSK on a queue already in TLS), which the host then reconnects with. As nvmet,
    /// the exchange also needs a DH group other than NULL (else AUTH_Failure1 "secure channel concatenation mismatch")
    /// and SHA-256 or SHA-384 (TLS 1.3 has no SHA-512 suite: the controller then chooses the first of those two in
    /// <see cref="Hashes"/>). Default false: SC_C other than 0 is refused with that reason.
    /// </summary>
    public bool Concatenation { get; set; }

    /// <summary>
    /// Hash functions the controller may choose, in its order of preference: the first one the host offers wins, and a
    /// host offering none of them fails with Hash Unusable. Default SHA-256, SHA-384, SHA-512 (nvmet's default is
    /// <c>hmac(sha256)</c>).
    /// </summary>
    public IList<DhchapHashFunction> Hashes { get; } = new List<DhchapHashFunction> { DhchapHashFunction.Sha256, DhchapHashFunction.Sha384, DhchapHashFunction.Sha512 };

    /// <summary>
    /// DH groups the controller may choose, in its order of preference, as <see cref="Hashes"/>. Default NULL first
    /// (nvmet's default), then ffdhe2048 to ffdhe8192.
    /// </summary>
    public IList<DhchapDhGroup> Groups { get; } = new List<DhchapDhGroup>
    {
        DhchapDhGroup.Null, DhchapDhGroup.Ffdhe2048, DhchapDhGroup.Ffdhe3072, DhchapDhGroup.Ffdhe4096, DhchapDhGroup.Ffdhe6144, DhchapDhGroup.Ffdhe8192,
    };

    /// <summary>Shows the host NQN and whether a controller secret is set, never a secret.</summary>
    public override string ToString() => $"{HostNqn} (DH-HMAC-CHAP, {(ControllerSecret is null ? "unidirectional" : "bidirectional")}{(Concatenation ? ", concatenation" : "")})";
}

/// <summary>Ways the target's controller can fail an authentication on purpose, as real controllers fail (for tests of hosts).</summary>
public enum NvmeAuthenticationFault
{
    /// <summary>Authenticate correctly.</summary>
    None,

    /// <summary>Answer the reply with AUTH_Failure1 (Authentication Failed) whatever the host's response.</summary>
    RejectHost,

    /// <summary>Send a wrong controller response (R2) in Success1.</summary>
    WrongControllerResponse,

    /// <summary>Send Success1 without R2 even when the host asked for it.</summary>
    OmitControllerResponse,

    /// <summary>Choose a hash function identifier no host knows (0xFE) in the challenge.</summary>
    UnknownHash,

    /// <summary>Choose a DH group identifier no host knows (0xFE) in the challenge.</summary>
    UnknownGroup,

    /// <summary>Answer with a challenge whose T_ID is not the host's.</summary>
    WrongTransactionId,

    /// <summary>Refuse Authentication Receive with Invalid Field in Command.</summary>
    RefuseReceive,

    /// <summary>Close the connection instead of answering the Receive after the host's reply, as Linux nvmet may when it fails a host (seen on 6.12 and 7.3).</summary>
    CloseAfterReply,
}
