using System.Text.Json;

namespace NvmeTcp.Cli.Tests;

public sealed class RegisterAndLogVerbTests(TargetFixture target) : IClassFixture<TargetFixture>
{
    [Fact]
    public async Task Get_property_reads_CC_and_VS_with_nvme_clis_keys()
    {
        var cc = await Cli.RunAsync(target, "get-property", "--offset", "0x14", "-o", "json");
        Assert.True(cc.ExitCode == 0, cc.ToString());
        var json = cc.Json();
        Assert.Equal("0x14", json.GetProperty("property").GetString());
        Assert.Equal("Controller Configuration", json.GetProperty("name").GetString());
        var value = Convert.ToUInt32(json.GetProperty("value").GetString(), 16);
        Assert.Equal(1u, value & 1); // CC.EN: the controller is enabled

        var vs = await Cli.RunAsync(target, "get-property", "-O", "8");
        Assert.True(vs.ExitCode == 0, vs.ToString());
        Assert.Matches(@"^property: 0x08 \(Version\), value: [0-9a-f]+\r?\n$", vs.Out);
    }

    [Fact]
    public async Task Set_property_writes_and_a_refused_one_exits_with_the_status()
    {
        // CC with EN set and the I/O queue entry sizes the host already uses: accepted as is.
        var before = Convert.ToUInt32((await Cli.RunAsync(target, "get-property", "--offset", "0x14", "-o", "json")).Json().GetProperty("value").GetString(), 16);
        var same = await Cli.RunAsync(target, "set-property", "--offset", "0x14", "--value", $"0x{before:x}", "-o", "json");
        Assert.True(same.ExitCode == 0, same.ToString());
        Assert.Equal(before.ToString("x", System.Globalization.CultureInfo.InvariantCulture), same.Json().GetProperty("value").GetString());

        // CAP is read-only: Property Set of it is refused by the controller.
        var refused = await Cli.RunAsync(target, "set-property", "--offset", "0", "--value", "1");
        Assert.Equal(3, refused.ExitCode);
    }

