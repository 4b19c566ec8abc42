using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Client;

/// <summary>
/// TLS 1.3 with a pre-shared key on every queue (NVMe/TCP "Transport Layer Security", TP 8011): the handshake comes
/// first on each connection, ICReq and everything after it run inside. Give a configured key (<see cref="Key"/>,
/// nvme-cli's <c>--tls-key</c>) or a key lookup (<see cref="KeyLookup"/>, as the kernel's <c>.nvme</c> keyring is
/// searched with <c>--tls</c>). A failed handshake is never retried in the clear.
/// </summary>
/// <remarks><see cref="ToString"/> shows the key's hash and length, never the key.</remarks>
public sealed class NvmeTlsOptions
{
    /// <summary>
    /// The configured PSK in interchange form (<c>NVMeTLSkey-1:hh:...:</c>, nvme-cli's <c>--tls-key</c>); the TLS PSK
    /// is derived from it for (<see cref="NvmeTcpOptions.HostNqn"/>, <see cref="NvmeTcpOptions.SubsystemNqn"/>) with
    /// <see cref="IdentityVersion"/>, as <c>nvme check-tls-key --insert</c> derives what it puts in the keyring.
    /// </summary>
    public NvmeTlsKey? Key { get; set; }

    /// <summary>
    /// The PSK identity version derived from <see cref="Key"/>: 1 (the default: <c>NVMe1Rhh host subsys digest</c>)
    /// or 0 (<c>NVMe0Rhh host subsys</c>). 1 because nvme-cli 2.16's <c>connect --tls-key</c> inserts and offers the
    /// version-1 identity (libnvme's default since TP 8018; a Linux target then needs the key inserted with
    /// <c>--identity=1</c>), and the kernel host prefers version 1 when it searches its keyring.
    /// </summary>
    public int IdentityVersion { get; set; } = 1;

    /// <summary>
    /// A keyring: called with identity prefixes in the Linux host's order (<c>nvme_tls_psk_default</c>: version 1
    /// SHA-384, version 1 SHA-256, version 0 SHA-384, version 0 SHA-256), that is <c>NVMe1R02 host subsys</c>,
    /// <c>NVMe1R01 host subsys</c>, <c>NVMe0R02 host subsys</c>, <c>NVMe0R01 host subsys</c>; the first TLS PSK
    /// returned is used (for version 1 its <see cref="NvmeTlsPsk.Identity"/> is the full identity, the prefix plus
    /// the digest). Used when <see cref="Key"/> is null.
    /// </summary>
    public Func<string, NvmeTlsPsk?>? KeyLookup { get; set; }

    /// <summary>
    /// Whether a connection without TLS is refused (the default). When true, finding no key (no <see cref="Key"/>, and
    /// <see cref="KeyLookup"/> has none for the host and subsystem) fails the connect with
    /// <see cref="NvmeTlsFailure.NotConfigured"/> before anything is sent. When false, such a connection runs plain
    /// TCP, a decision made from the configuration before connecting, never a fallback after a failed handshake; a
    /// discovery log entry whose TREQ requires a secure channel is refused all the same.
    /// </summary>
    public bool Required { get; set; } = true;

    /// <summary>The TLS PSK this host offers to <paramref name="subsystemNqn"/>, or null when there is none.</summary>
    /// <param name="hostNqn">The host's NQN.</param>
    /// <param name="subsystemNqn">The subsystem's NQN.</param>
    /// <exception cref="ArgumentException"><see cref="IdentityVersion"/> is not 0 or 1.</exception>
    public NvmeTlsPsk? ResolvePsk(string hostNqn, string subsystemNqn)
    {
        ArgumentNullException.ThrowIfNull(hostNqn);
        ArgumentNullException.ThrowIfNull(subsystemNqn);
        if (Key is { } key)
        {
            return key.DeriveTlsPsk(hostNqn, subsystemNqn, IdentityVersion);
        }

        if (KeyLookup is not { } lookup)
        {
            return null;
        }

        foreach (var (version, hash) in SearchOrder)
        {
            if (lookup($"NVMe{version}R{(byte)hash:d2} {hostNqn} {subsystemNqn}") is { } psk)
            {
                return psk;
            }
        }

        return null;
    }

    private static readonly (int Version, NvmeTlsPskHash Hash)[] SearchOrder =
        [(1, NvmeTlsPskHash.Sha384), (1, NvmeTlsPskHash.Sha256), (0, NvmeTlsPskHash.Sha384), (0, NvmeTlsPskHash.Sha256)];

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (IdentityVersion is not (0 or 1))
        {
            throw new ArgumentException("Tls.IdentityVersion must be 0 or 1.", nameof(IdentityVersion));
        }

        if (Key is null && KeyLookup is null && Required)
        {
            throw new ArgumentException("Tls needs a Key or a KeyLookup when TLS is required.", nameof(Key));
        }
    }

    /// <summary>A copy (the key object is shared; it is immutable).</summary>
    public NvmeTlsOptions Clone() => (NvmeTlsOptions)MemberwiseClone();

    /// <summary>Shows how the key is configured, never the key.</summary>
    public override string ToString() =>
        $"TLS {(Required ? "required" : "optional")}, {(Key is { } k ? $"{k}, identity version {IdentityVersion}" : KeyLookup is null ? "no key" : "key lookup")}";
}
