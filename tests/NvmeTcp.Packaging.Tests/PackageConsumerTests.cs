using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace NvmeTcp.Packaging.Tests;

/// <summary>
/// Packs NvmeTcp.Protocol, NvmeTcp.Client, NvmeTcp.Target and NvmeTcp.Client.Hosting into a temporary folder feed, restores them into a throwaway console
/// project (the README's quick start) from that feed plus the usual NuGet source, builds it and runs it: connect,
/// write, read back against the in-process target from the package.
/// </summary>
public sealed class PackageConsumerTests : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("nvmetcp-pack-");

    public void Dispose() => _work.Delete(recursive: true);

    [Fact]
    public async Task Packed_client_and_target_restore_build_and_run_in_a_new_project()
    {
        var total = Stopwatch.StartNew();
        var root = FindRepositoryRoot();
        var feed = _work.CreateSubdirectory("feed").FullName;
        var app = _work.CreateSubdirectory("app").FullName;

        // A version no cache has seen, so the restore takes exactly what was just packed.
        var version = $"0.1.0-pkgtest.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        foreach (var project in new[] { "src/NvmeTcp.Protocol/NvmeTcp.Protocol.csproj", "src/NvmeTcp.Client/NvmeTcp.Client.csproj", "src/NvmeTcp.Target/NvmeTcp.Target.csproj", "src/NvmeTcp.Client.Hosting/NvmeTcp.Client.Hosting.csproj" })
        {
            var pack = await ProcessRunner.RunAsync("dotnet", root, StepTimeout, "pack", project, "-c", "Release", "-o", feed, $"-p:Version={version}", "--disable-build-servers", "-nodeReuse:false");
            Assert.True(pack.ExitCode == 0, pack.Output);
            Assert.DoesNotContain("warning", pack.Output, StringComparison.OrdinalIgnoreCase);
        }

        foreach (var id in new[] { "NvmeTcp.Protocol", "NvmeTcp.Client", "NvmeTcp.Target", "NvmeTcp.Client.Hosting" })
        {
            AssertPackage(Path.Combine(feed, $"{id}.{version}.nupkg"), id);
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{version}.snupkg")), $"{id}: no symbol package");
        }

        await WriteConsumerAsync(app, feed, version);
        var globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var build = await ProcessRunner.RunAsync("dotnet", app, StepTimeout, "build", "-c", "Release", "--disable-build-servers", "-nodeReuse:false",
            $"-p:RestorePackagesPath={Path.Combine(_work.FullName, "packages")}", $"-p:RestoreAdditionalProjectFallbackFolders={globalPackages}");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.True(Directory.Exists(Path.Combine(_work.FullName, "packages", "nvmetcp.client", version)), "NvmeTcp.Client was not restored from the local feed");
        Assert.True(Directory.Exists(Path.Combine(_work.FullName, "packages", "nvmetcp.client.hosting", version)), "NvmeTcp.Client.Hosting was not restored from the local feed");

        var run = await ProcessRunner.RunAsync("dotnet", app, TimeSpan.FromMinutes(1), Path.Combine(app, "bin", "Release", "net10.0", "consumer.dll"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("model=NvmeTcp.Target", run.Output, StringComparison.Ordinal);
        Assert.Contains("blocks=2048", run.Output, StringComparison.Ordinal);
        Assert.Contains("match=True", run.Output, StringComparison.Ordinal);
        TestContext.Current.SendDiagnosticMessage($"pack, restore, build and run took {total.Elapsed.TotalSeconds:0.0} s");
    }

    private static void AssertPackage(string path, string id)
    {
        Assert.True(File.Exists(path), $"{path} was not created");
        using var zip = ZipFile.OpenRead(path);
        var names = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("README.md", names);
        Assert.Contains($"lib/net10.0/{id}.dll", names);
        Assert.Contains($"lib/net10.0/{id}.xml", names);
        using var nuspecStream = zip.GetEntry($"{id}.nuspec")!.Open();
        var metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string? Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.False(string.IsNullOrWhiteSpace(Value("description")));
        var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal("git", repository.Attribute("type")?.Value);
        Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")?.Value);
    }

    private static async Task WriteConsumerAsync(string app, string feed, string version)
    {
        // Empty MSBuild and NuGet files stop the search for the machine's or a parent folder's.
        await File.WriteAllTextAsync(Path.Combine(app, "Directory.Build.props"), "<Project />");
        await File.WriteAllTextAsync(Path.Combine(app, "Directory.Build.targets"), "<Project />");
        await File.WriteAllTextAsync(Path.Combine(app, "Directory.Packages.props"), "<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>");
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="nvmetcp-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="NvmeTcp.Client" Version="{version}" />
                <PackageReference Include="NvmeTcp.Target" Version="{version}" />
                <PackageReference Include="NvmeTcp.Client.Hosting" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using System.Net;
            using NvmeTcp.Client;
            using NvmeTcp.Target;

            // An in-process target with one 1 MiB namespace, from the NvmeTcp.Target package.
            var subsystem = new NvmeSubsystemOptions("nqn.2026-01.io.nvmetcp:package-test");
            subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1 << 20));
            var targetOptions = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
            targetOptions.Subsystems.Add(subsystem);
            await using var target = await NvmeTcpTarget.StartAsync(targetOptions);

            // The README's quick start, from the NvmeTcp.Client package, with options made by the hosting package's settings.
            await using var controller = await NvmeController.ConnectAsync(new NvmeTcp.Client.Hosting.NvmeControllerSettings
            {
                Address = "127.0.0.1",
                Port = target.EndPoint.Port,
                SubsystemNqn = "nqn.2026-01.io.nvmetcp:package-test",
                IoQueueCount = 1,
            }.ToOptions());
            var ns = controller.Namespaces[0];
            var queue = controller.NextIoQueue();
            var data = new byte[4096];
            Random.Shared.NextBytes(data);
            await queue.WriteAsync(ns, startLba: 0, data);
            var back = new byte[4096];
            await queue.ReadAsync(ns, startLba: 0, back);
            Console.WriteLine($"model={controller.Identify.ModelNumber.Trim()} blocks={ns.BlockCount} match={data.AsSpan().SequenceEqual(back)}");
            """);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "NvmeTcp.Client.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No NvmeTcp.Client.sln above {AppContext.BaseDirectory}");
    }
}
