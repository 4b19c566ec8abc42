namespace NvmeTcp.Client.Hosting;

/// <summary>
/// One named controller as configuration gives it (a section under <c>NvmeTcp:Controllers</c>); the names follow
/// <see cref="NvmeTcpOptions"/>. Unset values take <see cref="NvmeTcpOptions"/>' defaults.
/// </summary>
public sealed class NvmeControllerSettings
{
    /// <summary>TRADDR: the target's host name or IP address. Required.</summary>
    public string? Address { get; set; }

    /// <summary>TRSVCID: the target's TCP port. Default 4420.</summary>
    public int Port { get; set; } = NvmeTcpOptions.DefaultPort;

    /// <summary>SUBNQN: the subsystem to connect to. Required.</summary>
    public string? SubsystemNqn { get; set; }

    /// <summary>HOSTNQN; default: this host's (<see cref="NvmeHostIdentity.Default"/>).</summary>
    public string? HostNqn { get; set; }

    /// <summary>HOSTID; default: this host's (<see cref="NvmeHostIdentity.Default"/>).</summary>
    public Guid? HostId { get; set; }

    /// <summary>I/O queues to ask for; default <see cref="NvmeTcpOptions.IoQueueCount"/>'s.</summary>
    public int? IoQueueCount { get; set; }

    /// <summary>Commands per I/O queue; default 128.</summary>
    public int? IoQueueSize { get; set; }

    /// <summary>Header digests.</summary>
    public bool HeaderDigest { get; set; }

    /// <summary>Data digests.</summary>
    public bool DataDigest { get; set; }

    /// <summary>KATO; default 5 s.</summary>
    public TimeSpan? KeepAliveTimeout { get; set; }

    /// <summary>Time between reconnect attempts; default 10 s. Also the hosted service's wait between connect attempts.</summary>
    public TimeSpan? ReconnectDelay { get; set; }

    /// <summary>ctrl_loss_tmo; default 600 s. Past it the controller is deleted, and the hosted service connects anew.</summary>
    public TimeSpan? ControllerLossTimeout { get; set; }

    /// <summary>fast_io_fail_tmo; default off.</summary>
    public TimeSpan? FastIoFailTimeout { get; set; }

    /// <summary>
    /// The host's DH-HMAC-CHAP secret in nvme-cli's form (<c>DHHC-1:hh:base64:</c>), e.g. from a secret store bound into
    /// configuration. Never logged: the options keep it as a <see cref="NvmeTcp.Protocol.Auth.DhchapSecret"/>, whose
    /// text shows no key, and a malformed one is reported without its text.
    /// </summary>
    public string? DhchapSecret { get; set; }

    /// <summary>The controller's DH-HMAC-CHAP secret, for bidirectional authentication; same form and care as <see cref="DhchapSecret"/>.</summary>
    public string? DhchapControllerSecret { get; set; }

    /// <summary>The library's options for these settings.</summary>
    /// <exception cref="FormatException">A secret is not in the DHHC-1 form (the message does not quote it).</exception>
    /// <returns>New options; the caller sets the logger factory.</returns>
    public NvmeTcpOptions ToOptions()
    {
        var options = new NvmeTcpOptions
        {
            Address = Address ?? string.Empty,
            Port = Port,
            SubsystemNqn = SubsystemNqn ?? string.Empty,
            HeaderDigest = HeaderDigest,
            DataDigest = DataDigest,
        };
        if (HostId is { } hostId)
        {
            options.HostId = hostId;
        }

        if (!string.IsNullOrEmpty(HostNqn))
        {
            options.HostNqn = HostNqn;
        }

        options.IoQueueCount = IoQueueCount ?? options.IoQueueCount;
        options.IoQueueSize = IoQueueSize ?? options.IoQueueSize;
        options.KeepAliveTimeout = KeepAliveTimeout ?? options.KeepAliveTimeout;
        options.ReconnectDelay = ReconnectDelay ?? options.ReconnectDelay;
        options.ControllerLossTimeout = ControllerLossTimeout ?? options.ControllerLossTimeout;
        options.FastIoFailTimeout = FastIoFailTimeout ?? options.FastIoFailTimeout;
        options.DhchapSecret = ParseSecret(DhchapSecret, nameof(DhchapSecret));
        options.DhchapControllerSecret = ParseSecret(DhchapControllerSecret, nameof(DhchapControllerSecret));
        return options;
    }

    private static NvmeTcp.Protocol.Auth.DhchapSecret? ParseSecret(string? text, string name)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return NvmeTcp.Protocol.Auth.DhchapSecret.TryParse(text, out var secret, out var error)
            ? secret
            : throw new FormatException($"{name}: {error}");
    }
}

/// <summary>What <c>AddNvmeTcp</c> binds: the named controllers.</summary>
public sealed class NvmeTcpHostingOptions
{
    /// <summary>The controllers by name (case-insensitive); each gets a health check named <c>nvmetcp:&lt;name&gt;</c>.</summary>
    public Dictionary<string, NvmeControllerSettings> Controllers { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}
