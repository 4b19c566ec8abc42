using System.Text.Json;

namespace NvmeTcp.Cli.Tests;

public sealed class AdminVerbTests(TargetFixture target) : IClassFixture<TargetFixture>
{
    [Fact]
    public async Task Smart_log_json_has_nvme_clis_keys()
    {
        var result = await Cli.RunAsync(target, "smart-log", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        foreach (var key in new[] { "critical_warning", "temperature", "avail_spare", "spare_thresh", "percent_used", "endurance_grp_critical_warning_summary", "data_units_read", "data_units_written", "host_read_commands", "host_write_commands", "controller_busy_time", "power_cycles", "power_on_hours", "unsafe_shutdowns", "media_errors", "num_err_log_entries", "warning_temp_time", "critical_comp_time", "thm_temp1_trans_count", "thm_temp2_trans_count", "thm_temp1_total_time", "thm_temp2_total_time" })
        {
            Assert.True(json.GetProperty(key).ValueKind == JsonValueKind.Number, key);
        }

        var normal = await Cli.RunAsync(target, "smart-log");
        Assert.StartsWith("Smart Log for NVME device:", normal.Out, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^avail_spare\s+: \d+%$", normal.Out);
    }

    [Fact]
    public async Task Error_log_json_has_one_object_per_entry()
    {
        var result = await Cli.RunAsync(target, "error-log", "--log-entries", "2", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var errors = result.Json().GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal(2, errors.Count);
        Assert.Equal(["error_count", "sqid", "cmdid", "status_field", "phase_tag", "parm_error_location", "lba", "nsid", "vs", "trtype", "csi", "opcode", "cs", "trtype_spec_info", "log_page_version"], errors[0].EnumerateObject().Select(p => p.Name));

        var normal = await Cli.RunAsync(target, "error-log", "-e", "1");
        Assert.Contains(" Entry[ 0]", normal.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_log_prints_a_hex_dump_or_hex_json()
    {
        var json = await Cli.RunAsync(target, "get-log", "--log-id", "0x02", "--log-len", "512", "-o", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(2, json.Json().GetProperty("log_id").GetInt32());
        Assert.Equal(1024, json.Json().GetProperty("data").GetString()!.Length);

        var normal = await Cli.RunAsync(target, "get-log", "--log-id", "2", "-l", "32");
        Assert.Equal(0, normal.ExitCode);
        Assert.Contains("log-id:2 namespace-id:0xffffffff", normal.Out, StringComparison.Ordinal);
        Assert.Contains("0010: ", normal.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_log_with_a_bad_length_is_a_usage_error()
    {
        var result = await Cli.RunAsync(target, "get-log", "--log-id", "2", "-l", "3");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--log-len", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_feature_number_of_queues()
    {
        var normal = await Cli.RunAsync(target, "get-feature", "--feature-id", "7");
        Assert.True(normal.ExitCode == 0, normal.ToString());
        Assert.Matches(@"^get-feature:0x07 \(Number of Queues\), Current value:0x[0-9a-f]{8}\r?\n$", normal.Out);

        var json = await Cli.RunAsync(target, "get-feature", "-f", "0x07", "-o", "json");
        Assert.Equal(7, json.Json().GetProperty("feature_id").GetInt32());
        Assert.Equal(JsonValueKind.Number, json.Json().GetProperty("value").ValueKind);
    }

    [Fact]
    public async Task Set_feature_async_event_configuration()
    {
        var result = await Cli.RunAsync(target, "set-feature", "-f", "0x0b", "--value", "0x100", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(0x100u, result.Json().GetProperty("value").GetUInt32());

        var normal = await Cli.RunAsync(target, "set-feature", "-f", "0x0b", "-V", "0");
        Assert.Equal($"set-feature:0x0b (Async Event Configuration), value:0x00000000, cdw12:0x00000000, save:0{Environment.NewLine}", normal.Out);
    }

    [Fact]
    public async Task Admin_passthru_identify_controller_returns_its_data()
    {
        var result = await Cli.RunAsync(target, "admin-passthru", "--opcode", "0x06", "--cdw10", "1", "--data-len", "4096", "--read", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        var data = Convert.FromHexString(result.Json().GetProperty("data").GetString()!);
        Assert.Equal("CLI0001", System.Text.Encoding.ASCII.GetString(data, 4, 20).Trim());

        var normal = await Cli.RunAsync(target, "admin-passthru", "-O", "6", "--cdw10", "1", "-l", "4096", "-r");
        Assert.StartsWith("NVMe command result:00000000", normal.Out, StringComparison.Ordinal);
        Assert.Contains("0ff0: ", normal.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_passthru_with_a_refused_command_exits_with_the_status()
    {
        var result = await Cli.RunAsync(target, "admin-passthru", "--opcode", "0x06", "--cdw10", "1", "--data-len", "64", "--read");
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("Identify failed", result.Error, StringComparison.Ordinal);
    }
}
