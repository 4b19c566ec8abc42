using System.Globalization;
using System.Text.Json;

namespace NvmeTcp.Cli.Commands;

/// <summary>One connection nvme-cli's configuration describes: a port of a subsystem, with its host.</summary>
internal sealed record NvmeCliConnection(string Address, int? Port, string? SubsystemNqn, string? HostNqn, Guid? HostId)
{
    public bool? HeaderDigest { get; init; }

    public bool? DataDigest { get; init; }

    public int? IoQueues { get; init; }

    public int? QueueSize { get; init; }

    public int? KeepAliveTimeout { get; init; }

    public int? ReconnectDelay { get; init; }

    public int? ControllerLossTimeout { get; init; }

    public int? FastIoFailTimeout { get; init; }

    /// <summary>The host's DH-HMAC-CHAP secret as written (<c>dhchap_key</c>); parsed, never printed, by the caller.</summary>
    public string? DhchapSecret { get; init; }

    /// <summary>The controller's DH-HMAC-CHAP secret as written (the port's <c>dhchap_ctrl_key</c>).</summary>
    public string? DhchapControllerSecret { get; init; }

    /// <summary>The configuration asks for TLS (<c>tls</c>).</summary>
    public bool Tls { get; init; }

    /// <summary>The configured TLS PSK as written (<c>tls_key</c>, interchange form); parsed, never printed, by the caller.</summary>
    public string? TlsKey { get; init; }

    /// <summary>The PSK identity to offer with <see cref="TlsKey"/> (<c>tls_key_identity</c>).</summary>
    public string? TlsKeyIdentity { get; init; }

    /// <summary>The keyring (<c>keyring</c>): here a key file.</summary>
    public string? Keyring { get; init; }

    /// <summary>The configuration asks for secure channel concatenation (<c>concat</c>): the connection generates its TLS PSK.</summary>
    public bool Concat { get; init; }

    /// <summary>Where the connection came from, never the keys (a record would print every property).</summary>
    public override string ToString() => $"{Address}:{Port} {SubsystemNqn}";
}

/// <summary>
/// What a host set up for nvme-cli has configured: libnvme's JSON configuration (<c>/etc/nvme/config.json</c>: an
/// array of hosts, each with <c>hostnqn</c>, <c>hostid</c> and <c>subsystems</c>, each subsystem with <c>nqn</c> and
/// <c>ports</c>, each port with <c>transport</c>, <c>traddr</c>, <c>trsvcid</c> and the connect options by their
/// libnvme names) and <c>/etc/nvme/discovery.conf</c> (one line of <c>nvme discover</c> arguments per discovery
/// controller).
/// </summary>
/// <remarks>
/// Only TCP ports are taken. DH-HMAC-CHAP keys are read where libnvme's JSON reader reads them: the host's
/// <c>dhchap_key</c> (libnvme prefers it to the port's <c>dhchap_key</c>, as here) and the port's <c>dhchap_ctrl_key</c>.
/// A port's TLS settings (<c>tls</c>, <c>tls_key</c>, <c>tls_key_identity</c>, <c>keyring</c>) are read for the caller
/// to honour; <c>concat</c> is marked, so that the caller connects with secure channel concatenation.
/// nvme-cli 3.0 moves to an INI file (<c>/etc/nvme/nvme-fabrics.conf</c>) and converts these two; that file is not read here.
/// </remarks>
internal static class NvmeCliConfig
{
    public const string DefaultConfigPath = "/etc/nvme/config.json";
    public const string DefaultDiscoveryPath = "/etc/nvme/discovery.conf";

    // Larger files are not a configuration: refuse rather than read them.
    private const long MaxFileBytes = 1 << 20;

    /// <summary>The TCP ports of config.json, in file order; none when the file is absent.</summary>
    public static IReadOnlyList<NvmeCliConnection> ReadConfig(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var document = JsonDocument.Parse(ReadSmall(path));
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new CliException($"{path}: the top level must be an array of hosts");
        }

