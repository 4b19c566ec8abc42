using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Target;

/// <summary>
/// A host's configured TLS PSK for a subsystem (<see cref="NvmeSubsystemOptions.TlsKeys"/>), the key <c>nvme
/// gen-tls-key</c> prints and <c>nvme connect --tls-key</c> takes. <see cref="ToString"/> never shows the key.
/// </summary>
public sealed class NvmeHostTlsKey
{
    /// <summary>The key <paramref name="key"/> for <paramref name="hostNqn"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="hostNqn"/> is empty.</exception>
    public NvmeHostTlsKey(string hostNqn, NvmeTlsKey key)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostNqn);
        ArgumentNullException.ThrowIfNull(key);
        HostNqn = hostNqn;
        Key = key;
    }

    /// <summary>The host NQN.</summary>
    public string HostNqn { get; }

    /// <summary>The configured key.</summary>
    public NvmeTlsKey Key { get; }

    /// <summary>
    /// The PSK identity version registered: 0 or 1, as <c>nvme check-tls-key --insert --identity</c> inserts one; null
    /// (the default) registers both, so a host offering either connects.
    /// </summary>
    public int? IdentityVersion { get; init; }

    /// <summary>The host and the key's hash and length, never the key.</summary>
    public override string ToString() => $"{HostNqn}: {Key}";
}
