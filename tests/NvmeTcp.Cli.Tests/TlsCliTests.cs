using System.Net;
using NvmeTcp.Cli.Commands;
using NvmeTcp.Protocol.Tls;
using NvmeTcp.Target;

namespace NvmeTcp.Cli.Tests;

/// <summary>nvme-cli's TLS options on the connecting verbs (--tls, --tls-key, --tls-key-identity, --keyring), config.json's tls keys, and serve's --tls-key.</summary>
public sealed class TlsCliTests
{
    private const string Nqn = "nqn.2026-01.io.nvmetcp:cli-tls";
    private const string Host = "nqn.2014-08.org.nvmexpress:uuid:12345678-1234-1234-1234-1234567890ab";
    private const string Key = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";

    private static async Task<NvmeTcpTarget> StartAsync(NvmeTargetTls tls = NvmeTargetTls.Required, int? identityVersion = null)
    {
        var subsystem = new NvmeSubsystemOptions(Nqn);
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1L << 20, 512));
        subsystem.TlsKeys.Add(new NvmeHostTlsKey(Host, NvmeTlsKey.Parse(Key)) { IdentityVersion = identityVersion });
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), Tls = tls };
        options.Subsystems.Add(subsystem);
        return await NvmeTcpTarget.StartAsync(options);
    }

    private static string[] Connection(NvmeTcpTarget target) =>
        ["-a", "127.0.0.1", "-s", target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-n", Nqn, "-q", Host];

    [Fact]
    public async Task Tls_key_connects_inside_tls_and_verbose_never_prints_the_key()
    {
        await using var target = await StartAsync();
        var run = await Cli.RunAsync(["--verbose", "id-ctrl", .. Connection(target), "--tls-key", Key]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(target.Testing.TlsIcReqs >= 1);
        Assert.Equal(0, target.Testing.PlainIcReqs);
        Assert.DoesNotContain("VRLbtnN9", run.Out + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plain_connect_to_a_tls_port_names_the_cli_option_to_use()
    {
        await using var target = await StartAsync();
        var run = await Cli.RunAsync(["id-ctrl", .. Connection(target), "--ctrl-loss-tmo", "0"]);
        Assert.Equal(ExitCodes.Transport, run.ExitCode);
        Assert.Contains("--tls-key", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("NvmeTcpOptions", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_key_exits_with_the_authentication_code_and_a_tls_message()
    {
        await using var target = await StartAsync(identityVersion: 0);
        var other = NvmeTlsKey.Generate(NvmeTlsPskHash.Sha256).ToInterchangeString();
        var identity = $"NVMe0R01 {Host} {Nqn}";
        var run = await Cli.RunAsync(["id-ctrl", .. Connection(target), "--tls-key", other, "--tls-key-identity", identity]);
        Assert.Equal(ExitCodes.Authentication, run.ExitCode);
        Assert.Contains("TLS:", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(other[16..^1], run.Out + run.Error, StringComparison.Ordinal);
        Assert.Equal(0, target.Testing.PlainIcReqs);
    }

    [Fact]
    public async Task Tls_key_identity_picks_version_0_and_another_identity_is_refused_before_connecting()
    {
        await using var target = await StartAsync(identityVersion: 0);
        var v0 = await Cli.RunAsync(["id-ctrl", .. Connection(target), "--tls-key", Key, "--tls-key-identity", $"NVMe0R01 {Host} {Nqn}"]);
        Assert.True(v0.ExitCode == 0, v0.ToString());

        var before = target.Testing.TlsIcReqs + target.Testing.TlsHandshakeFailures;
        var other = await Cli.RunAsync(["id-ctrl", .. Connection(target), "--tls-key", Key, "--tls-key-identity", $"NVMe0R01 {Host} nqn.other"]);
        Assert.Equal(ExitCodes.Authentication, other.ExitCode);
        Assert.Contains("not connecting", other.Error, StringComparison.Ordinal);
        Assert.Equal(before, target.Testing.TlsIcReqs + target.Testing.TlsHandshakeFailures);
    }

    [Fact]
    public async Task Tls_with_a_keyring_file_from_check_tls_key_connects()
    {
        await using var target = await StartAsync();
        var directory = Directory.CreateTempSubdirectory("nvmetcp-tls-").FullName;
        try
        {
            var keyFile = Path.Combine(directory, "tls.keys");
            var check = await Cli.RunAsync(["check-tls-key", "-d", Key, "-n", Host, "-c", Nqn, "-I", "1", "-f", keyFile]);
            Assert.True(check.ExitCode == 0, check.ToString());
            var run = await Cli.RunAsync(["id-ctrl", .. Connection(target), "--tls", "--keyring", keyFile]);
            Assert.True(run.ExitCode == 0, run.ToString());

            var noKey = await Cli.RunAsync(["id-ctrl", .. Connection(target), "--tls"]);
            Assert.Equal(ExitCodes.Usage, noKey.ExitCode);
            Assert.Contains("--keyring", noKey.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Config_json_tls_key_is_honoured()
    {
        await using var target = await StartAsync();
        var directory = Directory.CreateTempSubdirectory("nvmetcp-config-tls-").FullName;
        try
        {
            var path = Path.Combine(directory, "config.json");
            var port = new Dictionary<string, object> { ["transport"] = "tcp", ["traddr"] = "127.0.0.1", ["trsvcid"] = target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["tls"] = true, ["tls_key"] = Key };
            var host = new Dictionary<string, object> { ["hostnqn"] = Host, ["subsystems"] = new[] { new Dictionary<string, object> { ["nqn"] = Nqn, ["ports"] = new[] { port } } } };
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new[] { host }));
            var run = await Cli.RunAsync(["--verbose", "id-ctrl", "-n", Nqn, "--config", path]);
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Equal(0, target.Testing.PlainIcReqs);
            Assert.DoesNotContain("VRLbtnN9", run.Out + run.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Discover_shows_treq_and_tsas_and_verbs_without_nqn_connect_in_tls_or_plain_as_the_port_allows()
    {
        await using var target = await StartAsync(NvmeTargetTls.Optional);
        var port = target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var discovery = await Cli.RunAsync(["discover", "-a", "127.0.0.1", "-s", port, "-q", Host, "--tls-key", Key]);
        Assert.True(discovery.ExitCode == 0, discovery.ToString());
        Assert.Contains("not required", discovery.Out, StringComparison.Ordinal);
        Assert.Contains("tls13", discovery.Out, StringComparison.Ordinal);

        // Optional: a plain host may connect, and does.
        var plain = await Cli.RunAsync(["id-ctrl", "-a", "127.0.0.1", "-s", port, "-q", Host]);
        Assert.True(plain.ExitCode == 0, plain.ToString());

        await using var required = await StartAsync();
        var requiredPort = required.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var tls = await Cli.RunAsync(["id-ctrl", "-a", "127.0.0.1", "-s", requiredPort, "-q", Host, "--tls-key", Key]);
        Assert.True(tls.ExitCode == 0, tls.ToString());
        Assert.Equal(0, required.Testing.PlainIcReqs);
    }

    [Fact]
    public void Serve_tls_options_make_tls_ports_and_keys_per_host()
    {
        var options = ServeCommand.ToOptions(ServeCommand.Create().Parse(
            ["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--allow-host", Host, "--tls-key", Key, "--tls-identity", "1", "--tls-required"]));
        Assert.All(options.Ports, p => Assert.Equal(NvmeTargetTls.Required, p.Tls));
        var key = Assert.Single(options.Subsystems[0].TlsKeys);
        Assert.Equal((Host, 1), (key.HostNqn, key.IdentityVersion));
        Assert.DoesNotContain("VRLbtnN9", key.ToString(), StringComparison.Ordinal);

        var optional = ServeCommand.ToOptions(ServeCommand.Create().Parse(["--allow-host", Host, "--tls-key", Key]));
        Assert.Equal(NvmeTargetTls.Optional, optional.Tls);
        Assert.Throws<FormatException>(() => ServeCommand.ToOptions(ServeCommand.Create().Parse(["--tls-key", Key])));
        Assert.Throws<FormatException>(() => ServeCommand.ToOptions(ServeCommand.Create().Parse(["--tls-required"])));
        var bad = Assert.Throws<FormatException>(() => ServeCommand.ToOptions(ServeCommand.Create().Parse(["--allow-host", Host, "--tls-key", "NVMeTLSkey-1:01:c2VjcmV0c2VjcmV0:"])));
        Assert.DoesNotContain("c2VjcmV0", bad.Message, StringComparison.Ordinal);
    }
}
