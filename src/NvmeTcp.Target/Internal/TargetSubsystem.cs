using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target.Internal;

/// <summary>A namespace as served: its store, geometry and identifiers.</summary>
internal sealed class TargetNamespace
{
    private const int NguidLength = NamespaceDescriptorLayout.NguidLength;
    private const int Eui64Length = NamespaceDescriptorLayout.Eui64Length;

    public TargetNamespace(string subsystemNqn, NvmeNamespaceOptions options)
    {
        Nsid = options.Nsid;
        BlockSize = options.BlockSize;
        BlockShift = options.BlockSize == 512 ? 9 : 12;
        BlockCount = (ulong)(options.SizeBytes / options.BlockSize);
        Backing = options.Backing;
        AnaGroupId = options.AnaGroupId;
        Store = NamespaceStore.Create(options);

        // Stable identifiers: SHA-256 of "NQN/NSID", so a restarted target presents the same namespace.
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{subsystemNqn}/{options.Nsid}"), hash);
        Nguid = options.Nguid?.ToArray() ?? hash[..NguidLength].ToArray();
        Eui64 = options.Eui64?.ToArray() ?? hash.Slice(NguidLength, Eui64Length).ToArray();
        if (options.Uuid is { } uuid)
        {
            Uuid = uuid;
        }
        else
        {
            Span<byte> bytes = stackalloc byte[NamespaceDescriptorLayout.UuidLength];
            hash[^bytes.Length..].CopyTo(bytes);
            bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // RFC 9562 version 8 (custom)
            bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
            Uuid = new Guid(bytes, bigEndian: true);
        }

        if (Nguid.Length != NguidLength || Eui64.Length != Eui64Length)
        {
            throw new ArgumentException($"Namespace {Nsid}: an NGUID takes {NguidLength} bytes and an EUI-64 {Eui64Length}.");
        }
    }

    public uint Nsid { get; }

    public int BlockSize { get; }

    public int BlockShift { get; }

    public ulong BlockCount { get; }

    public NvmeNamespaceBacking Backing { get; }

    /// <summary>ANAGRPID: the group whose per-port state gates I/O.</summary>
    public uint AnaGroupId { get; }

    public NamespaceStore Store { get; }

    public byte[] Nguid { get; }

    public byte[] Eui64 { get; }

    public Guid Uuid { get; }

    /// <summary>Registrants and the reservation (Reservation Register, Acquire, Release, Report).</summary>
    public Reservations Reservations { get; } = new();
}

/// <summary>A subsystem as served: identity, limits, namespaces and live controllers.</summary>
internal sealed class TargetSubsystem
{
    /// <summary>
    /// MDTS of the discovery controller: 1 MiB, a log of 1,023 entries in one command. nvmet reports 0 (no limit); a
    /// limit is what keeps one 72-byte Get Log Page from making the target send 64 MiB to any host, no NQN needed.
    /// </summary>
    public const byte DiscoveryMdts = 8;

    /// <summary>Admin queue in-capsule data (NVMe/TCP: 8 KiB; Linux NVME_TCP_ADMIN_CCSZ).</summary>
    public const int AdminInCapsuleSize = 8192;

    private readonly ConcurrentDictionary<ushort, Controller> _controllers = new();
    private readonly object _sync = new();
    private TargetNamespace[] _namespaces;
    private int _nextCntlid;
    private int _maxIoQueues;
    private bool _controllersFatal;

    public TargetSubsystem(NvmeSubsystemOptions options)
    {
        Nqn = options.Nqn;
        IsDiscovery = false;
        SerialNumber = options.SerialNumber ?? DeriveSerial(options.Nqn);
        ModelNumber = options.ModelNumber;
        FirmwareRevision = options.FirmwareRevision;
        AllowedHosts = options.AllowedHosts.ToHashSet(StringComparer.Ordinal);
        Authentication = options.HostAuthentication.ToDictionary(a => a.HostNqn, StringComparer.Ordinal);
        Mdts = options.Mdts;
        Ioccsz = options.Ioccsz;
        MaxIoQueues = options.MaxIoQueues;
        MaxQueueSize = options.MaxQueueSize;
        Kas = options.Kas;
        TrafficBasedKeepAlive = options.TrafficBasedKeepAlive;
        if (Ioccsz < 4 || MaxIoQueues < 1 || MaxQueueSize is < 2 or > 65536)
        {
            throw new ArgumentException($"Subsystem {Nqn}: IOCCSZ must be at least 4, MaxIoQueues at least 1, MaxQueueSize 2 to 65536.");
        }

        _namespaces = options.Namespaces.Select(n => new TargetNamespace(Nqn, n)).OrderBy(n => n.Nsid).ToArray();
        if (_namespaces.Select(n => n.Nsid).Distinct().Count() != _namespaces.Length)
        {
            throw new ArgumentException($"Subsystem {Nqn}: two namespaces share an NSID.");
        }
    }

