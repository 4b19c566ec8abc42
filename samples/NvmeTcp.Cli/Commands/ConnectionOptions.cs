using System.CommandLine;
using System.Net;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Auth;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// The connection options of a verb that connects, with nvme-cli's names and short forms
/// (<c>nvme connect -t tcp -a ADDR -s PORT -n NQN</c>). One instance per command (an option shared by many commands
/// would collect parents from every root ever built); the verb's action reads the values through it.
/// </summary>
internal sealed class ConnectionOptions
{
    private readonly Option<string?> _traddr = new("--traddr", "-a")
    {
        Description = "Target address (host name or IP). Default: nvme-cli's configuration: the TCP port of --nqn (or the first) in --config, for discover the first line of --discovery-conf.",
    };

    private readonly Option<string> _config = new("--config", "-J")
    {
        Description = "libnvme's JSON configuration (hosts, subsystems, ports, DH-HMAC-CHAP and TLS keys), read when --traddr is not given; 'none' to ignore it. A port's tls, tls_key, tls_key_identity, keyring and concat are honoured.",
        DefaultValueFactory = _ => NvmeCliConfig.DefaultConfigPath,
    };

    private readonly Option<string> _discoveryConf = new("--discovery-conf")
    {
        Description = "nvme-cli's discovery.conf (one line of discover arguments per controller), read by discover when --traddr is not given; 'none' to ignore it.",
        DefaultValueFactory = _ => NvmeCliConfig.DefaultDiscoveryPath,
    };

    private readonly Option<int> _trsvcid = new("--trsvcid", "-s")
    {
        Description = "Target TCP port.",
        DefaultValueFactory = _ => NvmeTcpOptions.DefaultPort,
    };

    private readonly Option<string?> _nqn = new("--nqn", "-n")
    {
        Description = "Subsystem NQN. Default: the first NVM subsystem the target's discovery log lists.",
    };

    private readonly Option<string?> _hostNqn = new("--hostnqn", "-q")
    {
        Description = "Host NQN. Default: nqn.2014-08.org.nvmexpress:uuid:<hostid> with --hostid, else this host's (see show-hostnqn).",
    };

    private readonly Option<Guid?> _hostId = new("--hostid", "-I")
    {
        Description = "Host identifier (a UUID). Default: this host's, stable across runs (see show-hostnqn).",
    };

    private readonly Option<bool> _headerDigest = new("--hdr-digest", "-g")
    {
        Description = "Ask for header digests (CRC-32C over every PDU header).",
    };

    private readonly Option<bool> _dataDigest = new("--data-digest", "-G")
    {
        Description = "Ask for data digests (CRC-32C over all data).",
    };

    private readonly Option<int?> _ioQueues = new("--nr-io-queues", "-i")
    {
        Description = "I/O queues to ask for, each a TCP connection. Default: 0 for admin verbs, 1 for I/O verbs, the processor count (at most 8) for perf.",
    };

    private readonly Option<int> _queueSize = new("--queue-size", "-Q")
    {
        Description = "Entries per I/O queue.",
        DefaultValueFactory = _ => 128,
    };

    private readonly Option<int> _keepAliveTimeout = new("--keep-alive-tmo", "-k")
    {
        Description = "Keep-alive timeout in seconds (0 disables keep-alive).",
        DefaultValueFactory = _ => 5,
    };

    private readonly Option<int?> _timeout = new("--timeout")
    {
        Description = "Timeout of each command in milliseconds (default: 60000 admin, 30000 I/O, as Linux); on expiry the association is reset.",
    };

    private readonly Option<int> _ctrlLossTmo = new("--ctrl-loss-tmo")
    {
        Description = "Seconds to keep reconnecting after the connection fails before giving up (-1: forever, 0: never reconnect).",
        DefaultValueFactory = _ => 600,
    };

    private readonly Option<int> _reconnectDelay = new("--reconnect-delay")
    {
        Description = "Seconds between reconnect attempts.",
        DefaultValueFactory = _ => 10,
    };

