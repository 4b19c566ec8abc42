using System.Text.Json;

namespace NvmeTcp.Cli.Tests;

public sealed class IdentifyVerbTests(TargetFixture target) : IClassFixture<TargetFixture>
{
    [Fact]
    public async Task Discover_json_has_nvme_clis_keys_and_words()
    {
        var result = await Cli.RunAsync(["discover", "-a", "127.0.0.1", "-s", target.Target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.True(json.GetProperty("genctr").GetUInt64() >= 1);
        var record = Assert.Single(json.GetProperty("records").EnumerateArray());
        string[] keys = ["trtype", "adrfam", "subtype", "treq", "portid", "trsvcid", "subnqn", "traddr", "eflags", "sectype"];
        Assert.Equal(keys, record.EnumerateObject().Select(p => p.Name));
        Assert.Equal("tcp", record.GetProperty("trtype").GetString());
        Assert.Equal("ipv4", record.GetProperty("adrfam").GetString());
        Assert.Equal("nvme subsystem", record.GetProperty("subtype").GetString());
        Assert.Equal(JsonValueKind.Number, record.GetProperty("portid").ValueKind);
        Assert.Equal(target.Target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), record.GetProperty("trsvcid").GetString());
        Assert.Equal(TargetFixture.Nqn, record.GetProperty("subnqn").GetString());
        Assert.Equal("127.0.0.1", record.GetProperty("traddr").GetString());
        Assert.Equal("none", record.GetProperty("sectype").GetString());
    }

    [Fact]
    public async Task Discover_normal_prints_entries_like_nvme_discover()
    {
        var result = await Cli.RunAsync(["discover", "-a", "127.0.0.1", "-s", target.Target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("Discovery Log Number of Records 1, Generation counter ", result.Out, StringComparison.Ordinal);
        Assert.Contains("=====Discovery Log Entry 0======", result.Out, StringComparison.Ordinal);
        Assert.Contains($"subnqn:  {TargetFixture.Nqn}", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Id_ctrl_json_uses_nvme_clis_names_numbers_and_trimmed_strings()
    {
        var result = await Cli.RunAsync(target, "id-ctrl", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        foreach (var key in new[] { "vid", "ssvid", "rab", "ieee", "cmic", "mdts", "cntlid", "ver", "rtd3r", "rtd3e", "oaes", "ctratt", "oacs", "acl", "aerl", "frmw", "lpa", "elpe", "npss", "kas", "maxcmd", "nn", "oncs", "fuses", "fna", "vwc", "awun", "awupf", "sgls", "ioccsz", "iorcsz", "icdoff", "fcatt", "msdbd", "ofcs", "tnvmcap" })
        {
            Assert.True(json.GetProperty(key).ValueKind == JsonValueKind.Number, key);
        }

        Assert.Equal("CLI0001", json.GetProperty("sn").GetString());
        Assert.Equal("cli tests", json.GetProperty("mn").GetString());
        Assert.Equal(json.GetProperty("fr").GetString()!.Trim(), json.GetProperty("fr").GetString());
        Assert.Equal(TargetFixture.Nqn, json.GetProperty("subnqn").GetString());
        Assert.Equal(2u, json.GetProperty("nn").GetUInt32());
        Assert.True(json.GetProperty("ioccsz").GetUInt32() >= 4);
        Assert.Equal(json.GetProperty("npss").GetInt32() + 1, json.GetProperty("psds").GetArrayLength());
        Assert.Equal(["vid", "ssvid", "sn", "mn", "fr", "rab"], json.EnumerateObject().Take(6).Select(p => p.Name));
    }

    [Fact]
    public async Task Id_ctrl_normal_prints_name_colon_value()
    {
        var result = await Cli.RunAsync(target, "id-ctrl");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("NVME Identify Controller:", result.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^mn\s+: cli tests$", result.Out);
        Assert.Matches(@"(?m)^subnqn\s+: nqn\.2026-01\.io\.nvmetcp:cli-tests$", result.Out);
    }

    [Theory]
    [InlineData(1u, 32768ul, 9)]
    [InlineData(2u, 2048ul, 12)]
    public async Task Id_ns_json_has_sizes_formats_and_identifiers(uint nsid, ulong blocks, int lbads)
    {
        var result = await Cli.RunAsync(target, "id-ns", "--namespace-id", nsid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(blocks, json.GetProperty("nsze").GetUInt64());
        Assert.Equal(blocks, json.GetProperty("ncap").GetUInt64());
        foreach (var key in new[] { "nuse", "nsfeat", "nlbaf", "flbas", "mc", "dpc", "dps", "nmic", "rescap", "noiob" })
        {
            Assert.True(json.GetProperty(key).ValueKind == JsonValueKind.Number, key);
        }

        Assert.Matches("^[0-9a-f]{32}$", json.GetProperty("nguid").GetString());
        Assert.Matches("^[0-9a-f]{16}$", json.GetProperty("eui64").GetString());
        var inUse = json.GetProperty("lbafs").EnumerateArray().Single(f => f.GetProperty("in_use").GetInt32() == 1);
        Assert.Equal(lbads, inUse.GetProperty("ds").GetInt32());
        Assert.Equal(0, inUse.GetProperty("ms").GetInt32());
        Assert.True(inUse.TryGetProperty("rp", out _));
    }

    [Fact]
    public async Task Id_ns_normal_marks_the_format_in_use()
    {
        var result = await Cli.RunAsync(target, "id-ns", "--namespace-id", "2");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("NVME Identify Namespace 2:", result.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^nsze\s+: 0x800$", result.Out);
        Assert.Matches(@"(?m)^lbaf  0 : ms:0   lbads:12 rp:0 \(in use\)$", result.Out);
    }

    [Fact]
    public async Task List_ns_json_and_normal()
    {
        var json = await Cli.RunAsync(target, "list-ns", "-o", "json");
        Assert.Equal(0, json.ExitCode);
        Assert.Equal([1u, 2u], json.Json().GetProperty("nsid_list").EnumerateArray().Select(e => e.GetProperty("nsid").GetUInt32()));
        var normal = await Cli.RunAsync(target, "list-ns");
        Assert.Equal($"[   0]:0x1{Environment.NewLine}[   1]:0x2{Environment.NewLine}", normal.Out);
    }

    [Fact]
    public async Task List_has_one_row_per_namespace()
    {
        var json = await Cli.RunAsync(target, "list", "-o", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var devices = json.Json().GetProperty("Devices").EnumerateArray().ToList();
        Assert.Equal([1u, 2u], devices.Select(d => d.GetProperty("NameSpace").GetUInt32()));
        Assert.Equal([512, 4096], devices.Select(d => d.GetProperty("SectorSize").GetInt32()));
        Assert.Equal(16L << 20, devices[0].GetProperty("PhysicalSize").GetInt64());
        Assert.Equal("CLI0001", devices[0].GetProperty("SerialNumber").GetString());
        Assert.Matches("^[0-9a-f]{32}$", devices[1].GetProperty("NGUID").GetString());

        var normal = await Cli.RunAsync(target, "list");
        Assert.Equal(0, normal.ExitCode);
        Assert.Contains("16.78 MB", normal.Out, StringComparison.Ordinal);
        Assert.Contains("4096 B + 0 B", normal.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_nqn_the_first_nvm_subsystem_of_the_discovery_log_is_used()
    {
        var result = await Cli.RunAsync(["id-ctrl", "-a", "127.0.0.1", "-s", target.Target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(TargetFixture.Nqn, result.Json().GetProperty("subnqn").GetString());
    }
}
