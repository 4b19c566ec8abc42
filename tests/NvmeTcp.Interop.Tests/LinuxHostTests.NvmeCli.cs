using System.Globalization;
using Microsoft.Extensions.Logging;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Target;

namespace NvmeTcp.Interop.Tests;

/// <summary>The newest Debian kernel's host, driven by nvme-cli from the same suites, against our target.</summary>
public sealed partial class LinuxHostTests
{
    [Fact]
    public async Task Newest_kernel_host_with_nvme_cli_connects_and_moves_data()
    {
        var (run, target) = await RunNewestHostAsync("none", auth: "plain,ok,-,-", configure: null);
        await using var _ = target;

        var passed = Passed(run);
        foreach (var step in new[] { "none connect", "none delete", "auth-plain connect", "auth-plain compare-ns1-1048576", "auth-plain delete" })
        {
            Assert.True(passed.Contains(step), $"No PASS for {step}.");
        }

        Assert.Contains(run.Lines("NVMETCP-HOST INFO "), line => line.StartsWith("auth nvme-cli.version=nvme version 2.", StringComparison.Ordinal));
        Assert.Empty(target.Testing.Violations);
    }

    /// <summary>Boots the newest-host image against a fresh target and checks what every run must show.</summary>
    private async Task<(LinuxHostRun Run, NvmeTcpTarget Target)> RunNewestHostAsync(string digests, string auth, Action<NvmeTargetOptions>? configure)
    {
        var output = TestContext.Current.TestOutputHelper;
        var image = vms.GetImage("newest-host");
        var logs = new ListLoggerProvider();
        var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var options = TargetOptions(loggerFactory.CreateLogger("target"));
        configure?.Invoke(options);
        var target = await NvmeTcpTarget.StartAsync(options, TestContext.Current.CancellationToken);
        var consoleLog = Path.Combine(AppContext.BaseDirectory, "vm-logs", "console-newest-host.log");
        Directory.CreateDirectory(Path.GetDirectoryName(consoleLog)!);
        var run = await LinuxHostVm.RunAsync(
            image, target.EndPoint.Port, Nqn, HostId, digests, consoleLog, VmTimeout, TestContext.Current.CancellationToken, auth: auth);
        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"linux host: Linux {image.Label} ({image.Package} {image.Version}) with nvme-cli against our target: {run.Outcome}, boot {run.BootTime?.TotalSeconds:F1} s, total {run.TotalTime.TotalSeconds:F1} s, {run.Attempts} boot(s)");
        vms.AddToReport(summary);
        output?.WriteLine(summary);
        output?.WriteLine(run.Console);
        foreach (var (_, level, text) in logs.Messages)
        {
            output?.WriteLine($"target {level}: {text}");
        }

        Assert.True(run.Outcome == "done", $"The Linux host VM ended '{run.Outcome}' instead of {LinuxHostVm.DoneMarker}; console tail:\n{CommandRunner.Tail(run.Console, 60)}");
        Assert.Empty(run.Lines(LinuxHostVm.FailedMarker));
        Assert.Empty(KernelComplaints(run.Lines("NVMETCP-HOST DMESG ")));
        return (run, target);
    }

    private static HashSet<string> Passed(LinuxHostRun run) =>
        run.Lines("NVMETCP-HOST PASS ").Select(line => string.Join(' ', line.Split(' ').Take(2))).ToHashSet(StringComparer.Ordinal);
}
