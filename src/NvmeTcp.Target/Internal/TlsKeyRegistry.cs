using System.Collections.Concurrent;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// The target's TLS PSKs by PSK identity, as the kernel's <c>.nvme</c> keyring is for nvmet and tlshd: the server
/// side of the handshake looks the client's offered identity up here. Configured keys are added for both identity
/// versions when a subsystem is added; secure channel concatenation adds the PSKs it generates (<c>NVMe1G...</c>) and
/// removes them again.
/// </summary>
internal sealed class TlsKeyRegistry
{
    private readonly ConcurrentDictionary<string, NvmeTlsPsk> _psks = new(StringComparer.Ordinal);

    /// <summary>Whether any key is registered.</summary>
    public bool IsEmpty => _psks.IsEmpty;

    /// <summary>The PSK for an identity, or null.</summary>
    public NvmeTlsPsk? Find(string identity) => _psks.TryGetValue(identity, out var psk) ? psk : null;

    /// <summary>Adds or replaces the PSK of its identity.</summary>
    public void Add(NvmeTlsPsk psk) => _psks[psk.Identity] = psk;

    /// <summary>Removes an identity's PSK; false if there was none.</summary>
    public bool Remove(string identity) => _psks.TryRemove(identity, out _);

    /// <summary>
    /// Derives and adds the TLS PSKs (identity versions 0 and 1) of each host key of a subsystem, and the same key for
    /// that host and the discovery NQN: a Linux host discovering over TLS offers the identity of its host NQN and the
    /// discovery subsystem, and the discovery controller here has no keys of its own (the last subsystem added wins).
    /// </summary>
    public void AddSubsystem(string subsystemNqn, IEnumerable<NvmeHostTlsKey> keys)
    {
        foreach (var key in keys)
        {
            foreach (var nqn in new[] { subsystemNqn, NvmeTcp.Protocol.Spec.NvmeQualifiedName.Discovery })
            {
                foreach (var version in key.IdentityVersion is { } only ? [only] : new[] { 0, 1 })
                {
                    Add(key.Key.DeriveTlsPsk(key.HostNqn, nqn, version));
                }
            }
        }
    }

    /// <summary>Removes a subsystem's configured PSKs.</summary>
    public void RemoveSubsystem(string subsystemNqn)
    {
        foreach (var identity in _psks.Keys)
        {
            // Identity: NVMe<v><R|G><hh> <hostnqn> <subnqn>[ <digest>]; NQNs hold no spaces.
            var parts = identity.Split(' ');
            if (parts.Length >= 3 && parts[2] == subsystemNqn)
            {
                _psks.TryRemove(identity, out _);
            }
        }
    }
}
