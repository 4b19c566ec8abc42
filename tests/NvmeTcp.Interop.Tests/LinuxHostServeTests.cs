using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using NvmeTcp.Client;
using NvmeTcp.Interop.Tests.Harness;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// <c>nvmetcp serve</c>, as a process of its own, exporting a file as namespace 3 to Linux 6.12's kernel host: the guest
/// makes and trims a filesystem on it and writes data; serve is stopped with SIGTERM and started again on the same
/// file, and the data the guest wrote is read back with our client. What serve logged on stderr is checked too. Both
/// with serve's default receive path and with its receive threads (--receive-thread, the client's too on read-back).
/// </summary>
public sealed partial class LinuxHostServeTests(NvmetVms vms)
{
    private const string Nqn = "nqn.2026-11.dev.nvmetcp:linux-host-serve";
    private const uint FileNsid = 3;
    private static readonly Guid HostId = new("4e564d45-484f-5354-8000-000000000003");
    private static readonly TimeSpan VmTimeout = TimeSpan.FromSeconds(240);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Linux_kernel_host_data_on_a_file_namespace_survives_a_serve_restart(bool receiveThreads)
    {
        var output = TestContext.Current.TestOutputHelper;
        var cancellationToken = TestContext.Current.CancellationToken;
        var image = vms.GetImage("6.12-host");
        using var scratch = new ScratchDirectory();
        var disk = scratch.CreateDisk("ns3.img", 64L << 20);
        // With receiveThreads, serve answers each connection on a blocking receive thread (--receive-thread), and our
        // client reads back with its own receive threads and inline completions.
        string[] arguments = ["--nqn", Nqn, "-n", "1:64MiB:512", "-n", "2:64MiB:4096", "-n", $"{FileNsid}:file:{disk}:4096", "--verbose", .. (receiveThreads ? new[] { "--receive-thread" } : [])];
        var consoleLog = Path.Combine(AppContext.BaseDirectory, "vm-logs", $"console-6.12-host-serve{(receiveThreads ? "-rx" : string.Empty)}.log");
        Directory.CreateDirectory(Path.GetDirectoryName(consoleLog)!);

        LinuxHostRun run;
        string log;
        int? exitCode;
        await using (var serve = await ServeProcess.StartAsync(arguments, cancellationToken))
        {
            run = await LinuxHostVm.RunAsync(image, serve.Port, Nqn, HostId, string.Empty, consoleLog, VmTimeout, cancellationToken, $"fs:{FileNsid},data:{FileNsid}");
            exitCode = await serve.StopAsync();
            log = serve.Stderr;
        }

        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"linux host vs nvmetcp serve{(receiveThreads ? " --receive-thread" : string.Empty)} (file namespace): Linux {image.Label} ({image.Package} {image.Version}): {run.Outcome}, boot {run.BootTime?.TotalSeconds:F1} s, total {run.TotalTime.TotalSeconds:F1} s, {run.Attempts} boot(s)");
        vms.AddToReport(summary);
        output?.WriteLine(summary);
        output?.WriteLine(run.Console);
        output?.WriteLine(log);

        Assert.True(run.Outcome == "done", $"The Linux host VM ended '{run.Outcome}'; console tail:\n{CommandRunner.Tail(run.Console, 60)}");
        Assert.Empty(run.Lines(LinuxHostVm.FailedMarker));
        var passed = run.PassedSteps();
        foreach (var step in new[] { "mkfs", "mount", "file-fs", "fstrim", "umount" }.Select(s => $"{s}-ns{FileNsid}").Append("extra-delete"))
        {
            Assert.True(passed.Contains($"extra {step}"), $"No PASS for extra {step}.");
        }

        // SIGTERM ends serve in order, and it logged the guest's connections (Information) and debug lines (--verbose),
        // no host violation and no unhandled error.
        Assert.Equal(0, exitCode);
        Assert.Contains("Connection from", log, StringComparison.Ordinal);
        Assert.Contains(" dbug ", log, StringComparison.Ordinal);
        Assert.DoesNotContain("host violation", log, StringComparison.Ordinal);
        Assert.DoesNotContain(" fail ", log, StringComparison.Ordinal);

        // serve again, on the same file: what the guest wrote is there.
        var data = run.Lines("NVMETCP-HOST DATA ").Select(line => DataPattern().Match(line)).ToList();
        Assert.Equal(3, data.Count);
        Assert.All(data, m => Assert.True(m.Success && m.Groups["nsid"].Value == "3", m.Value));
        await using var again = await ServeProcess.StartAsync(arguments, cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        await using (var controller = await NvmeController.ConnectAsync(
            new NvmeTcpOptions { Address = "127.0.0.1", Port = again.Port, SubsystemNqn = Nqn, IoQueueCount = 1, DedicatedReceiveThreads = receiveThreads, InlineCompletions = receiveThreads }, cts.Token))
        {
            var ns = controller.GetNamespace(FileNsid);
            foreach (var m in data)
            {
                var offset = long.Parse(m.Groups["offset"].Value, CultureInfo.InvariantCulture);
                var buffer = new byte[int.Parse(m.Groups["length"].Value, CultureInfo.InvariantCulture)];
                await controller.NextIoQueue().ReadAsync(ns, (ulong)(offset / ns.BlockSize), buffer, cts.Token);
                Assert.True(Convert.ToHexStringLower(SHA256.HashData(buffer)) == m.Groups["sha256"].Value, $"{m.Value}: after the restart the file holds other data.");
            }
        }

        Assert.Equal(0, await again.StopAsync());
    }

    [GeneratedRegex(@"^\S+ nsid=(?<nsid>\d+) offset=(?<offset>\d+) length=(?<length>\d+) sha256=(?<sha256>[0-9a-f]{64})$")]
    private static partial Regex DataPattern();
}
