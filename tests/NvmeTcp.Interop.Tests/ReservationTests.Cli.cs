using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NvmeTcp.Cli.Commands;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// The CLI's resv-* verbs, run in this process as NvmeTcp.Cli.Tests runs them, against nvmet's resv subsystem. In the
/// same class as the library's test: both use namespace 1 of that subsystem, and a class's tests never overlap.
/// </summary>
public sealed partial class ReservationTests
{
    private async Task<JsonElement> CliAsync(Guid host, params string[] args)
    {
        var vm = await VmAsync("newest");
        var output = new StringWriter();
        var error = new StringWriter();
        var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        string[] all = [.. args, "-a", "127.0.0.1", "-s", vm.Port.ToString(CultureInfo.InvariantCulture), "-n", ResvNqn, "--hostid", host.ToString(), "-o", "json"];
        var code = await CliCommands.CreateRoot().Parse(all).InvokeAsync(configuration, Timeout());
        Assert.True(code == 0, $"nvmetcp {string.Join(' ', args)}: exit {code}\nstdout:\n{output}\nstderr:\n{error}");
        using var document = JsonDocument.Parse(output.ToString());
        return document.RootElement.Clone();
    }

    private static void AssertSuccess(JsonElement json) => Assert.Equal("success", json.GetProperty("result").GetString());

    [Fact]
    public async Task Cli_resv_verbs_against_nvmet_print_nvme_cli_json_that_matches_nvmets_report()
    {
        var token = Timeout();
        var idA = Guid.NewGuid();
        var idB = Guid.NewGuid();

        // B reads nvmet's report through the library: the reference the CLI's JSON is held to.
        await using var b = await NvmeController.ConnectAsync(await HostAsync(idB), token);
        var nsB = b.GetNamespace(1);
        var qb = b.IoQueues[0];

        AssertSuccess(await CliAsync(idA, "resv-register", "--nrkey", "0xc1"));
        AssertSuccess(await CliAsync(idA, "resv-acquire", "--crkey", "0xc1", "--rtype", "1"));

        var held = await CliAsync(idB, "resv-report");
        var nvmet = await qb.GetReservationReportAsync(nsB, token);
        Assert.Equal(ReservationType.WriteExclusive, nvmet.Type);
        Assert.Equal(nvmet.Generation, held.GetProperty("gen").GetUInt32());
        Assert.Equal(1, held.GetProperty("rtype").GetInt32());
        Assert.Equal(1, held.GetProperty("regctl").GetInt32());
        Assert.Equal(0, held.GetProperty("ptpls").GetInt32());
        var holder = Assert.Single(held.GetProperty("regctlext").EnumerateArray());
        var registrant = Assert.Single(nvmet.Registrants);
        Assert.Equal(registrant.ControllerId, holder.GetProperty("cntlid").GetInt32());
        Assert.Equal(1, holder.GetProperty("rcsts").GetInt32());
        Assert.Equal(0xc1ul, holder.GetProperty("rkey").GetUInt64());
        Assert.Equal(idA.ToString("N"), holder.GetProperty("hostid").GetString());

        AssertSuccess(await CliAsync(idA, "resv-release", "--crkey", "0xc1", "--rtype", "1"));
        var released = await CliAsync(idA, "resv-report");
        Assert.Equal(0, released.GetProperty("rtype").GetInt32());
        Assert.Equal(0, Assert.Single(released.GetProperty("regctlext").EnumerateArray()).GetProperty("rcsts").GetInt32());
        Assert.Equal(ReservationType.None, (await qb.GetReservationReportAsync(nsB, token)).Type);

        // Unregister, leaving the namespace as it was for the next run.
        AssertSuccess(await CliAsync(idA, "resv-register", "--rrega", "1", "--crkey", "0xc1"));
        var empty = await CliAsync(idB, "resv-report");
        Assert.Equal(0, empty.GetProperty("regctl").GetInt32());
        Assert.Empty(empty.GetProperty("regctlext").EnumerateArray());
        Assert.Empty((await qb.GetReservationReportAsync(nsB, token)).Registrants);
    }
}