        var connections = new List<NvmeCliConnection>();
        foreach (var host in document.RootElement.EnumerateArray().Where(h => h.ValueKind == JsonValueKind.Object))
        {
            var hostNqn = String(host, "hostnqn");
            var hostId = Guid.TryParse(String(host, "hostid"), out var id) ? id : (Guid?)null;
            var hostKey = String(host, "dhchap_key");
            foreach (var subsystem in Array(host, "subsystems"))
            {
                var nqn = String(subsystem, "nqn");
                foreach (var port in Array(subsystem, "ports"))
                {
                    if (!string.Equals(String(port, "transport"), "tcp", StringComparison.OrdinalIgnoreCase) || String(port, "traddr") is not { Length: > 0 } address)
                    {
                        continue;
                    }

                    connections.Add(new NvmeCliConnection(address, Port(String(port, "trsvcid")), nqn, hostNqn, hostId)
                    {
                        HeaderDigest = Bool(port, "hdr_digest"),
                        DataDigest = Bool(port, "data_digest"),
                        IoQueues = Int(port, "nr_io_queues"),
                        QueueSize = Int(port, "queue_size"),
                        KeepAliveTimeout = Int(port, "keep_alive_tmo"),
                        ReconnectDelay = Int(port, "reconnect_delay"),
                        ControllerLossTimeout = Int(port, "ctrl_loss_tmo"),
                        FastIoFailTimeout = Int(port, "fast_io_fail_tmo"),
                        DhchapSecret = hostKey ?? String(port, "dhchap_key"),
                        DhchapControllerSecret = String(port, "dhchap_ctrl_key"),
                        Tls = Bool(port, "tls") == true,
                        TlsKey = String(port, "tls_key") is { Length: > 0 } tlsKey ? tlsKey : null,
                        TlsKeyIdentity = String(port, "tls_key_identity") is { Length: > 0 } tlsIdentity ? tlsIdentity : null,
                        Keyring = String(port, "keyring") is { Length: > 0 } keyring ? keyring : null,
                        Concat = Bool(port, "concat") == true,
                    });
                }
            }
        }

        return connections;
    }

    /// <summary>The TCP discovery controllers of discovery.conf, in file order; none when the file is absent.</summary>
    public static IReadOnlyList<NvmeCliConnection> ReadDiscovery(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var connections = new List<NvmeCliConnection>();
        foreach (var raw in ReadSmall(path).Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var flags = new HashSet<string>(StringComparer.Ordinal);
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i < words.Length; i++)
            {
                var word = words[i];
                var eq = word.IndexOf('=', StringComparison.Ordinal);
                var name = Canonical(eq > 0 ? word[..eq] : word);
                if (name is "hdr-digest" or "data-digest" or "tls" or "concat")
                {
                    flags.Add(name);
                }
                else if (eq > 0)
                {
                    values[name] = word[(eq + 1)..];
                }
                else if (i + 1 < words.Length)
                {
                    values[name] = words[++i];
                }
            }

            if (values.TryGetValue("transport", out var transport) && !string.Equals(transport, "tcp", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (values.TryGetValue("traddr", out var address) && address.Length > 0)
            {
                connections.Add(new NvmeCliConnection(
                    address,
                    Port(values.GetValueOrDefault("trsvcid")),
                    values.GetValueOrDefault("nqn"),
                    values.GetValueOrDefault("hostnqn"),
                    Guid.TryParse(values.GetValueOrDefault("hostid"), out var id) ? id : null)
                {
                    HeaderDigest = flags.Contains("hdr-digest") ? true : null,
                    DataDigest = flags.Contains("data-digest") ? true : null,
                    DhchapSecret = values.GetValueOrDefault("dhchap-secret"),
                    DhchapControllerSecret = values.GetValueOrDefault("dhchap-ctrl-secret"),
                    Tls = flags.Contains("tls"),
                    TlsKey = values.GetValueOrDefault("tls-key"),
                    TlsKeyIdentity = values.GetValueOrDefault("tls-key-identity"),
                    Keyring = values.GetValueOrDefault("keyring"),
                    Concat = flags.Contains("concat"),
                });
            }
        }

        return connections;
    }

    // nvme discover's long names for its short options.
    private static string Canonical(string option) => option switch
    {
        "-t" or "--transport" => "transport",
        "-a" or "--traddr" => "traddr",
        "-s" or "--trsvcid" => "trsvcid",
        "-n" or "--nqn" => "nqn",
        "-q" or "--hostnqn" => "hostnqn",
        "-I" or "--hostid" => "hostid",
        "-g" or "--hdr-digest" => "hdr-digest",
        "-G" or "--data-digest" => "data-digest",
        "-S" or "--dhchap-secret" => "dhchap-secret",
        "-C" or "--dhchap-ctrl-secret" => "dhchap-ctrl-secret",
        _ => option.TrimStart('-'),
    };

    private static string ReadSmall(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxFileBytes)
        {
            throw new CliException($"{path} is larger than {MaxFileBytes} bytes; not a configuration file");
        }

        return File.ReadAllText(path);
    }

    private static int? Port(string? text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536 ? port : null;

    private static string? String(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool? Bool(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static int? Int(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    private static IEnumerable<JsonElement> Array(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object)
            : [];
}
