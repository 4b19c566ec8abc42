using System.Text;

namespace NvmeTcp.Client;

/// <summary>Where a <see cref="NvmeHostIdentity"/> came from.</summary>
public enum NvmeHostIdentitySource
{
    /// <summary><c>/etc/nvme/hostnqn</c> and <c>/etc/nvme/hostid</c>, as nvme-cli reads them.</summary>
    NvmeCliFiles,

    /// <summary>The environment variables <c>NVMETCP_HOSTNQN</c> and <c>NVMETCP_HOSTID</c> (for containers).</summary>
    Environment,

    /// <summary>The per-user files the library created the first time (<c>~/.config/nvmetcp/hostnqn</c> and <c>hostid</c>).</summary>
    UserFile,

    /// <summary>Random, for this process only: no other source could be read or written.</summary>
    Process,

    /// <summary>Random, because the caller asked for one (<see cref="NvmeHostIdentity.CreateRandom"/>).</summary>
    Random,
}

/// <summary>
/// This host's NQN and Host Identifier, sent in every Connect. Targets key access lists and reservations on them, so
/// they must stay the same across connections, runs and reboots: the default comes from, in order,
/// <c>/etc/nvme/hostnqn</c> and <c>/etc/nvme/hostid</c> (nvme-cli's files); the environment variables
/// <c>NVMETCP_HOSTNQN</c> and <c>NVMETCP_HOSTID</c>; a pair of files the library creates once per user under
/// <see cref="Environment.SpecialFolder.ApplicationData"/><c>/nvmetcp</c> (on Linux <c>~/.config/nvmetcp</c>). A random
/// identity is made only when asked (<see cref="CreateRandom"/>), or, when none of those can be read or written, once per
/// process.
/// </summary>
/// <remarks>
/// When a source gives only one of the two, the other is derived as nvme-cli does: the Host ID from a host NQN of the
/// form <c>nqn.2014-08.org.nvmexpress:uuid:&lt;uuid&gt;</c>, the host NQN of that form from a Host ID. A value that is not
/// valid (an NQN not starting with <c>nqn.</c> or longer than 223 bytes, a Host ID that is not a UUID) makes its source
/// count as absent.
/// </remarks>
public sealed class NvmeHostIdentity
{
    /// <summary>The environment variable that gives the host NQN.</summary>
    public const string HostNqnVariable = "NVMETCP_HOSTNQN";

    /// <summary>The environment variable that gives the Host ID (a UUID).</summary>
    public const string HostIdVariable = "NVMETCP_HOSTID";

    /// <summary>The prefix of NQNs made from a UUID (NVMe Base 2.0, 4.5).</summary>
    public const string UuidNqnPrefix = "nqn.2014-08.org.nvmexpress:uuid:";

    private const int MaxNqnBytes = 223;

    private static readonly Lazy<NvmeHostIdentity> LazyDefault = new(() => Resolve(new NvmeHostIdentityPaths()));