    [Fact]
    public async Task Show_regs_reads_nvme_clis_fabrics_registers_and_shows_a_refused_nssr_as_all_ones()
    {
        var result = await Cli.RunAsync(target, "show-regs", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(["cap", "vs", "cc", "csts", "nssr"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, json.GetProperty("csts").GetInt32() & 1); // CSTS.RDY
        var cap = json.GetProperty("cap").GetUInt64();
        Assert.True(cap > 0);

        // The target has no NVM subsystem reset (CAP.NSSRS clear), so NSSR is reserved and Property Get of it is
        // refused; nvme-cli then keeps its 0xff fill, a json-c int of -1.
        Assert.Equal(0ul, (cap >> 36) & 1);
        Assert.Equal(-1, json.GetProperty("nssr").GetInt32());
        var nssr = await Cli.RunAsync(target, "get-property", "--offset", "0x20");
        Assert.Equal(3, nssr.ExitCode);

        var text = (await Cli.RunAsync(target, "show-regs")).Out;
        Assert.Contains("csts    : 0x1\n", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("nssr    : 0xffffffff", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^version : 0x[0-9a-f]+$", text);
    }

    [Fact]
    public async Task Fw_log_is_keyed_by_the_controller_name_list_subsys_shows()
    {
        var result = await Cli.RunAsync(target, "fw-log", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var top = Assert.Single(result.Json().EnumerateObject());
        Assert.Matches("^nvmetcp[0-9]+$", top.Name);
        var log = top.Value;
        Assert.Equal(["Active Firmware Slot (afi)", "Firmware Rev Slot 1"], log.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, log.GetProperty("Active Firmware Slot (afi)").GetInt32());
        var slot1 = log.GetProperty("Firmware Rev Slot 1").GetString()!;
        Assert.Matches(@"^\d+ \(.+\)$", slot1);
        var id = (await Cli.RunAsync(target, "id-ctrl", "-o", "json")).Json();
        Assert.EndsWith($"({id.GetProperty("fr").GetString()!.Trim()})", slot1, StringComparison.Ordinal);
        Assert.Matches(@"^Firmware Log for device:nvmetcp[0-9]+\r?\nafi  : 0x1\r?\n", (await Cli.RunAsync(target, "fw-log")).Out);
    }

    [Fact]
    public async Task List_subsys_prints_nvme_clis_shape_with_the_controller_named_by_its_cntlid()
    {
        var result = await Cli.RunAsync(target, "list-subsys", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var host = Assert.Single(result.Json().EnumerateArray());
        Assert.Equal(["HostNQN", "HostID", "Subsystems"], host.EnumerateObject().Select(p => p.Name));
        var subsystem = Assert.Single(host.GetProperty("Subsystems").EnumerateArray());
        Assert.Equal(TargetFixture.Nqn, subsystem.GetProperty("NQN").GetString());
        var path = Assert.Single(subsystem.GetProperty("Paths").EnumerateArray());
        Assert.Equal(["Name", "Transport", "Address", "State", "ANAState"], path.EnumerateObject().Select(p => p.Name));
        var name = path.GetProperty("Name").GetString()!;
        Assert.Matches("^nvmetcp[0-9]+$", name);
        Assert.Equal($"nvmetcp-subsys{name["nvmetcp".Length..]}", subsystem.GetProperty("Name").GetString());
        Assert.Equal("tcp", path.GetProperty("Transport").GetString());
        Assert.Equal($"traddr=127.0.0.1,trsvcid={target.Target.EndPoint.Port}", path.GetProperty("Address").GetString());
        Assert.Equal("live", path.GetProperty("State").GetString());
        Assert.Matches(@$"^nvmetcp-subsys[0-9]+ - NQN={TargetFixture.Nqn}\r?\n", (await Cli.RunAsync(target, "list-subsys")).Out);
    }

    [Fact]
    public async Task Ns_descs_lists_each_descriptor_with_its_location()
    {
        var result = await Cli.RunAsync(target, "ns-descs", "--namespace-id", "2", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var descriptors = result.Json().GetProperty("ns-descs").EnumerateArray().ToList();
        Assert.NotEmpty(descriptors);
        var expectedLoc = 0;
        foreach (var d in descriptors)
        {
            Assert.Equal(expectedLoc, d.GetProperty("loc").GetInt32());
            var type = d.GetProperty("Type").GetString()!;
            Assert.Contains(type, new[] { "eui64", "nguid", "uuid", "csi" });
            Assert.Equal(JsonValueKind.String, d.GetProperty(type).ValueKind);
            expectedLoc += 4 + d.GetProperty("nidl").GetInt32();
        }

        var uuid = Assert.Single(descriptors, d => d.GetProperty("Type").GetString() == "uuid");
        Assert.True(Guid.TryParse(uuid.GetProperty("uuid").GetString(), out _));
    }

    [Fact]
    public async Task Id_ctrl_human_readable_decodes_the_bit_fields()
    {
        var result = await Cli.RunAsync(target, "id-ctrl", "-H");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"(?m)^oncs\s+: 0x[0-9a-f]+$", result.Out);
        Assert.Matches(@"(?m)^  \[3:3\]\s+: 1\tWrite Zeroes Supported$", result.Out);
        Assert.Matches(@"(?m)^  \[0:0\]\s+: 1\t128-bit Host Identifier Supported$", result.Out);
        Assert.DoesNotContain("Write Zeroes Supported", (await Cli.RunAsync(target, "id-ctrl")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Id_ctrl_human_readable_changes_nothing_in_json_as_in_nvme_cli()
    {
        // nvme-cli's json_nvme_id_ctrl takes no flags: -H decodes only the normal output.
        var plain = await Cli.RunAsync(target, "id-ctrl", "-o", "json");
        var human = await Cli.RunAsync(target, "id-ctrl", "-H", "-o", "json");
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Equal(plain.Json().EnumerateObject().Select(p => p.Name), human.Json().EnumerateObject().Select(p => p.Name));
        Assert.Equal(plain.Json().GetProperty("oncs").GetInt32(), human.Json().GetProperty("oncs").GetInt32());
    }
}
