using System.Text.RegularExpressions;
using NvmeTcp.Client;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// Our client over TLS 1.3 with PSKs against Linux nvmet (the newest kernel: NVME_TARGET_TCP_TLS), whose handshakes
/// tlshd runs in the guest with keys from the .nvme keyring (vm/init.sh, <c>nvmet_tls=1</c>): both PSK hashes and both
/// identity versions with data moved on the admin and an I/O queue, the discovery log of a TLS port (TREQ, TSAS) and
/// what our client does with it, and the refusals: a wrong key, an identity nvmet does not know, and a plain connect
/// to a port that requires TLS. One VM of its own for the class.
/// </summary>
public sealed class TlsTests(TlsVm tlsVm) : IClassFixture<TlsVm>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private NvmetVm Vm => tlsVm.Vm;

    public static MatrixTheoryData<string, int> HashesAndVersions => new(["sha256", "sha384"], [0, 1]);

    [Theory]
    [MemberData(nameof(HashesAndVersions))]
    public async Task Nvmet_over_tls_with_a_configured_psk_moves_data_on_the_admin_and_an_io_queue(string hash, int identityVersion)
    {
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine(Vm.Describe());
        Assert.Contains("tls=3:tls1.3:required,4:tls1.3:not-required", Vm.ReadyLine, StringComparison.Ordinal);
        var before = Handshakes();

        // Header and data digests inside TLS in one cell: the PDUs are the same, only the stream under them changes.
        var digests = hash == "sha384" && identityVersion == 1;
        var options = TlsOptions(hash, KeyOf(hash), identityVersion);
        options.HeaderDigest = options.DataDigest = digests;
        await using (var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound))
        {
            Assert.Equal(NvmetTarget.TlsNqn, controller.Identify.SubsystemNqn);
            var ns = controller.GetNamespace(1);
            var data = Patterns.Of(64 * 1024, identityVersion + (hash == "sha384" ? 10 : 0));
            await controller.IoQueues[0].WriteAsync(ns, 64, data).AsTask().WaitAsync(Bound);
            var back = new byte[data.Length];
            await controller.IoQueues[0].ReadAsync(ns, 64, back).AsTask().WaitAsync(Bound);
            Assert.Equal(data, back);
        }

        // tlshd ran one handshake per queue (admin and the I/O queue) with the cipher of the PSK's hash. It does not log
        // the identity; the guest's keyring holds the key under both versions' identities, so the handshake found it by
        // the one offered, and the client's identity is checked against nvme-cli's in LinuxHostTests (nvme check-tls-key).
        var handshakes = Handshakes()[before.Count..];
        output?.WriteLine(string.Join(Environment.NewLine, handshakes));
        Assert.Equal(2, handshakes.Count(line => line.Contains("Handshake request succeeded", StringComparison.Ordinal)));
        var identity = KeyOf(hash).DeriveTlsPsk(TlsHost(hash), NvmetTarget.TlsNqn, identityVersion).Identity;
        Assert.StartsWith($"NVMe{identityVersion}R0{(hash == "sha256" ? 1 : 2)} ", identity, StringComparison.Ordinal);
        Assert.Contains(handshakes, line => line.Contains(hash == "sha256" ? "(TLS1.3)--(AES-128-GCM)" : "(TLS1.3)--(AES-256-GCM)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Discovery_on_the_tls_port_reports_treq_required_and_tls13_and_the_entry_is_never_tried_in_the_clear()
    {
        var options = TlsOptions("sha256", KeyOf("sha256"), 0);
        options.SubsystemNqn = NvmetTarget.DiscoveryNqn;
        var log = await NvmeDiscovery.GetLogAsync(options, cancellationToken: TestContext.Current.CancellationToken).WaitAsync(Bound);
        var entry = Assert.Single(log.Entries, e => e.SubsystemNqn == NvmetTarget.TlsNqn);
        TestContext.Current.TestOutputHelper?.WriteLine($"TREQ 0x{entry.Treq:X2} SECTYPE {entry.TcpSecurityType} port {entry.TransportServiceId}");
        Assert.Equal(NvmeSecureChannelRequirement.Required, entry.SecureChannel);
        Assert.Equal(NvmeTcpSecurityType.Tls13, entry.TcpSecurityType);
        Assert.Equal("4423", entry.TransportServiceId);

        // Without TLS: refused before any byte is sent (no handshake, no plain ICReq reaches nvmet).
        var handshakes = Handshakes().Count;
        var plain = TlsOptions("sha256", KeyOf("sha256"), 0);
        plain.Tls = null;
        var refused = await Assert.ThrowsAsync<NvmeTlsException>(
            () => NvmeDiscovery.ConnectAsync(entry, plain, "127.0.0.1", Vm.TlsPort, TestContext.Current.CancellationToken).WaitAsync(Bound));
        Assert.Equal(NvmeTlsFailure.NotConfigured, refused.Failure);
        Assert.False(refused.IsTransient);
        Assert.Equal(handshakes, Handshakes().Count);

        // With TLS the same entry connects.
        await using var controller = await NvmeDiscovery.ConnectAsync(entry, TlsOptions("sha256", KeyOf("sha256"), 1), "127.0.0.1", Vm.TlsPort, TestContext.Current.CancellationToken).WaitAsync(Bound);
        Assert.Equal(NvmetTarget.TlsNqn, controller.Identify.SubsystemNqn);
    }

    [Fact]
    public async Task A_wrong_key_is_rejected_typed_and_not_retried()
    {
        // The right identity (the host's, version 0) with another key: tlshd's binder check fails.
        var wrong = NvmeTlsKey.Parse(WrongKey);
        var options = TlsOptions("sha256", wrong, 0);
        var e = await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeController.ConnectAsync(options).WaitAsync(Bound));
        TestContext.Current.TestOutputHelper?.WriteLine($"{e.Failure}: {e.Message}");
        // nvmet's tlshd closes without an alert, so the client cannot tell a wrong key from an unknown identity.
        Assert.Contains(e.Failure, new[] { NvmeTlsFailure.KeyRejected, NvmeTlsFailure.IdentityUnknown, NvmeTlsFailure.HandshakeFailed });
        Assert.False(e.IsTransient);
        Assert.DoesNotContain(wrong.ToInterchangeString(), e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_identity_nvmet_has_no_key_for_is_refused_typed()
    {
        // A host NQN with no key in the guest's keyring: tlshd finds no PSK for the identity and nvmet closes.
        var options = TlsOptions("sha256", KeyOf("sha256"), 0);
        options.HostNqn = "nqn.2026-11.dev.nvmetcp:tls-host-unknown";
        var e = await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeController.ConnectAsync(options).WaitAsync(Bound));
        TestContext.Current.TestOutputHelper?.WriteLine($"{e.Failure}: {e.Message}");
        Assert.Contains(e.Failure, new[] { NvmeTlsFailure.IdentityUnknown, NvmeTlsFailure.HandshakeFailed });
        Assert.False(e.IsTransient);
    }

    [Fact]
    public async Task A_plain_connect_to_the_tls_required_port_fails_and_a_tls_connect_to_a_plain_port_is_never_downgraded()
    {
        // Our client in the clear against nvmet's TLS-only port: nvmet drops the connection, nothing connects.
        var plain = TlsOptions("sha256", KeyOf("sha256"), 0);
        plain.Tls = null;
        plain.ControllerLossTimeout = TimeSpan.Zero;
        var e = await Assert.ThrowsAnyAsync<NvmeException>(() => NvmeController.ConnectAsync(plain).WaitAsync(Bound));
        TestContext.Current.TestOutputHelper?.WriteLine($"{e.GetType().Name}: {e.Message}");
        Assert.Contains("TLS", e.Message, StringComparison.Ordinal); // the message points at the likely cause

        // TLS asked of nvmet's plain port (4420): nvmet answers the ClientHello as a PDU or closes; never a plain session.
        var tls = TlsOptions("sha256", KeyOf("sha256"), 0);
        tls.Port = Vm.Port;
        tls.SubsystemNqn = NvmetTarget.InteropNqn;
        var notOffered = await Assert.ThrowsAsync<NvmeTlsException>(() => NvmeController.ConnectAsync(tls).WaitAsync(Bound));
        TestContext.Current.TestOutputHelper?.WriteLine($"{notOffered.Failure}: {notOffered.Message}");
        Assert.Contains(notOffered.Failure, new[] { NvmeTlsFailure.NotOffered, NvmeTlsFailure.IdentityUnknown, NvmeTlsFailure.HandshakeFailed });
        Assert.False(notOffered.IsTransient);
    }

    [Fact]
    public async Task Nvmet_concatenation_authenticates_in_the_clear_then_runs_every_queue_in_tls_with_the_generated_psk()
    {
        var output = TestContext.Current.TestOutputHelper;
        var before = Handshakes().Count;
        var options = ConcatOptions(AuthenticationTests.HostSecret);
        string firstIdentity;
        await using (var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound))
        {
            firstIdentity = controller.GeneratedTlsPskIdentity ?? throw new InvalidOperationException("no generated PSK");
            output?.WriteLine(firstIdentity);
            Assert.StartsWith($"NVMe1G01 {NvmetTarget.ConcatHostNqn} {NvmetTarget.ConcatNqn} ", firstIdentity, StringComparison.Ordinal);
            var ns = controller.GetNamespace(1);
            var data = Patterns.Of(64 * 1024, 31);
            await controller.IoQueues[0].WriteAsync(ns, 8, data).AsTask().WaitAsync(Bound);
            var back = new byte[data.Length];
            await controller.IoQueues[0].ReadAsync(ns, 8, back).AsTask().WaitAsync(Bound);
            Assert.Equal(data, back);
        }

        // The re-established admin queue and the I/O queue: two TLS handshakes in tlshd, with the generated PSK
        // (SHA-256: AES-128-GCM). The first, plain admin queue had none.
        var handshakes = Handshakes()[before..];
        output?.WriteLine(string.Join(Environment.NewLine, handshakes));
        Assert.Equal(2, handshakes.Count(line => line.Contains("Handshake request succeeded", StringComparison.Ordinal)));
        Assert.Contains(handshakes, line => line.Contains("(TLS1.3)--(AES-128-GCM)", StringComparison.Ordinal));

        // A new association generates a new PSK (a new exchange, new challenges).
        await using (var again = await NvmeController.ConnectAsync(ConcatOptions(AuthenticationTests.HostSecret)).WaitAsync(Bound))
        {
            Assert.NotNull(again.GeneratedTlsPskIdentity);
            Assert.NotEqual(firstIdentity, again.GeneratedTlsPskIdentity);
        }
    }

    [Fact]
    public async Task Nvmet_concatenation_with_a_wrong_dhchap_key_fails_authentication_and_never_reaches_tls()
    {
        var before = Handshakes().Count;
        var wrong = DhchapSecret.Parse("DHHC-1:00:d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3dkEyDV:");
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(ConcatOptions(wrong)).WaitAsync(Bound));
        TestContext.Current.TestOutputHelper?.WriteLine($"{e.Failure}: {e.Message}");
        Assert.Equal(NvmeAuthenticationFailure.HostRejected, e.Failure);
        Assert.Empty(Handshakes()[before..]); // tlshd was never asked: nothing ran in TLS after the failure
    }

    internal const string WrongKey = "NVMeTLSkey-1:01:WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloj0TmR:";

    internal static NvmeTlsKey KeyOf(string hash) => NvmeTlsKey.Parse(hash == "sha256" ? NvmetTarget.TlsKey256 : NvmetTarget.TlsKey384);

    private static string TlsHost(string hash) => NvmetTarget.TlsHostNqn(hash);

    private NvmeTcpOptions TlsOptions(string hash, NvmeTlsKey key, int identityVersion) => new()
    {
        Address = "127.0.0.1",
        Port = Vm.TlsPort,
        SubsystemNqn = NvmetTarget.TlsNqn,
        HostNqn = TlsHost(hash),
        IoQueueCount = 1,
        IoQueueSize = 32,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ControllerLossTimeout = TimeSpan.Zero,
        Tls = new NvmeTlsOptions { Key = key, IdentityVersion = identityVersion },
    };

    private NvmeTcpOptions ConcatOptions(DhchapSecret secret) => new()
    {
        Address = "127.0.0.1",
        Port = Vm.ConcatPort,
        SubsystemNqn = NvmetTarget.ConcatNqn,
        HostNqn = NvmetTarget.ConcatHostNqn,
        IoQueueCount = 1,
        IoQueueSize = 32,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ControllerLossTimeout = TimeSpan.Zero,
        DhchapSecret = secret,
        Concatenation = true,
    };

    // tlshd's lines on the guest console, in order.
    private List<string> Handshakes() =>
        [.. File.ReadAllLines(Vm.ConsoleLog).Where(line => Regex.IsMatch(line, @"^tlshd\[\d+\]: "))];
}

/// <summary>The newest kernel's nvmet with <c>nvmet_tls=1</c>, one VM for <see cref="TlsTests"/>.</summary>
public sealed class TlsVm(NvmetVms vms) : IAsyncLifetime
{
    private NvmetVm? _vm;

    internal NvmetVm Vm => _vm ?? throw new InvalidOperationException("the TLS VM did not start");

    public async ValueTask InitializeAsync()
    {
        _vm = await NvmetVm.StartAsync(
            vms.GetImage("newest"),
            Path.Combine(AppContext.BaseDirectory, "vm-logs", "tls"),
            TimeSpan.FromSeconds(120),
            900,
            line => TestContext.Current.TestOutputHelper?.WriteLine(line),
            new NvmetVmOptions { Tls = true, ConsoleName = "console-newest.log" });
    }

    public async ValueTask DisposeAsync()
    {
        if (_vm is not null)
        {
            await _vm.DisposeAsync();
        }
    }
}
