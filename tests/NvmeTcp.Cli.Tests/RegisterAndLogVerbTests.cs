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
    public async Task Show_regs_lists_cap_vs_cc_csts()
    {
        var result = await Cli.RunAsync(target, "show-regs", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal(["cap", "vs", "cc", "csts"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1ul, json.GetProperty("csts").GetUInt64() & 1); // CSTS.RDY
        Assert.True(json.GetProperty("cap").GetUInt64() > 0);
        Assert.Contains("csts     : 1", (await Cli.RunAsync(target, "show-regs")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fw_log_names_the_active_slot_and_its_revision()
    {
        var result = await Cli.RunAsync(target, "fw-log", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var log = result.Json().GetProperty(TargetFixture.Nqn);
        Assert.Equal(1, log.GetProperty("Active Firmware Slot (afi)").GetInt32());
        var slot1 = log.GetProperty("Firmware Rev Slot 1").GetString()!;
        Assert.Matches(@"^\d+ \(.+\)$", slot1);
        var id = (await Cli.RunAsync(target, "id-ctrl", "-o", "json")).Json();
        Assert.EndsWith($"({id.GetProperty("fr").GetString()!.Trim()})", slot1, StringComparison.Ordinal);
        Assert.Contains("afi  : 0x1", (await Cli.RunAsync(target, "fw-log")).Out, StringComparison.Ordinal);
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
}
