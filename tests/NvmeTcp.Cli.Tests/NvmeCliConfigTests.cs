using System.Globalization;

namespace NvmeTcp.Cli.Tests;

/// <summary>nvme-cli's /etc/nvme/config.json and discovery.conf, pointed at files the test writes.</summary>
public sealed class NvmeCliConfigTests(TargetFixture target) : IClassFixture<TargetFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nvmetcp-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Port => target.Target.EndPoint.Port.ToString(CultureInfo.InvariantCulture);

    private string WriteConfig()
    {
        // Two hosts; the first subsystem is another one (on a port nothing listens on), so the lookup has to pick by NQN.
        var path = Path.Combine(_directory, "config.json");
        File.WriteAllText(path, $$"""
            [
              {
                "hostnqn": "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-0000-0000-000000000001",
                "subsystems": [
                  { "nqn": "nqn.2026-01.io.nvmetcp:elsewhere", "ports": [ { "transport": "tcp", "traddr": "127.0.0.1", "trsvcid": "1" } ] }
                ]
              },
              {
                "hostnqn": "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-0000-0000-000000000002",
                "hostid": "bbbbbbbb-0000-0000-0000-000000000002",
                "subsystems": [
                  {
                    "nqn": "{{TargetFixture.Nqn}}",
                    "ports": [
                      { "transport": "rdma", "traddr": "192.0.2.1", "trsvcid": "4420" },
                      { "transport": "tcp", "traddr": "127.0.0.1", "trsvcid": "{{Port}}", "hdr_digest": true, "nr_io_queues": 1, "keep_alive_tmo": 7 }
                    ]
                  }
                ]
              }
            ]
            """);
        return path;
    }

    [Fact]
    public async Task Without_traddr_the_port_of_the_nqn_comes_from_config_json()
    {
        var config = WriteConfig();
        var result = await Cli.RunAsync(["id-ctrl", "-n", TargetFixture.Nqn, "--config", config, "-o", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(TargetFixture.Nqn, result.Json().GetProperty("subnqn").GetString());

        // The whole path of a read, with the host and digests the configuration gives.
        var read = await Cli.RunAsync(["--verbose", "read", "-n", TargetFixture.Nqn, "--config", config, "--start-block", "0", "-o", "json"]);
        Assert.True(read.ExitCode == 0, read.ToString());
        Assert.Contains("1 I/O queues", read.Error, StringComparison.Ordinal);
        Assert.Contains("digests header=True", read.Error, StringComparison.Ordinal);

        // The command line still wins over the configuration.
        var explicitQueues = await Cli.RunAsync(["--verbose", "read", "-n", TargetFixture.Nqn, "--config", config, "-i", "2", "--start-block", "0"]);
        Assert.Contains("2 I/O queues", explicitQueues.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discover_without_traddr_reads_discovery_conf()
    {
        var path = Path.Combine(_directory, "discovery.conf");
        File.WriteAllText(path, $"""
            # discovery controllers, one per line, as nvme discover's arguments
            --transport=rdma --traddr=192.0.2.1 --trsvcid=4420
            -t tcp -a 127.0.0.1 -s {Port}
            """);
        var result = await Cli.RunAsync(["discover", "--discovery-conf", path, "--config", "none", "-o", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Json().GetProperty("records").EnumerateArray(), r => r.GetProperty("subnqn").GetString() == TargetFixture.Nqn);
    }

    [Fact]
    public void Keys_are_read_where_libnvme_reads_them_and_never_printed()
    {
        const string Host = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";
        const string Port = "DHHC-1:00:cG9ydHBvcnRwb3J0cG9ydHBvcnRwb3J0cG9ydHBvcnQ=:";
        const string Ctrl = "DHHC-1:00:Y3RybGN0cmxjdHJsY3RybGN0cmxjdHJsY3RybGN0cmw=:";
        var json = Path.Combine(_directory, "keys.json");
        File.WriteAllText(json, $$"""
            [
              { "hostnqn": "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-0000-0000-000000000001", "dhchap_key": "{{Host}}",
                "subsystems": [ { "nqn": "nqn.a", "ports": [ { "transport": "tcp", "traddr": "192.0.2.1", "dhchap_key": "{{Port}}", "dhchap_ctrl_key": "{{Ctrl}}" } ] } ] },
              { "hostnqn": "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-0000-0000-000000000002",
                "subsystems": [ { "nqn": "nqn.b", "ports": [ { "transport": "tcp", "traddr": "192.0.2.2", "dhchap_key": "{{Port}}" },
                                                           { "transport": "tcp", "traddr": "192.0.2.3", "tls": true },
                                                           { "transport": "tcp", "traddr": "192.0.2.4", "tls_key": "NVMeTLSkey-1:01:x:" },
                                                           { "transport": "tcp", "traddr": "192.0.2.5", "concat": true } ] } ] }
            ]
            """);
        var ports = Commands.NvmeCliConfig.ReadConfig(json);

        // libnvme (fabrics.c) prefers the host's dhchap_key to the port's; dhchap_ctrl_key is the port's.
        Assert.Equal((Host, Ctrl, false), (ports[0].DhchapSecret, ports[0].DhchapControllerSecret, ports[0].Tls));
        Assert.Equal((Port, null, false), (ports[1].DhchapSecret, ports[1].DhchapControllerSecret, ports[1].Tls));
        Assert.Equal([(true, null, false), (false, "NVMeTLSkey-1:01:x:", false), (false, null, true)], ports.Skip(2).Select(p => (p.Tls, p.TlsKey, p.Concat)));

        var conf = Path.Combine(_directory, "keys.conf");
        File.WriteAllText(conf, $"""
            -t tcp -a 192.0.2.1 -S {Host} --dhchap-ctrl-secret={Ctrl}
            --transport=tcp --traddr=192.0.2.2 --tls
            """);
        var discovery = Commands.NvmeCliConfig.ReadDiscovery(conf);
        Assert.Equal((Host, Ctrl, false), (discovery[0].DhchapSecret, discovery[0].DhchapControllerSecret, discovery[0].Tls));
        Assert.True(discovery[1].Tls);

        foreach (var connection in ports.Concat(discovery))
        {
            Assert.DoesNotContain("DHHC", connection.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_traddr_or_a_configured_port_the_command_is_refused()
    {
        var result = await Cli.RunAsync(["id-ctrl", "-n", "nqn.2026-01.io.nvmetcp:nowhere", "--config", WriteConfig()]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--traddr is required", result.Error + result.Out, StringComparison.Ordinal);

        var none = await Cli.RunAsync(["id-ctrl", "--config", Path.Combine(_directory, "absent.json")]);
        Assert.Equal(1, none.ExitCode);
    }
}
