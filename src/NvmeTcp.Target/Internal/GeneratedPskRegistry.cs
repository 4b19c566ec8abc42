using System.Diagnostics.CodeAnalysis;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// The TLS PSKs secure channel concatenation generated, one per host and subsystem (nvmet inserts each into the
/// kernel's <c>.nvme</c> keyring with <c>nvme_tls_psk_refresh</c>, where the TLS handshake finds it by identity): each
/// is also in the target's <see cref="TlsKeyRegistry"/> for the handshake. A new exchange for the same pair replaces
/// the old key in both, so only the newest generated identity opens a TLS connection.
/// </summary>
internal sealed class GeneratedPskRegistry
{
    private readonly Dictionary<(string Host, string Subsystem), NvmeTlsPsk> _keys = [];
    private readonly TlsKeyRegistry _handshakeKeys;
    private long _generated;

    public GeneratedPskRegistry(TlsKeyRegistry handshakeKeys) => _handshakeKeys = handshakeKeys;

    /// <summary>Keys generated so far (replacements included).</summary>
    public long Generated => Interlocked.Read(ref _generated);

    public void Register(string hostNqn, string subsystemNqn, NvmeTlsPsk psk)
    {
        lock (_keys)
        {
            if (_keys.Remove((hostNqn, subsystemNqn), out var old))
            {
                _handshakeKeys.Remove(old.Identity);
            }

            _keys[(hostNqn, subsystemNqn)] = psk;
            _handshakeKeys.Add(psk);
        }

        Interlocked.Increment(ref _generated);
    }

    public NvmeTlsPsk? Find(string hostNqn, string subsystemNqn)
    {
        lock (_keys)
        {
            return _keys.GetValueOrDefault((hostNqn, subsystemNqn));
        }
    }

    /// <summary>The key whose identity is <paramref name="identity"/>, with the host and subsystem it was generated for.</summary>
    public bool TryFind(string identity, [NotNullWhen(true)] out NvmeTlsPsk? psk, out string hostNqn, out string subsystemNqn)
    {
        lock (_keys)
        {
            foreach (var ((host, subsystem), key) in _keys)
            {
                if (key.Identity == identity)
                {
                    (psk, hostNqn, subsystemNqn) = (key, host, subsystem);
                    return true;
                }
            }
        }

        (psk, hostNqn, subsystemNqn) = (null, string.Empty, string.Empty);
        return false;
    }
}