    /// <summary>Creates an identity from explicit values.</summary>
    /// <param name="hostNqn">HOSTNQN.</param>
    /// <param name="hostId">HOSTID.</param>
    /// <param name="source">Where they came from.</param>
    public NvmeHostIdentity(string hostNqn, Guid hostId, NvmeHostIdentitySource source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostNqn);
        HostNqn = hostNqn;
        HostId = hostId;
        Source = source;
    }

    /// <summary>The host NQN.</summary>
    public string HostNqn { get; }

    /// <summary>The Host Identifier.</summary>
    public Guid HostId { get; }

    /// <summary>Where this identity came from.</summary>
    public NvmeHostIdentitySource Source { get; }

    /// <summary>This host's identity, resolved once per process from the default places (see the class).</summary>
    public static NvmeHostIdentity Default => LazyDefault.Value;

    /// <summary>A new random identity, as nvme-cli's <c>gen-hostnqn</c> makes: a UUID and the NQN of that UUID.</summary>
    /// <returns>The identity.</returns>
    public static NvmeHostIdentity CreateRandom()
    {
        var id = Guid.NewGuid();
        return new NvmeHostIdentity(NqnOf(id), id, NvmeHostIdentitySource.Random);
    }

    /// <summary>The NQN nvme-cli makes from a UUID: <c>nqn.2014-08.org.nvmexpress:uuid:&lt;uuid&gt;</c>.</summary>
    /// <param name="id">The UUID.</param>
    /// <returns>The NQN.</returns>
    public static string NqnOf(Guid id) => $"{UuidNqnPrefix}{id:D}";

    /// <summary>Resolves the identity from the places <paramref name="paths"/> names (see the class); creates the per-user files when no earlier source has one.</summary>
    /// <param name="paths">The files and environment to read (tests point them elsewhere).</param>
    /// <returns>The identity.</returns>
    public static NvmeHostIdentity Resolve(NvmeHostIdentityPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (FromValues(ReadFile(paths.NvmeCliHostNqnFile), ReadFile(paths.NvmeCliHostIdFile), NvmeHostIdentitySource.NvmeCliFiles) is { } cli)
        {
            return cli;
        }

        var environment = paths.GetEnvironmentVariable ?? System.Environment.GetEnvironmentVariable;
        if (FromValues(environment(HostNqnVariable), environment(HostIdVariable), NvmeHostIdentitySource.Environment) is { } variables)
        {
            return variables;
        }

        if (paths.UserDirectory is { } directory)
        {
            var nqnFile = Path.Combine(directory, "hostnqn");
            var idFile = Path.Combine(directory, "hostid");
            if (FromValues(ReadFile(nqnFile), ReadFile(idFile), NvmeHostIdentitySource.UserFile) is { } saved)
            {
                return saved;
            }

            if (TryCreateUserFiles(directory, nqnFile, idFile) is { } created)
            {
                return created;
            }
        }

        var id = Guid.NewGuid();
        return new NvmeHostIdentity(NqnOf(id), id, NvmeHostIdentitySource.Process);
    }

    // Writes both files once: to a temporary name, then moved into place without overwriting, so two processes
    // creating them at once end up with one identity (the loser reads the winner's).
    private static NvmeHostIdentity? TryCreateUserFiles(string directory, string nqnFile, string idFile)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var fresh = CreateRandom();
            PublishOnce(idFile, fresh.HostId.ToString("D"));
            var id = ParseId(ReadFile(idFile));
            if (id is null)
            {
                return null;
            }

            PublishOnce(nqnFile, NqnOf(id.Value));
            return FromValues(ReadFile(nqnFile), ReadFile(idFile), NvmeHostIdentitySource.UserFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void PublishOnce(string path, string value)
    {
        if (File.Exists(path))
        {
            return;
        }

        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, value + "\n", Encoding.ASCII);
        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process published first: its value stands.
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static NvmeHostIdentity? FromValues(string? nqn, string? idText, NvmeHostIdentitySource source)
    {
        nqn = ValidNqn(nqn);
        var id = ParseId(idText);
        if (nqn is null && id is null)
        {
            return null;
        }

        id ??= nqn!.StartsWith(UuidNqnPrefix, StringComparison.Ordinal) && Guid.TryParse(nqn.AsSpan(UuidNqnPrefix.Length), out var fromNqn) ? fromNqn : null;
        if (id is null)
        {
            // An NQN that does not carry a UUID and no Host ID: nvme-cli would make up a Host ID each time; this
            // source cannot give a stable one, so it does not count.
            return null;
        }

        return new NvmeHostIdentity(nqn ?? NqnOf(id.Value), id.Value, source);
    }

    private static string? ValidNqn(string? nqn)
    {
        nqn = nqn?.Trim();
        return string.IsNullOrEmpty(nqn) || !nqn.StartsWith("nqn.", StringComparison.Ordinal) || Encoding.UTF8.GetByteCount(nqn) > MaxNqnBytes ? null : nqn;
    }

    private static Guid? ParseId(string? text) => Guid.TryParse(text?.Trim(), out var id) && id != Guid.Empty ? id : null;

    private static string? ReadFile(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        try
        {
            // Small files only: an identity is a line; anything larger is not one.
            var info = new FileInfo(path);
            return info.Exists && info.Length <= 1024 ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{HostNqn} (host ID {HostId:D}, from {Source})";
}

/// <summary>Where <see cref="NvmeHostIdentity.Resolve"/> looks: nvme-cli's files, the environment, the per-user directory.</summary>
public sealed class NvmeHostIdentityPaths
{
    /// <summary>nvme-cli's host NQN file. Default <c>/etc/nvme/hostnqn</c>.</summary>
    public string? NvmeCliHostNqnFile { get; init; } = "/etc/nvme/hostnqn";

    /// <summary>nvme-cli's Host ID file. Default <c>/etc/nvme/hostid</c>.</summary>
    public string? NvmeCliHostIdFile { get; init; } = "/etc/nvme/hostid";

    /// <summary>Reads an environment variable; default <see cref="Environment.GetEnvironmentVariable(string)"/>.</summary>
    public Func<string, string?>? GetEnvironmentVariable { get; init; }

    /// <summary>The per-user directory of the created files; null to create none. Default <c>ApplicationData/nvmetcp</c>.</summary>
    public string? UserDirectory { get; init; } = DefaultUserDirectory();

    private static string? DefaultUserDirectory()
    {
        var root = Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return string.IsNullOrEmpty(root) ? null : Path.Combine(root, "nvmetcp");
    }
}
