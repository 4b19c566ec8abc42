namespace NvmeTcp.Interop.Tests.Harness;

/// <summary>What vm/init.sh configures in the guest's nvmet; the tests assert these values.</summary>
internal static class NvmetTarget
{
    /// <summary>The subsystem any host may connect to.</summary>
    public const string InteropNqn = "nqn.2026-11.dev.nvmetcp:interop";

    /// <summary>The subsystem only <see cref="AllowedHostNqn"/> may connect to.</summary>
    public const string RestrictedNqn = "nqn.2026-11.dev.nvmetcp:restricted";

    /// <summary>The one host in the restricted subsystem's allowed_hosts.</summary>
    public const string AllowedHostNqn = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";

    /// <summary>The host NQN the tests use unless they test access control.</summary>
    public const string HostNqn = "nqn.2014-08.org.nvmexpress:uuid:5c0e4a52-0000-4000-8000-0000000000ab";

    /// <summary>A host NQN no subsystem allows by name.</summary>
    public const string DisallowedHostNqn = "nqn.2014-08.org.nvmexpress:uuid:99999999-8888-7777-6666-555555555555";

    /// <summary>The interop subsystem's attr_serial.</summary>
    public const string InteropSerial = "NVMETCP-INTEROP-01";

    /// <summary>The interop subsystem's attr_model.</summary>
    public const string InteropModel = "NvmeTcp interop target";

    /// <summary>Namespace 1: /dev/ram0, brd rd_size=65536 (KiB).</summary>
    public const long Namespace1Bytes = 64L << 20;

    /// <summary>Namespace 2: a sparse file on tmpfs.</summary>
    public const long Namespace2Bytes = 64L << 20;

    /// <summary>device_nguid of namespace 1.</summary>
    public const string Namespace1Nguid = "4e564d45000100000000000000000001";

    /// <summary>device_nguid of namespace 2.</summary>
    public const string Namespace2Nguid = "4e564d45000200000000000000000002";

    /// <summary>
    /// The subsystem only VMs started with a disk serve (<see cref="NvmetVmOptions.DiskPath"/>): namespace 1 is the
    /// virtio disk, 512-byte LBAs.
    /// </summary>
    public const string PersistentNqn = "nqn.2026-11.dev.nvmetcp:persistent";

    /// <summary>device_nguid of the persistent subsystem's namespace 1.</summary>
    public const string PersistentNguid = "4e564d45000400000000000000000004";

    /// <summary>The discovery subsystem nvmet serves on every port.</summary>
    public const string DiscoveryNqn = "nqn.2014-08.org.nvmexpress.discovery";

    /// <summary>
    /// Served only by VMs started with <see cref="NvmetVmOptions.Multipath"/>: on ports 1 (4420) and 2 (4421), any host,
    /// namespace 1 a 16 MiB tmpfs file (4096-byte LBAs) in ANA group 2.
    /// </summary>
    public const string MultipathNqn = "nqn.2026-11.dev.nvmetcp:multipath";

    /// <summary>NGUID of the multipath subsystem's namespace 1.</summary>
    public const string MultipathNguid = "4e564d45000700000000000000000007";

    /// <summary>Served only with <c>nvmet_tls=1</c>, on the guest's 4423 (TLS 1.3 required): hosts <see cref="TlsHostNqn"/>.</summary>
    public const string TlsNqn = "nqn.2026-11.dev.nvmetcp:tls";

    /// <summary>Served only with <c>nvmet_tls=1</c>, on the guest's 4424 (TLS allowed): <see cref="ConcatHostNqn"/>.</summary>
    public const string ConcatNqn = "nqn.2026-11.dev.nvmetcp:concat";

    /// <summary>The concatenation host: DH-HMAC-CHAP with the auth subsystem's host key, SHA-256, ffdhe2048.</summary>
    public const string ConcatHostNqn = "nqn.2026-11.dev.nvmetcp:concat-host";

    /// <summary>The TLS subsystem's host for a PSK hash (<c>sha256</c> or <c>sha384</c>).</summary>
    public static string TlsHostNqn(string hash) => $"nqn.2026-11.dev.nvmetcp:tls-host-{hash}";

    /// <summary>The configured PSK of <see cref="TlsHostNqn"/>("sha256"): 32 bytes, SHA-256 (a test key, also in vm/init.sh).</summary>
    public const string TlsKey256 = "NVMeTLSkey-1:01:AQ4bKDVCT1xpdoOQnaq3xNHe6/gFEh8sOUZTYG16h5SQWMao:";

    /// <summary>The configured PSK of <see cref="TlsHostNqn"/>("sha384"): 48 bytes, SHA-384 (a test key, also in vm/init.sh).</summary>
    public const string TlsKey384 = "NVMeTLSkey-1:02:AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA3PkVMRdxyRQ==:";
}
