using System.Globalization;
using Microsoft.Extensions.Logging;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol.Tls;
using NvmeTcp.Target;

namespace NvmeTcp.Interop.Tests;

/// <summary>The newest Debian kernel's host, driven by nvme-cli from the same suites, against our target.</summary>
public sealed partial class LinuxHostTests
{
    [Fact]
    public async Task Newest_kernel_host_with_nvme_cli_connects_and_moves_data()
    {
        var (run, target) = await RunNewestHostAsync("none", auth: "plain,ok,-,-", configure: null);
        await using var _ = target;

        var passed = run.PassedSteps();
        foreach (var step in new[] { "none connect", "none delete", "auth-plain connect", "auth-plain compare-ns1-1048576", "auth-plain delete" })
        {
            Assert.True(passed.Contains(step), $"No PASS for {step}.");
        }

        Assert.Contains(run.Lines("NVMETCP-HOST INFO "), line => line.StartsWith("auth nvme-cli.version=nvme version 2.", StringComparison.Ordinal));
        Assert.Empty(target.Testing.Violations);
    }

    /// <summary>
    /// `nvme connect --dhchap-secret` (and `--dhchap-ctrl-secret`) of nvme-cli 2.16 on the newest kernel against our
    /// target demanding DH-HMAC-CHAP (SHA-384, ffdhe3072): unidirectional and bidirectional connect, move data and
    /// disconnect; a wrong key is refused (nvme-cli fails, or its connect is still pending in the kernel after 30 s, a
    /// known 7.x host hang: then the target's own count of failed exchanges says it refused).
    /// </summary>
    [Fact]
    public async Task Newest_kernel_host_with_nvme_cli_authenticates_uni_and_bidirectionally_and_is_refused_with_a_wrong_key()
    {
        var secret = DhchapSecret.Generate(48, 2);
        var controllerSecret = DhchapSecret.Generate(32, 0);
        var wrong = DhchapSecret.Generate(48, 2);
        // A second host NQN whose entry allows only SHA-512 with ffdhe6144: a second hash/group pair in the same boot.
        const string SecondHost = "nqn.2026-12.dev.nvmetcp:newest-host-sha512";
        var secondSecret = DhchapSecret.Generate(64, 3);
        var cases = $"uni,ok,{secret.ToInterchangeString()},-@bi,ok,{secret.ToInterchangeString()},{controllerSecret.ToInterchangeString()}"
            + $"@bi512,ok,{secondSecret.ToInterchangeString()},{controllerSecret.ToInterchangeString()},{SecondHost}@wrong,refused,{wrong.ToInterchangeString()},-";
        var (run, target) = await RunNewestHostAsync("skip", cases, options =>
        {
            var auth = new NvmeHostAuthentication($"nqn.2014-08.org.nvmexpress:uuid:{HostId:D}", secret) { ControllerSecret = controllerSecret };
            auth.Hashes.Clear();
            auth.Hashes.Add(DhchapHashFunction.Sha384);
            auth.Groups.Clear();
            auth.Groups.Add(DhchapDhGroup.Ffdhe3072);
            options.Subsystems[0].HostAuthentication.Add(auth);
            var second = new NvmeHostAuthentication(SecondHost, secondSecret) { ControllerSecret = controllerSecret };
            second.Hashes.Clear();
            second.Hashes.Add(DhchapHashFunction.Sha512);
            second.Groups.Clear();
            second.Groups.Add(DhchapDhGroup.Ffdhe6144);
            options.Subsystems[0].HostAuthentication.Add(second);
        }, allowAuthenticationFailure: true);
        await using var _ = target;

        var passed = run.PassedSteps();
        foreach (var step in new[] { "auth-uni connect", "auth-uni compare-ns1-1048576", "auth-uni delete", "auth-bi connect", "auth-bi compare-ns1-1048576", "auth-bi delete", "auth-bi512 connect", "auth-bi512 compare-ns1-1048576", "auth-bi512 delete", "auth-wrong refused" })
        {
            Assert.True(passed.Contains(step), $"No PASS for {step}.");
        }

        var dmesg = run.Lines("NVMETCP-HOST DMESG ");
        Assert.Contains(dmesg, line => line.Contains("authenticated with hash hmac(sha384) dhgroup ffdhe3072", StringComparison.Ordinal));
        Assert.Contains(dmesg, line => line.Contains("authenticated with hash hmac(sha512) dhgroup ffdhe6144", StringComparison.Ordinal));
        Assert.Contains(dmesg, line => line.Contains("controller authenticated", StringComparison.Ordinal));
        Assert.True(target.Testing.AuthenticationFailures >= 1, "the target never refused the wrong key");
        Assert.True(target.Testing.AuthenticatedQueues >= 6, $"{target.Testing.AuthenticatedQueues} queues authenticated");
        Assert.Empty(target.Testing.Violations);
    }

