namespace NvmeTcp.Cli.Tests;

public sealed class ReservationVerbTests(TargetFixture target) : IClassFixture<TargetFixture>, IDisposable
{
    private const string HostA = "aaaaaaaa-1111-2222-3333-444444444444";
    private const string HostB = "bbbbbbbb-1111-2222-3333-444444444444";
    private readonly string _directory = Directory.CreateTempSubdirectory("nvmetcp-resv-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private Task<CliResult> As(string host, params string[] args) => Cli.RunAsync(target, [.. args, "--hostid", host]);

    [Fact]
    public async Task Register_acquire_report_and_release_between_two_hosts()
    {
        Assert.Equal(0, (await As(HostA, "resv-register", "--nrkey", "0xa1")).ExitCode);
        Assert.Equal(0, (await As(HostB, "resv-register", "--nrkey", "0xb2", "-o", "json")).ExitCode);
        var acquired = await As(HostA, "resv-acquire", "--crkey", "0xa1", "--rtype", "1");
        Assert.True(acquired.ExitCode == 0, acquired.ToString());
        Assert.Contains("resv-acquire: Success", acquired.Out, StringComparison.Ordinal);

        var report = await As(HostB, "resv-report", "-o", "json");
        Assert.True(report.ExitCode == 0, report.ToString());
        var json = report.Json();
        Assert.Equal(1, json.GetProperty("rtype").GetInt32());
        Assert.Equal(2, json.GetProperty("regctl").GetInt32());
        var registrants = json.GetProperty("regctlext").EnumerateArray().ToList();
        var holder = Assert.Single(registrants, r => r.GetProperty("rcsts").GetInt32() == 1);
        Assert.Equal(HostA.Replace("-", string.Empty, StringComparison.Ordinal), holder.GetProperty("hostid").GetString());
        Assert.Equal(0xa1ul, holder.GetProperty("rkey").GetUInt64());

        // B may not write while A holds Write Exclusive: the status name is printed, exit 3.
        var data = Path.Combine(_directory, "block.bin");
        await File.WriteAllBytesAsync(data, new byte[512], TestContext.Current.CancellationToken);
        var refused = await As(HostB, "write", "--start-block", "0", "--data", data);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("Reservation Conflict", refused.Error, StringComparison.Ordinal);

        Assert.Equal(0, (await As(HostA, "resv-release", "--crkey", "0xa1", "--rtype", "1")).ExitCode);
        Assert.Equal(0, (await As(HostB, "write", "--start-block", "0", "--data", data)).ExitCode);
        Assert.Equal(0, (await As(HostB, "resv-release", "--crkey", "0xb2", "--rrela", "1")).ExitCode);
        Assert.Equal(0, (await As(HostA, "resv-report", "-o", "json")).Json().GetProperty("regctl").GetInt32());
    }
}
