namespace NvmeTcp.Client.Tests;

/// <summary>The host identity from each source, in order, with every path pointed into a temporary directory.</summary>
public sealed class HostIdentityTests : IDisposable
{
    private const string CliNqn = "nqn.2014-08.org.nvmexpress:uuid:0b6d7b14-5d0e-4c4c-9d8a-3e4f3a2b1c0d";
    private static readonly Guid CliId = Guid.Parse("0b6d7b14-5d0e-4c4c-9d8a-3e4f3a2b1c0d");
    private readonly string _root = Directory.CreateTempSubdirectory("nvmetcp-identity-").FullName;
    private readonly Dictionary<string, string> _environment = [];

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private NvmeHostIdentityPaths Paths(string? userDirectory = "user") => new()
    {
        NvmeCliHostNqnFile = Path.Combine(_root, "etc", "hostnqn"),
        NvmeCliHostIdFile = Path.Combine(_root, "etc", "hostid"),
        GetEnvironmentVariable = name => _environment.GetValueOrDefault(name),
        UserDirectory = userDirectory is null ? null : Path.Combine(_root, userDirectory),
    };

    private void WriteCliFiles(string? nqn, string? id)
    {
        Directory.CreateDirectory(Path.Combine(_root, "etc"));
        if (nqn is not null)
        {
            File.WriteAllText(Path.Combine(_root, "etc", "hostnqn"), nqn + "\n");
        }

        if (id is not null)
        {
            File.WriteAllText(Path.Combine(_root, "etc", "hostid"), id + "\n");
        }
    }

    [Fact]
    public void Nvme_cli_files_come_first()
    {
        WriteCliFiles("nqn.2026-01.com.example:host-a", CliId.ToString());
        _environment[NvmeHostIdentity.HostNqnVariable] = "nqn.2026-01.com.example:env";
        var identity = NvmeHostIdentity.Resolve(Paths());
        Assert.Equal("nqn.2026-01.com.example:host-a", identity.HostNqn);
        Assert.Equal(CliId, identity.HostId);
        Assert.Equal(NvmeHostIdentitySource.NvmeCliFiles, identity.Source);
        Assert.False(Directory.Exists(Path.Combine(_root, "user")));
    }

    [Fact]
    public void A_host_id_is_derived_from_a_uuid_host_nqn_and_the_other_way()
    {
        WriteCliFiles(CliNqn, null);
        Assert.Equal(CliId, NvmeHostIdentity.Resolve(Paths()).HostId);

        File.Delete(Path.Combine(_root, "etc", "hostnqn"));
        WriteCliFiles(null, CliId.ToString());
        Assert.Equal(CliNqn, NvmeHostIdentity.Resolve(Paths()).HostNqn);
    }

    [Fact]
    public void Environment_variables_come_next()
    {
        WriteCliFiles("not an nqn", "not a uuid");
        var id = Guid.NewGuid();
        _environment[NvmeHostIdentity.HostNqnVariable] = "nqn.2026-01.com.example:container-7";
        _environment[NvmeHostIdentity.HostIdVariable] = id.ToString();
        var identity = NvmeHostIdentity.Resolve(Paths());
        Assert.Equal(("nqn.2026-01.com.example:container-7", id, NvmeHostIdentitySource.Environment), (identity.HostNqn, identity.HostId, identity.Source));
    }

    [Fact]
    public void Otherwise_a_per_user_file_is_created_once_and_read_back_after()
    {
        var first = NvmeHostIdentity.Resolve(Paths());
        Assert.Equal(NvmeHostIdentitySource.UserFile, first.Source);
        Assert.Equal(NvmeHostIdentity.NqnOf(first.HostId), first.HostNqn);
        Assert.Equal(first.HostNqn, File.ReadAllText(Path.Combine(_root, "user", "hostnqn")).Trim());
        Assert.Equal(first.HostId.ToString("D"), File.ReadAllText(Path.Combine(_root, "user", "hostid")).Trim());

        var again = NvmeHostIdentity.Resolve(Paths());
        Assert.Equal((first.HostNqn, first.HostId, NvmeHostIdentitySource.UserFile), (again.HostNqn, again.HostId, again.Source));
        Assert.Equal(["hostid", "hostnqn"], Directory.GetFiles(Path.Combine(_root, "user")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Concurrent_first_resolutions_agree_on_one_identity()
    {
        var identities = Enumerable.Range(0, 8).AsParallel().Select(_ => NvmeHostIdentity.Resolve(Paths())).ToList();
        Assert.Single(identities.Select(i => (i.HostNqn, i.HostId)).Distinct());
    }

    [Fact]
    public void Without_any_writable_source_the_identity_is_random_for_the_process_only()
    {
        File.WriteAllText(Path.Combine(_root, "file"), "a file, not a directory");
        var identity = NvmeHostIdentity.Resolve(Paths("file"));
        Assert.Equal(NvmeHostIdentitySource.Process, identity.Source);
        Assert.Equal(NvmeHostIdentitySource.Process, NvmeHostIdentity.Resolve(Paths(null)).Source);
    }

    [Fact]
    public void Options_default_to_the_process_identity_and_never_make_a_new_one_per_connection()
    {
        var a = new NvmeTcpOptions();
        var b = new NvmeTcpOptions();
        Assert.Equal(NvmeHostIdentity.Default.HostId, a.HostId);
        Assert.Equal(NvmeHostIdentity.Default.HostNqn, a.HostNqn);
        Assert.Equal((a.HostId, a.HostNqn), (b.HostId, b.HostNqn));

        var id = Guid.NewGuid();
        var explicitId = new NvmeTcpOptions { HostId = id };
        Assert.Equal(NvmeHostIdentity.NqnOf(id), explicitId.HostNqn);

        var random = NvmeHostIdentity.CreateRandom();
        a.UseIdentity(random);
        Assert.Equal((random.HostId, random.HostNqn), (a.HostId, a.HostNqn));
        Assert.Equal(NvmeHostIdentitySource.Random, random.Source);
        Assert.NotEqual(random.HostId, NvmeHostIdentity.CreateRandom().HostId);
    }
}