    private readonly Option<int?> _fastIoFailTmo = new("--fast_io_fail_tmo")
    {
        Description = "Seconds after a connection failure after which waiting I/O fails instead of waiting for the reconnect (default: off).",
    };

    private readonly Option<string?> _dhchapSecret = new("--dhchap-secret")
    {
        Description = "DH-HMAC-CHAP host secret (DHHC-1:hh:<base64>:, as `nvme gen-dhchap-key` makes): authenticate when the controller asks. Never printed.",
    };

    private readonly Option<string?> _dhchapControllerSecret = new("--dhchap-ctrl-secret")
    {
        Description = "DH-HMAC-CHAP controller secret: authenticate the controller too (bidirectional); needs --dhchap-secret. Never printed.",
    };

    private readonly Option<bool> _concat = new("--concat")
    {
        Description = "Secure channel concatenation (Linux 6.15+): DH-HMAC-CHAP in the clear generates a TLS PSK (identity NVMe1Ghh ...), and the admin and I/O queues then run TLS 1.3 with it, regenerated on every reconnect. Needs --dhchap-secret and a controller DH group other than null; not with --tls or --tls-key.",
    };

    private readonly Option<bool> _tls = new("--tls")
    {
        Description = "Run every queue inside TLS 1.3 with a PSK (NVMe/TCP TLS); the PSK comes from --tls-key, or is looked up in --keyring by identity. Never falls back to plain TCP.",
    };

    private readonly Option<string?> _tlsKey = new("--tls-key")
    {
        Description = "Configured TLS PSK (NVMeTLSkey-1:hh:<base64>:, as `nvme gen-tls-key` prints): TLS with the PSK derived for this host and subsystem, identity version 1 as nvme-cli's --tls-key. Implies --tls. Never printed.",
    };

    private readonly Option<string?> _tlsKeyIdentity = new("--tls-key-identity")
    {
        Description = "The PSK identity to offer with --tls-key: the version 0 ('NVMe0Rhh HOSTNQN SUBNQN') or version 1 identity derived from it; any other is refused.",
    };

    private readonly Option<string?> _keyring = new("--keyring")
    {
        Description = "A key file standing for the kernel keyring: lines 'IDENTITY NVMeTLSkey-V:hh:<base64>:' as `check-tls-key --keyfile` (and nvme-cli's --insert --keyfile) append them; --tls looks the PSK up there in the Linux host's order (version 1 before 0, SHA-384 before SHA-256).",
    };

