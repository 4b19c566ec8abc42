using NvmeTcp.Client;

namespace NvmeTcp.Cli.Tests;

public sealed class HostNqnVerbTests
{
    [Fact]
    public async Task Gen_hostnqn_prints_a_new_uuid_nqn_each_time()
    {
        var first = await Cli.RunAsync(["gen-hostnqn"]);
        var second = await Cli.RunAsync(["gen-hostnqn"]);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Matches("^nqn\\.2014-08\\.org\\.nvmexpress:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", first.Out.Trim());
        Assert.NotEqual(first.Out, second.Out);
    }

    [Fact]
    public async Task Show_hostnqn_prints_the_identity_every_verb_uses_by_default()
    {
        var result = await Cli.RunAsync(["--verbose", "show-hostnqn"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(NvmeHostIdentity.Default.HostNqn, result.Out.Trim());
        Assert.Contains(NvmeHostIdentity.Default.HostId.ToString("D"), result.Error, StringComparison.Ordinal);
        Assert.Equal(NvmeHostIdentity.Default.HostNqn, (await Cli.RunAsync(["show-hostnqn"])).Out.Trim());
    }
}