    private TargetSubsystem()
    {
        Nqn = NvmeQualifiedName.Discovery;
        IsDiscovery = true;
        SerialNumber = DeriveSerial(Nqn);
        ModelNumber = "NvmeTcp.Target discovery";
        FirmwareRevision = "1.0";
        AllowedHosts = [];
        Authentication = [];
        Ioccsz = IdentifyControllerLayout.CommandCapsuleSize(AdminInCapsuleSize);
        MaxQueueSize = 128;
        Mdts = DiscoveryMdts;
        Kas = 10;
        _namespaces = [];
    }

    /// <summary>The discovery subsystem.</summary>
    public static TargetSubsystem CreateDiscovery() => new();

    public string Nqn { get; }

    public bool IsDiscovery { get; }

    public string SerialNumber { get; }

    public string ModelNumber { get; }

    public string FirmwareRevision { get; }

    public HashSet<string> AllowedHosts { get; }

    public byte Mdts { get; }

    public uint Ioccsz { get; }

    /// <summary>Controllers report a fatal status (CSTS.CFS) when enabled (NvmeTargetTestHooks.SetControllersFatal).</summary>
    public bool ControllersFatal
    {
        get => Volatile.Read(ref _controllersFatal);
        set => Volatile.Write(ref _controllersFatal, value);
    }

    // Changeable between associations (NvmeTcpTarget.SetMaxIoQueues): read at each Set Features Number of Queues.
    public int MaxIoQueues
    {
        get => Volatile.Read(ref _maxIoQueues);
        set => Volatile.Write(ref _maxIoQueues, value);
    }

    public int MaxQueueSize { get; }

    public ushort Kas { get; }

    /// <summary>CTRATT bit 6 (TBKAS) reported.</summary>
    public bool TrafficBasedKeepAlive { get; }

    /// <summary>In-capsule data an I/O queue takes: IOCCSZ less the SQE.</summary>
    public int IoInCapsuleSize => (int)Math.Min(int.MaxValue / 2, IdentifyControllerLayout.InCapsuleDataSize(Ioccsz));

    /// <summary>Largest data transfer in bytes, or <see cref="long.MaxValue"/> without a limit.</summary>
    public long MaxTransferBytes => Mdts == 0 ? long.MaxValue : (long)ControllerCapabilities.BasePageSize << Mdts;

    /// <summary>Namespaces by ascending NSID (an immutable snapshot).</summary>
    public IReadOnlyList<TargetNamespace> Namespaces => Volatile.Read(ref _namespaces);

    public IEnumerable<Controller> Controllers => _controllers.Values;

    /// <summary>DH-HMAC-CHAP settings by host NQN; a host without an entry connects without authenticating.</summary>
    public Dictionary<string, NvmeHostAuthentication> Authentication { get; }

    public bool IsHostAllowed(string hostNqn) => IsDiscovery || AllowedHosts.Count == 0 || AllowedHosts.Contains(hostNqn);

    public TargetNamespace? FindNamespace(uint nsid)
    {
        // Indexed over the array snapshot: no enumerator allocated on the I/O path.
        var namespaces = Volatile.Read(ref _namespaces);
        foreach (var ns in namespaces)
        {
            if (ns.Nsid == nsid)
            {
                return ns;
            }
        }

        return null;
    }

    public void AddNamespace(TargetNamespace ns)
    {
        lock (_sync)
        {
            if (FindNamespace(ns.Nsid) is not null)
            {
                throw new InvalidOperationException($"Subsystem {Nqn} already has namespace {ns.Nsid}.");
            }

            Volatile.Write(ref _namespaces, _namespaces.Append(ns).OrderBy(n => n.Nsid).ToArray());
        }
    }

    public bool RemoveNamespace(uint nsid)
    {
        lock (_sync)
        {
            var kept = _namespaces.Where(n => n.Nsid != nsid).ToArray();
            if (kept.Length == _namespaces.Length)
            {
                return false;
            }

            Volatile.Write(ref _namespaces, kept);
            return true;
        }
    }

    /// <summary>Registers a new controller under a free CNTLID (1 to 0xFFEF), or returns null when none is free.</summary>
    public Controller? CreateController(Func<ushort, Controller> factory)
    {
        lock (_sync)
        {
            for (var i = 0; i < 0xFFEF; i++)
            {
                var id = (ushort)((_nextCntlid++ % 0xFFEF) + 1);
                if (!_controllers.ContainsKey(id))
                {
                    var controller = factory(id);
                    _controllers[id] = controller;
                    return controller;
                }
            }

            return null;
        }
    }

    public Controller? FindController(ushort cntlid) => _controllers.TryGetValue(cntlid, out var c) ? c : null;

    public void RemoveController(Controller controller) => _controllers.TryRemove(new KeyValuePair<ushort, Controller>(controller.Cntlid, controller));

    private static string DeriveSerial(string nqn)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(nqn), hash);
        return Convert.ToHexStringLower(hash[..10]);
    }
}