    /// <summary>
    /// nvme-cli 2.16 (libnvme 1.16) in the newest-host guest against NvmeTcp.Protocol.Tls for the same inputs: the
    /// interchange key of <c>nvme gen-tls-key --secret --hmac 1|2</c>, the identity of <c>nvme check-tls-key
    /// --identity 0|1</c>, and the TLS PSK that <c>check-tls-key --insert --keyfile</c> derives into the .nvme keyring,
    /// for hh 01 and 02 and both identity versions.
    /// </summary>
    [Fact]
    public async Task Newest_nvme_cli_gen_and_check_tls_key_match_our_derivation()
    {
        var secret32 = Convert.FromHexString("5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03");
        byte[] secret48 = [.. secret32, .. Convert.FromHexString("00112233445566778899AABBCCDDEEFF")];
        var cases = new (string Name, byte[] Secret, int Hmac, int Identity)[]
        {
            ("m1i0", secret32, 1, 0), ("m1i1", secret32, 1, 1), ("m2i0", secret48, 2, 0), ("m2i1", secret48, 2, 1),
        };
        var words = string.Join('@', cases.Select(c => $"{c.Name},{Convert.ToHexStringLower(c.Secret)},{c.Hmac},{c.Identity}"));
        var (run, target) = await RunNewestHostAsync("skip", auth: null, configure: null, more: $"nvmetcp.tlskeys={words}");
        await using var _ = target;

        var hostNqn = $"nqn.2014-08.org.nvmexpress:uuid:{HostId:D}";
        var lines = run.Lines("NVMETCP-HOST TLSKEY ");
        foreach (var (name, secret, hmac, identity) in cases)
        {
            Assert.Contains($"tlskeys {name}", run.PassedSteps());
            var key = NvmeTlsKey.Create(secret, (NvmeTlsPskHash)hmac);
            Assert.Contains($"{name} gen {key.ToInterchangeString()}", lines);
            var psk = key.DeriveTlsPsk(hostNqn, Nqn, identity);
            Assert.Contains($"{name} identity {psk.Identity}", lines);

            // keyfile line: "<identity> NVMeTLSkey-<version>:<hh>:<base64(TLS PSK || CRC-32)>:" (libnvme's export).
            var exported = Assert.Single(lines, line => line.StartsWith($"{name} keyfile ", StringComparison.Ordinal));
            var rest = exported[$"{name} keyfile ".Length..];
            Assert.StartsWith(psk.Identity + " NVMeTLSkey-", rest, StringComparison.Ordinal);
            var fields = rest[(psk.Identity.Length + 1)..].Split(':');
            var raw = Convert.FromBase64String(fields[2]);
            Assert.Equal(Convert.ToHexStringLower(psk.CopyKey()), Convert.ToHexStringLower(raw[..^4]));
        }
    }