    // Multipath verbs: -a and -s may be given several times, one path per pair.
    private readonly Option<string[]> _traddrs = new("--traddr", "-a")
    {
        Description = "Target address of a path; give -a (and -s) once per path: the i-th -s goes with the i-th -a, a single -s with every -a. Default: as for the other verbs.",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<int[]> _trsvcids = new("--trsvcid", "-s")
    {
        Description = "Target TCP port of a path (once, or once per -a).",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<bool> _discover = new("--discover")
    {
        Description = "The -a/-s pairs are discovery controllers: every TCP entry of the subsystem in their logs (following referrals) becomes a path.",
    };

    private readonly Option<string> _ioPolicy = new("--iopolicy")
    {
        Description = "Path selection, as Linux's iopolicy: numa (first usable path), round-robin, queue-depth (fewest I/Os in flight).",
        DefaultValueFactory = _ => "numa",
    };

    private readonly int _defaultIoQueues;
    private readonly bool _withNqn;
    private readonly bool _multipath;

    /// <param name="defaultIoQueues">I/O queues to ask for without --nr-io-queues.</param>
    /// <param name="withNqn">False for discover, which always talks to the discovery subsystem.</param>
    /// <param name="multipath">True for the verbs that connect a subsystem over several paths (repeatable -a/-s, --discover, --iopolicy).</param>
    public ConnectionOptions(int defaultIoQueues, bool withNqn = true, bool multipath = false)
    {
        _defaultIoQueues = defaultIoQueues;
        _withNqn = withNqn;
        _multipath = multipath;
        _ioPolicy.AcceptOnlyFromAmong(IoPolicies.Keys.ToArray());
    }

    /// <summary>Whether the verb takes several paths.</summary>
    public bool IsMultipath => _multipath;

    /// <summary>--iopolicy's values, as Linux's sysfs iopolicy names them.</summary>
    public static IReadOnlyDictionary<string, NvmeIoPolicy> IoPolicies { get; } = new Dictionary<string, NvmeIoPolicy>
    {
        ["numa"] = NvmeIoPolicy.Numa,
        ["round-robin"] = NvmeIoPolicy.RoundRobin,
        ["queue-depth"] = NvmeIoPolicy.QueueDepth,
    };

    /// <summary>An I/O policy by its Linux name.</summary>
    public static string IoPolicyName(NvmeIoPolicy policy) => IoPolicies.First(p => p.Value == policy).Key;

    /// <summary>
    /// Adds the connection options to <paramref name="command"/>, and a validator that refuses values the client
    /// would refuse (a port of 0, a queue size of 1) before anything connects.
    /// </summary>
    public void AddTo(Command command)
    {
        if (_multipath)
        {
            command.Options.Add(_traddrs);
            command.Options.Add(_trsvcids);
            command.Options.Add(_discover);
            command.Options.Add(_ioPolicy);
        }
        else
        {
            command.Options.Add(_traddr);
            command.Options.Add(_trsvcid);
        }

        command.Options.Add(_config);
        if (_withNqn)
        {
            command.Options.Add(_nqn);
        }
        else
        {
            command.Options.Add(_discoveryConf);
        }

        foreach (var option in new Option[] { _hostNqn, _hostId, _dhchapSecret, _dhchapControllerSecret, _concat, _tls, _tlsKey, _tlsKeyIdentity, _keyring, _headerDigest, _dataDigest, _ioQueues, _queueSize, _keepAliveTimeout, _timeout, _ctrlLossTmo, _reconnectDelay, _fastIoFailTmo })
        {
            command.Options.Add(option);
        }

        command.Check(values =>
        {
            try
            {
                Build(values).Validate();
                if (_multipath)
                {
                    Paths(values);
                }

                return null;
            }
            catch (ArgumentException e)
            {
                return $"bad connection option: {e.Message}";
            }
        });
    }

    /// <summary>
    /// Gives the timeout and reconnect options nvme-cli's short forms where <paramref name="command"/>'s own options
    /// leave the letter free (perf's -t is --time, get-log's and the passthru verbs' -l are --log-len and --data-len,
    /// as in nvme-cli; perf's -S is --io-size, so there --dhchap-secret has only its long form), and takes -g/-G from
    /// the digest options where the verb has its own. Called once the command has all its options.
    /// </summary>
    public void AddShortForms(Command command)
    {
        foreach (var (option, alias) in new (Option Option, string Alias)[] { (_timeout, "-t"), (_ctrlLossTmo, "-l"), (_reconnectDelay, "-c"), (_dhchapSecret, "-S"), (_dhchapControllerSecret, "-C") })
        {
            if (!command.Options.Any(o => o.Name == alias || o.Aliases.Contains(alias)))
            {
                option.Aliases.Add(alias);
            }
        }

        // The digests' -g and -G give way to a verb's own (ana-log's -g is --groups, as in nvme-cli).
        foreach (var (option, alias) in new (Option Option, string Alias)[] { (_headerDigest, "-g"), (_dataDigest, "-G") })
        {
            if (command.Options.Any(o => o != option && o.Aliases.Contains(alias)))
            {
                option.Aliases.Remove(alias);
            }
        }
    }

    // What the command line leaves unsaid comes from nvme-cli's configuration.
    private void ApplyConfigured(OptionValues values, NvmeTcpOptions options, NvmeCliConnection configured)
    {
        if (!PortGiven(values))
        {
            options.Port = configured.Port ?? (_withNqn ? NvmeTcpOptions.DefaultPort : NvmeTcpOptions.DefaultDiscoveryPort);
        }

        if (!values.Given(_hostId) && !values.Given(_hostNqn))
        {
            if (configured.HostId is { } id)
            {
                options.HostId = id;
            }

            if (configured.HostNqn is { Length: > 0 } nqn)
            {
                options.HostNqn = nqn;
            }
        }

        // libnvme's concat: the PSK is generated, so no TLS key of the configuration is used with it.
        options.Concatenation |= configured.Concat;

        // The keys are the configured host's: with another host on the command line, they are not used.
        var configuredHost = configured.HostNqn is { Length: > 0 } hostNqn ? options.HostNqn == hostNqn : !values.Given(_hostId) && !values.Given(_hostNqn);
        if (options.Tls is null && !options.Concatenation && (configured.Tls || configured.TlsKey is not null))
        {
            // libnvme's tls / tls_key / tls_key_identity / keyring; a key written for another host is not this host's.
            var key = configuredHost ? configured.TlsKey : null;
            if (key is null && configured.Keyring is null)
            {
                throw new ArgumentException($"the configuration asks for TLS to {configured.SubsystemNqn ?? configured.Address} without a tls_key or keyring this host can use");
            }

            options.Tls = ReadTls(true, key, key is null ? null : configured.TlsKeyIdentity, configured.Keyring, "the configuration's tls_key");
        }
        if (configuredHost && !values.Given(_dhchapSecret) && configured.DhchapSecret is { } secret)
        {
            options.DhchapSecret = ReadSecret(secret, "dhchap_key");
        }

        if (configuredHost && !values.Given(_dhchapControllerSecret) && configured.DhchapControllerSecret is { } controllerSecret)
        {
            options.DhchapControllerSecret = ReadSecret(controllerSecret, "dhchap_ctrl_key");
        }

        options.HeaderDigest |= configured.HeaderDigest ?? false;
        options.DataDigest |= configured.DataDigest ?? false;
        if (!values.Given(_ioQueues) && configured.IoQueues is { } queues)
        {
            options.IoQueueCount = queues;
        }

        if (!values.Given(_queueSize) && configured.QueueSize is { } size)
        {
            options.IoQueueSize = size;
        }

        if (!values.Given(_keepAliveTimeout) && configured.KeepAliveTimeout is { } kato)
        {
            options.KeepAliveTimeout = TimeSpan.FromSeconds(kato);
        }

        if (!values.Given(_reconnectDelay) && configured.ReconnectDelay is { } delay)
        {
            options.ReconnectDelay = TimeSpan.FromSeconds(delay);
        }

        if (!values.Given(_ctrlLossTmo) && configured.ControllerLossTimeout is { } loss)
        {
            options.ControllerLossTimeout = loss < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(loss);
        }

        if (!values.Given(_fastIoFailTmo) && configured.FastIoFailTimeout is { } fastFail)
        {
            options.FastIoFailTimeout = fastFail < 0 ? null : TimeSpan.FromSeconds(fastFail);
        }
    }

    /// <summary>The --nqn the command line gives, if any.</summary>
    public string? ReadNqn(ParseResult parseResult)
    {
        if (!_withNqn)
        {
            return null;
        }

        var values = new OptionValues(parseResult.CommandResult);
        return parseResult.GetValue(_nqn) ?? Configured(values)?.SubsystemNqn;
    }

    // Without --traddr: the connection nvme-cli's configuration gives (for --nqn, if given), else null.
    private NvmeCliConnection? Configured(OptionValues values)
    {
        if (Address(values) is { Length: > 0 })
        {
            return null;
        }

        if (!_withNqn)
        {
            var discovery = values.Get(_discoveryConf);
            if (discovery != "none" && NvmeCliConfig.ReadDiscovery(discovery) is [var first, ..])
            {
                return first;
            }
        }

        var config = values.Get(_config);
        if (config == "none")
        {
            return null;
        }

        var nqn = _withNqn ? values.Get(_nqn) : null;
        return NvmeCliConfig.ReadConfig(config).FirstOrDefault(c => nqn is null || c.SubsystemNqn == nqn);
    }

    /// <summary>The client options the command line asks for (checked when it was parsed); the NQN is left unset.</summary>
    public NvmeTcpOptions Read(ParseResult parseResult) => Build(new OptionValues(parseResult.CommandResult));

    private NvmeTcpOptions Build(OptionValues values)
    {
        var configured = Configured(values);
        if (configured is null && Address(values) is not { Length: > 0 })
        {
            throw new ArgumentException(_withNqn
                ? $"--traddr is required: {values.Get(_config)} has no TCP port{(values.Get(_nqn) is { } n ? $" for {n}" : string.Empty)}."
                : $"--traddr is required: neither {values.Get(_discoveryConf)} nor {values.Get(_config)} names a TCP discovery controller.");
        }

        var options = new NvmeTcpOptions
        {
            Address = configured?.Address ?? Address(values)!,
            Port = Port(values),
            HeaderDigest = values.Get(_headerDigest),
            DataDigest = values.Get(_dataDigest),
            IoQueueCount = values.Get(_ioQueues) ?? _defaultIoQueues,
            IoQueueSize = values.Get(_queueSize),
            KeepAliveTimeout = TimeSpan.FromSeconds(values.Get(_keepAliveTimeout)),
            ReconnectDelay = TimeSpan.FromSeconds(values.Get(_reconnectDelay)),
        };
        var lossTimeout = values.Get(_ctrlLossTmo);
        options.ControllerLossTimeout = lossTimeout < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(lossTimeout);
        if (values.Get(_fastIoFailTmo) is { } fastIoFail)
        {
            options.FastIoFailTimeout = fastIoFail < 0 ? null : TimeSpan.FromSeconds(fastIoFail);
        }

        if (values.Get(_timeout) is { } timeoutMs)
        {
            options.AdminTimeout = options.IoTimeout = TimeSpan.FromMilliseconds(timeoutMs);
        }

        if (values.Get(_hostId) is { } hostId)
        {
            options.HostId = hostId;
        }

        if (values.Get(_hostNqn) is { Length: > 0 } hostNqn)
        {
            options.HostNqn = hostNqn;
        }

        options.DhchapSecret = ReadSecret(values.Get(_dhchapSecret), "--dhchap-secret");
        options.DhchapControllerSecret = ReadSecret(values.Get(_dhchapControllerSecret), "--dhchap-ctrl-secret");
        options.Tls = ReadTls(values.Get(_tls), values.Get(_tlsKey), values.Get(_tlsKeyIdentity), values.Get(_keyring), "--tls-key");
        options.Concatenation = values.Get(_concat);
        if (configured is not null)
        {
            ApplyConfigured(values, options, configured);
        }

        return options;
    }

    /// <summary>
    /// The paths a multipath verb names: the -a/-s pairs (or the one address nvme-cli's configuration gives), and
    /// whether they are discovery controllers (--discover).
    /// </summary>
    public (IReadOnlyList<DnsEndPoint> EndPoints, bool Discovery, NvmeIoPolicy Policy) ReadPaths(ParseResult parseResult)
    {
        var values = new OptionValues(parseResult.CommandResult);
        return (Paths(values), values.Get(_discover), IoPolicies[values.Get(_ioPolicy)]);
    }

    private List<DnsEndPoint> Paths(OptionValues values)
    {
        var options = Build(values);
        var addresses = values.Get(_traddrs) is { Length: > 0 } given ? given : [options.Address];
        // A discovery controller listens on 8009 unless told otherwise.
        var ports = values.Get(_trsvcids) is { Length: > 0 } p ? p
            : [values.Get(_discover) && Configured(values) is null ? NvmeTcpOptions.DefaultDiscoveryPort : options.Port];
        if (ports.Length != 1 && ports.Length != addresses.Length)
        {
            throw new ArgumentException($"{ports.Length} -s for {addresses.Length} -a: give one -s for all, or one per -a.");
        }

        var paths = new List<DnsEndPoint>();
        for (var i = 0; i < addresses.Length; i++)
        {
            var port = ports.Length == 1 ? ports[0] : ports[i];
            if (port is < 1 or > 65535 || addresses[i].Length == 0)
            {
                throw new ArgumentException($"path {i + 1}: '{addresses[i]}:{port}' is not an address and TCP port.");
            }

            paths.Add(new DnsEndPoint(addresses[i], port));
        }

        return paths;
    }

    // The first (or only) -a and -s.
    private string? Address(OptionValues values) => _multipath ? values.Get(_traddrs) is [var first, ..] ? first : null : values.Get(_traddr);

    private int Port(OptionValues values) => _multipath
        ? values.Get(_trsvcids) is [var first, ..] ? first : NvmeTcpOptions.DefaultPort
        : values.Get(_trsvcid);

    private bool PortGiven(OptionValues values) => values.Given(_multipath ? _trsvcids : _trsvcid);

    /// <summary>
    /// TLS options from nvme-cli's four: a configured key (with an identity that picks its version), or a key file
    /// looked up by identity. Null without --tls and --tls-key. The errors never quote a key.
    /// </summary>
    internal static NvmeTlsOptions? ReadTls(bool tls, string? keyText, string? identity, string? keyring, string keyName)
    {
        if (keyText is null)
        {
            if (identity is not null)
            {
                throw new ArgumentException("--tls-key-identity needs --tls-key.");
            }

            if (!tls)
            {
                return keyring is null ? null : throw new ArgumentException("--keyring needs --tls: it holds TLS PSKs.");
            }

            if (keyring is null)
            {
                throw new ArgumentException("--tls needs --tls-key, or --keyring with a key file (there is no kernel keyring here).");
            }

            var psks = ReadKeyFile(keyring);

            // The Linux host looks version-1 identities up by prefix: the digest depends on the key, not on the names.
            return new NvmeTlsOptions { KeyLookup = prefix => psks.FirstOrDefault(p => p.Identity == prefix || p.Identity.StartsWith(prefix + " ", StringComparison.Ordinal)) };
        }

        if (!Protocol.Tls.NvmeTlsKey.TryParse(keyText, out var key, out var error))
        {
            throw new ArgumentException($"{keyName}: {error}");
        }

        if (identity is null)
        {
            return new NvmeTlsOptions { Key = key };
        }

        // The identity names its version (NVMe0R / NVMe1R) and the NQNs; only what the key derives for them is used.
        var version = identity.StartsWith("NVMe0R", StringComparison.Ordinal) ? 0 : identity.StartsWith("NVMe1R", StringComparison.Ordinal) ? 1
            : throw new ArgumentException("--tls-key-identity: a PSK identity starts with NVMe0R or NVMe1R.");
        return new NvmeTlsOptions
        {
            KeyLookup = prefix =>
            {
                var parts = prefix.Split(' ');
                if (parts.Length != 3 || !prefix.StartsWith($"NVMe{version}R", StringComparison.Ordinal))
                {
                    return null;
                }

                var psk = key.DeriveTlsPsk(parts[1], parts[2], version);
                return psk.Identity == identity ? psk : null;
            },
        };
    }

    private static List<Protocol.Tls.NvmeTlsPsk> ReadKeyFile(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"--keyring: cannot read {path}: {e.Message}");
        }

        var psks = new List<Protocol.Tls.NvmeTlsPsk>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!Protocol.Tls.NvmeTlsPsk.TryParseKeyFileLine(lines[i], out var psk, out var error))
            {
                throw new ArgumentException($"--keyring: {path} line {i + 1}: {error}");
            }

            if (psk is not null)
            {
                psks.Add(psk);
            }
        }

        return psks;
    }

    // The parse error never quotes the secret, so it may go to stderr as it is.
    private static DhchapSecret? ReadSecret(string? text, string name) =>
        text is null ? null
        : DhchapSecret.TryParse(text, out var secret, out var error) ? secret
        : throw new ArgumentException($"{name}: {error}", name);
}
