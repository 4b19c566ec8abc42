using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target;

/// <summary>One NVM subsystem served by an <see cref="NvmeTcpTarget"/>, with its controllers' capabilities and its namespaces.</summary>
public sealed class NvmeSubsystemOptions
{
    /// <summary>Creates options for the subsystem <paramref name="nqn"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="nqn"/> is empty.</exception>
    public NvmeSubsystemOptions(string nqn)
    {
        ArgumentException.ThrowIfNullOrEmpty(nqn);
        Nqn = nqn;
    }

    /// <summary>The subsystem NQN (at most 223 UTF-8 bytes).</summary>
    public string Nqn { get; }

    /// <summary>Serial number (Identify Controller SN, 20 ASCII characters at most). Default derived from the NQN.</summary>
    public string? SerialNumber { get; set; }

    /// <summary>Model number (Identify Controller MN, 40 ASCII characters at most).</summary>
    public string ModelNumber { get; set; } = "NvmeTcp.Target";

    /// <summary>Firmware revision (Identify Controller FR, 8 ASCII characters at most).</summary>
    public string FirmwareRevision { get; set; } = "1.0";

    /// <summary>Host NQNs allowed to connect; empty (the default) allows any host.</summary>
    public IList<string> AllowedHosts { get; } = new List<string>();

    /// <summary>
    /// DH-HMAC-CHAP per host: a host listed here must authenticate (in-band, after Connect) before anything but
    /// Property Get/Set and the authentication commands; others connect without it.
    /// </summary>
    public IList<NvmeHostAuthentication> HostAuthentication { get; } = new List<NvmeHostAuthentication>();

    /// <summary>
    /// TLS PSKs per host, as <c>nvme check-tls-key --insert</c> puts them in a Linux target's keyring: each configured
    /// key is derived into the TLS PSK of that host and this subsystem with both identity versions (0 and 1), and a
    /// host's ClientHello is matched by the identity it offers. Used on ports with <see cref="NvmeTargetPort.Tls"/>.
    /// </summary>
    public IList<NvmeHostTlsKey> TlsKeys { get; } = new List<NvmeHostTlsKey>();

    /// <summary>The namespaces.</summary>
    public IList<NvmeNamespaceOptions> Namespaces { get; } = new List<NvmeNamespaceOptions>();

    /// <summary>
    /// MDTS (Identify Controller): the largest transfer is 2^MDTS pages of 4 KiB; 0 means no limit. Default 5 (128 KiB).
    /// A longer transfer fails with Invalid Field in Command.
    /// </summary>
    public byte Mdts { get; set; } = 5;

    /// <summary>
    /// IOCCSZ (Identify Controller) in 16-byte units: the I/O command capsule size, so I/O queues take
    /// IOCCSZ * 16 - 64 bytes of in-capsule data. Default 516 (8 KiB of data). The admin queue always takes 8 KiB.
    /// </summary>
    public uint Ioccsz { get; set; } = IdentifyControllerLayout.CommandCapsuleSize(8192);

    /// <summary>Most I/O queues a host gets (Set Features Number of Queues grants at most this). Default 8.</summary>
    public int MaxIoQueues { get; set; } = 8;

    /// <summary>Most entries of an I/O submission queue (CAP.MQES + 1), 2 to 65536. Default 128, as Linux nvmet.</summary>
    public int MaxQueueSize { get; set; } = 128;

    /// <summary>KAS (Identify Controller): keep-alive granularity in 100 ms units. Default 10 (1 s), as Linux nvmet.</summary>
    public ushort Kas { get; set; } = 10;

    /// <summary>
    /// Report Traffic Based Keep Alive support (Identify Controller CTRATT bit 6): a host may then skip Keep Alive while
    /// other commands complete. The target resets its keep-alive timer on any command either way. Default false.
    /// </summary>
    public bool TrafficBasedKeepAlive { get; set; }
}