    /// <summary>
    /// The newest kernel's host with nvme-cli 2.16 and tlshd 1.4 over TLS 1.3 against our target, its port allowing TLS
    /// (as nvmet's <c>addr_treq</c> "not required"): <c>nvme connect --tls --tls-key=KEY</c> (nvme-cli inserts the key,
    /// identity version 1), <c>nvme connect --tls</c> with the key inserted by <c>check-tls-key --insert</c> (identity
    /// version 0) with a 32-byte SHA-256 key and a 48-byte SHA-384 one, <c>--dhchap-secret --concat</c> (secure channel
    /// concatenation), each connecting and moving
    /// data; a wrong TLS key is refused. The target counts which queues ran TLS and with which PSK kind.
    /// </summary>
    [Fact]
    public async Task Newest_kernel_host_with_nvme_cli_connects_over_tls_with_configured_and_concatenated_psks()
    {
        var host = $"nqn.2014-08.org.nvmexpress:uuid:{HostId:D}";
        const string Host384 = "nqn.2026-12.dev.nvmetcp:newest-host-tls384";
        var key = NvmeTlsKey.Generate(NvmeTlsPskHash.Sha256);
        var key384 = NvmeTlsKey.Generate(NvmeTlsPskHash.Sha384);
        var wrong = NvmeTlsKey.Generate(NvmeTlsPskHash.Sha256);
        var secret = DhchapSecret.Generate(32, 1);
        // --tls-key makes nvme-cli insert the key itself with a version-1 identity (with the PSK digest); it gets a host
        // of its own, since the kernel's lookup for a plain --tls finds a version-1 key first, and the wrong-key case
        // must not find this one.
        const string HostV1 = "nqn.2026-12.dev.nvmetcp:newest-host-tlsv1";
        var keyV1 = NvmeTlsKey.Generate(NvmeTlsPskHash.Sha256);
        var cases = $"v1,ok,tlskey,{keyV1.ToInterchangeString()},{HostV1}@v0,ok,tls,{key.ToInterchangeString()}@sha384,ok,tls,{key384.ToInterchangeString()},{Host384}"
            + $"@concat,ok,concat,{secret.ToInterchangeString()}@wrong,refused,tls,{wrong.ToInterchangeString()}";
        var (run, target) = await RunNewestHostAsync("skip", auth: null, configure: options =>
        {
            options.Tls = NvmeTargetTls.Optional;
            options.Subsystems[0].TlsKeys.Add(new NvmeHostTlsKey(host, key));
            options.Subsystems[0].TlsKeys.Add(new NvmeHostTlsKey(Host384, key384));
            options.Subsystems[0].TlsKeys.Add(new NvmeHostTlsKey(HostV1, keyV1));
            var auth = new NvmeHostAuthentication(host, secret) { Concatenation = true };
            auth.Groups.Clear();
            auth.Groups.Add(DhchapDhGroup.Ffdhe2048);
            options.Subsystems[0].HostAuthentication.Add(auth);
        }, allowAuthenticationFailure: true, more: $"nvmetcp.tls={cases}");
        await using var _ = target;

        var passed = run.PassedSteps();
        foreach (var name in new[] { "v1", "v0", "sha384", "concat" })
        {
            foreach (var step in new[] { "connect", "compare-ns1-1048576", "delete" })
            {
                Assert.True(passed.Contains($"tls-{name} {step}"), $"No PASS for tls-{name} {step}.");
            }
        }

        Assert.True(passed.Contains("tls-wrong refused"), "No PASS for tls-wrong refused.");
        var tlshd = run.Console.Split('\n').Where(line => line.StartsWith("tlshd[", StringComparison.Ordinal)).ToList();
        Assert.Contains(tlshd, line => line.Contains("(TLS1.3)--(AES-256-GCM)", StringComparison.Ordinal));
        Assert.Contains(tlshd, line => line.Contains("(TLS1.3)--(AES-128-GCM)", StringComparison.Ordinal));
        Assert.Contains(tlshd, line => line.Contains("Using psk identity NVMe1G01 ", StringComparison.Ordinal)); // the concatenated PSK
        Assert.Contains(tlshd, line => line.Contains($"Using psk identity NVMe1R01 {HostV1} ", StringComparison.Ordinal)); // --tls-key's insert
        // nvme-cli handed the kernel the key it inserted and the tls option (its -vv shows the options string).
        var options = run.Console.Split('\n').Single(line => line.Contains("INFO tls-v1 connect.out=", StringComparison.Ordinal));
        Assert.Matches("tls_key=0x[0-9a-f]+,tls'", options);
        Assert.True(target.Testing.TlsHandshakeFailures >= 1, "the target never refused the wrong key");
        Assert.True(target.Testing.GeneratedTlsPsks >= 1, "no PSK was generated by concatenation");
        // Every I/O queue ran in TLS: v1, v0 and sha384 (3 queues each: admin and 2 I/O), concat (its re-established admin
        // queue and 2 I/O); only the concatenation's first admin queue and nothing else ran in the clear.
        Assert.True(target.Testing.TlsIcReqs >= 12, $"{target.Testing.TlsIcReqs} ICReqs in TLS");
        Assert.Equal(1, target.Testing.PlainIcReqs);
        Assert.Empty(target.Testing.Violations);
    }

