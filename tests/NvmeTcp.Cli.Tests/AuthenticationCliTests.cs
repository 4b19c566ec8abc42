using System.Net;
using NvmeTcp.Cli.Commands;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Target;

namespace NvmeTcp.Cli.Tests;

/// <summary>--dhchap-secret/-S and --dhchap-ctrl-secret/-C on the connecting verbs, gen-dhchap-key, check-dhchap-key, serve's options.</summary>
public sealed class AuthenticationCliTests
{
    private const string Nqn = "nqn.2026-01.io.nvmetcp:cli-auth";
    private const string Host = "nqn.2014-08.org.nvmexpress:uuid:12345678-1234-1234-1234-123456789abc";
    private static readonly string Key32 = Convert.ToHexStringLower(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

    private static async Task<NvmeTcpTarget> StartAsync(DhchapSecret secret, DhchapSecret? controllerSecret)
    {
        var subsystem = new NvmeSubsystemOptions(Nqn);
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1L << 20, 512));
        subsystem.AllowedHosts.Add(Host);
        subsystem.HostAuthentication.Add(new NvmeHostAuthentication(Host, secret) { ControllerSecret = controllerSecret });
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options.Subsystems.Add(subsystem);
        return await NvmeTcpTarget.StartAsync(options);
    }

    private static string[] Connection(NvmeTcpTarget target) =>
        ["-a", "127.0.0.1", "-s", target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", Nqn, "-q", Host];

    [Fact]
    public async Task Gen_dhchap_key_prints_nvme_clis_format()
    {
        // python: base64(bytes(range(32)) + crc32 LE); with -m 1 the key is HMAC-SHA-256(key, NQN || "NVMe-over-Fabrics").
        var plain = await Cli.RunAsync(["gen-dhchap-key", "--secret", Key32]);
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:\n", plain.Out);
        var transformed = await Cli.RunAsync(["gen-dhchap-key", "-s", Key32, "-m", "1", "-n", "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"]);
        Assert.Equal("DHHC-1:01:bHuByyp0b3RFSx1xQPMVO1HKmUWfzveoahfydpW4fNgSLMVm:\n", transformed.Out);
        var random = await Cli.RunAsync(["gen-dhchap-key", "--hmac", "3", "--nqn", Host]);
        Assert.Matches("^DHHC-1:03:[A-Za-z0-9+/]{91}=:\n$", random.Out);
        var wrongLength = await Cli.RunAsync(["gen-dhchap-key", "-m", "1", "-l", "48", "-n", Host]);
        Assert.NotEqual(0, wrongLength.ExitCode);
        Assert.Contains("Invalid key length 48 for SHA(256)", wrongLength.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_dhchap_key_prints_nvme_clis_format_and_refuses_a_bad_crc()
    {
        var ok = await Cli.RunAsync(["check-dhchap-key", "--key", "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"]);
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal("Key is valid (HMAC 0, length 32, CRC 91267e8a)\n", ok.Out);
        var bad = await Cli.RunAsync(["check-dhchap-key", "-k", "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:"]);
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("CRC", bad.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("AAECAw", bad.Error, StringComparison.Ordinal);
        var length = await Cli.RunAsync(["check-dhchap-key", "-k", "DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:x"]);
        Assert.Contains("Invalid key length for SHA(256)", length.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connecting_verbs_authenticate_with_short_and_long_options_and_never_print_the_secret()
    {
        var secret = DhchapSecret.Generate(32, 1);
        var controller = DhchapSecret.Generate(64, 3);
        await using var target = await StartAsync(secret, controller);
        var s = secret.ToInterchangeString();
        var c = controller.ToInterchangeString();

        var idCtrl = await Cli.RunAsync(["id-ctrl", .. Connection(target), "-S", s, "-C", c, "--verbose"]);
        Assert.True(idCtrl.ExitCode == 0, idCtrl.ToString());
        var list = await Cli.RunAsync(["list-ns", .. Connection(target), "--dhchap-secret", s]);
        Assert.True(list.ExitCode == 0, list.ToString());
        var perf = await Cli.RunAsync(["perf", .. Connection(target), "--dhchap-secret", s, "--dhchap-ctrl-secret", c, "-t", "0.2", "-S", "4096", "-i", "1"]);
        Assert.True(perf.ExitCode == 0, perf.ToString());

        var wrong = await Cli.RunAsync(["id-ctrl", .. Connection(target), "-S", DhchapSecret.Generate(32, 1).ToInterchangeString(), "--verbose"]);
        Assert.Equal(ExitCodes.Authentication, wrong.ExitCode);
        Assert.Contains("rejected the host", wrong.Error, StringComparison.Ordinal);
        var wrongController = await Cli.RunAsync(["id-ctrl", .. Connection(target), "-S", s, "-C", DhchapSecret.Generate(64, 3).ToInterchangeString(), "--verbose"]);
        Assert.Equal(ExitCodes.Authentication, wrongController.ExitCode);
        var none = await Cli.RunAsync(["id-ctrl", .. Connection(target)]);
        Assert.Equal(ExitCodes.Authentication, none.ExitCode);

        foreach (var run in new[] { idCtrl, list, perf, wrong, wrongController })
        {
            foreach (var text in new[] { s, c })
            {
                Assert.DoesNotContain(text[10..^1], run.Out + run.Error, StringComparison.Ordinal);
            }
        }
    }

    // A config.json as libnvme's schema has it: the host's dhchap_key, the port's dhchap_ctrl_key.
    private static string WriteConfig(string directory, NvmeTcpTarget target, string? hostKey, string? controllerKey, bool tls = false)
    {
        var path = Path.Combine(directory, "config.json");
        var port = new Dictionary<string, object> { ["transport"] = "tcp", ["traddr"] = "127.0.0.1", ["trsvcid"] = target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (controllerKey is not null)
        {
            port["dhchap_ctrl_key"] = controllerKey;
        }

        if (tls)
        {
            port["tls"] = true;
        }

        var host = new Dictionary<string, object> { ["hostnqn"] = Host, ["subsystems"] = new[] { new Dictionary<string, object> { ["nqn"] = Nqn, ["ports"] = new[] { port } } } };
        if (hostKey is not null)
        {
            host["dhchap_key"] = hostKey;
        }

        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new[] { host }));
        return path;
    }

    [Fact]
    public async Task Config_json_keys_authenticate_both_ways_the_command_line_wins_and_neither_is_printed()
    {
        var secret = DhchapSecret.Generate(32, 1);
        var controller = DhchapSecret.Generate(48, 2);
        await using var target = await StartAsync(secret, controller);
        var directory = Directory.CreateTempSubdirectory("nvmetcp-config-auth-").FullName;
        try
        {
            var s = secret.ToInterchangeString();
            var c = controller.ToInterchangeString();
            var config = WriteConfig(directory, target, s, c);

            // Host and controller authenticated with the configured keys alone (no -a, -S, -C).
            var before = target.Testing.AuthenticatedQueues;
            var idCtrl = await Cli.RunAsync(["--verbose", "id-ctrl", "-n", Nqn, "--config", config, "-o", "json"]);
            Assert.True(idCtrl.ExitCode == 0, idCtrl.ToString());
            Assert.True(target.Testing.AuthenticatedQueues > before);

            // -S and -C win over the configuration, each on its own.
            var wrongHost = await Cli.RunAsync(["id-ctrl", "-n", Nqn, "--config", config, "-S", DhchapSecret.Generate(32, 1).ToInterchangeString()]);
            Assert.Equal(ExitCodes.Authentication, wrongHost.ExitCode);
            Assert.Contains("rejected the host", wrongHost.Error, StringComparison.Ordinal);
            var wrongController = await Cli.RunAsync(["id-ctrl", "-n", Nqn, "--config", config, "-C", DhchapSecret.Generate(48, 2).ToInterchangeString()]);
            Assert.Equal(ExitCodes.Authentication, wrongController.ExitCode);

            // Unidirectional: only the host's key in the file, the controller asks for nothing more.
            var hostOnly = await Cli.RunAsync(["--verbose", "list-ns", "-n", Nqn, "--config", WriteConfig(directory, target, s, null)]);
            Assert.True(hostOnly.ExitCode == 0, hostOnly.ToString());

            foreach (var run in new[] { idCtrl, wrongHost, wrongController, hostOnly })
            {
                foreach (var text in new[] { s, c })
                {
                    Assert.DoesNotContain(text[10..^1], run.Out + run.Error, StringComparison.Ordinal);
                }
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_port_configured_for_tls_without_a_key_is_refused_before_connecting_and_a_bad_configured_key_is_not_quoted()
    {
        var secret = DhchapSecret.Generate(32, 1);
        await using var target = await StartAsync(secret, null);
        var directory = Directory.CreateTempSubdirectory("nvmetcp-config-tls-").FullName;
        try
        {
            var tls = await Cli.RunAsync(["id-ctrl", "-n", Nqn, "--config", WriteConfig(directory, target, secret.ToInterchangeString(), null, tls: true)]);
            Assert.Equal(ExitCodes.Usage, tls.ExitCode);
            Assert.Contains("asks for TLS", tls.Error, StringComparison.Ordinal);
            Assert.Equal(0, target.ConnectionCount);
            Assert.Equal(0, target.Testing.AuthenticatedQueues + target.Testing.AuthenticationFailures);

            var bad = await Cli.RunAsync(["id-ctrl", "-n", Nqn, "--config", WriteConfig(directory, target, "DHHC-1:00:c2VjcmV0c2VjcmV0:", null)]);
            Assert.Equal(ExitCodes.Usage, bad.ExitCode);
            Assert.Contains("dhchap_key", bad.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("c2VjcmV0c2VjcmV0", bad.Error + bad.Out, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_malformed_secret_is_a_usage_error_that_does_not_quote_it()
    {
        var result = await Cli.RunAsync(["id-ctrl", "-a", "127.0.0.1", "-n", Nqn, "-S", "DHHC-1:00:c2VjcmV0c2VjcmV0:"]);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--dhchap-secret", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0c2VjcmV0", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_turns_allow_host_and_secrets_into_host_authentication()
    {
        var secret = DhchapSecret.Generate(48, 2).ToInterchangeString();
        var controller = DhchapSecret.Generate(32, 0).ToInterchangeString();
        var options = ServeCommand.ToOptions(ServeCommand.Create().Parse(
            ["--allow-host", Host, "--dhchap-secret", secret, "--dhchap-ctrl-secret", controller, "--dhchap-hash", "hmac(sha384)", "--dhchap-dhgroup", "ffdhe3072"]));
        var auth = Assert.Single(options.Subsystems[0].HostAuthentication);
        Assert.Equal(Host, auth.HostNqn);
        Assert.Equal(secret, auth.Secret.ToInterchangeString());
        Assert.Equal(controller, auth.ControllerSecret!.ToInterchangeString());
        Assert.Equal([DhchapHashFunction.Sha384], auth.Hashes);
        Assert.Equal([DhchapDhGroup.Ffdhe3072], auth.Groups);
        Assert.Throws<FormatException>(() => ServeCommand.ToOptions(ServeCommand.Create().Parse(["--dhchap-secret", secret])));
    }
}