    /// <summary>
    /// Boots the newest-host image against a fresh target and checks what every run must show. With
    /// <paramref name="allowAuthenticationFailure"/> the kernel's lines about a refused key (authentication or TLS
    /// handshake) are expected, not complaints.
    /// </summary>
    private async Task<(LinuxHostRun Run, NvmeTcpTarget Target)> RunNewestHostAsync(string digests, string? auth, Action<NvmeTargetOptions>? configure, bool allowAuthenticationFailure = false, string? more = null)
    {
        var output = TestContext.Current.TestOutputHelper;
        var image = vms.GetImage("newest-host");
        var logs = new ListLoggerProvider();
        var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var options = TargetOptions(loggerFactory.CreateLogger("target"));
        configure?.Invoke(options);
        var target = await NvmeTcpTarget.StartAsync(options, TestContext.Current.CancellationToken);
        var consoleLog = Path.Combine(AppContext.BaseDirectory, "vm-logs", "console-newest-host.log");
        Directory.CreateDirectory(Path.GetDirectoryName(consoleLog)!);
        var run = await LinuxHostVm.RunAsync(
            image, target.EndPoint.Port, Nqn, HostId, digests, consoleLog, VmTimeout, TestContext.Current.CancellationToken, auth: auth, more: more);
        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"linux host: Linux {image.Label} ({image.Package} {image.Version}) with nvme-cli against our target: {run.Outcome}, boot {run.BootTime?.TotalSeconds:F1} s, total {run.TotalTime.TotalSeconds:F1} s, {run.Attempts} boot(s)");
        vms.AddToReport(summary);
        output?.WriteLine(summary);
        output?.WriteLine(run.Console);
        foreach (var (_, level, text) in logs.Messages)
        {
            output?.WriteLine($"target {level}: {text}");
        }

        Assert.True(run.Outcome == "done", $"The Linux host VM ended '{run.Outcome}' instead of {LinuxHostVm.DoneMarker}; console tail:\n{CommandRunner.Tail(run.Console, 60)}");
        Assert.Empty(run.Lines(LinuxHostVm.FailedMarker));
        // A refused key makes the kernel log its failed connect; that is the expected outcome, not a complaint.
        Assert.Empty(KernelComplaints(run.Lines("NVMETCP-HOST DMESG ").Where(line => !allowAuthenticationFailure
            || !(line.Contains("authentication failed", StringComparison.Ordinal) || line.Contains("failed to connect queue: 0", StringComparison.Ordinal)
                || line.Contains("TLS handshake complete, error", StringComparison.Ordinal)))));
        return (run, target);
    }
}
