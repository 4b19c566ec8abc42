using System.Globalization;
using System.Net;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Target;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// Linux 6.12's own NVMe/TCP host authenticating against OUR target with DH-HMAC-CHAP (the kernel's dhchap_secret and
/// dhchap_ctrl_secret fabrics options, what <c>nvme connect --dhchap-secret</c> passes): unidirectional with SHA-256
/// and ffdhe2048, bidirectional with SHA-512 and ffdhe4096, each connecting, writing and reading back data and
/// disconnecting; and a wrong key, which the kernel must report as a failed connect.
/// </summary>
public sealed class LinuxHostAuthTests(NvmetVms vms)
{
    private const string Nqn = "nqn.2026-11.dev.nvmetcp:linux-auth";
    private static readonly Guid HostId = new("4e564d45-484f-5354-8000-0000000000a1");
    private static readonly TimeSpan VmTimeout = TimeSpan.FromSeconds(240);

    private static string Host(string mode) => $"nqn.2026-11.dev.nvmetcp:linux-auth-{mode}";

    [Fact]
    public async Task Linux_kernel_host_authenticates_uni_and_bidirectionally_and_fails_with_a_wrong_key()
    {
        var output = TestContext.Current.TestOutputHelper;
        var hostSecret = DhchapSecret.Generate(32, 1);
        var controllerSecret = DhchapSecret.Generate(64, 0);
        var subsystem = new NvmeSubsystemOptions(Nqn) { SerialNumber = "NVMETCP-LINUXAUTH-1" };
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 64L << 20, 512));
        foreach (var (mode, hash, group) in new[] { ("uni", DhchapHashFunction.Sha256, DhchapDhGroup.Ffdhe2048), ("bi", DhchapHashFunction.Sha512, DhchapDhGroup.Ffdhe4096), ("wrong", DhchapHashFunction.Sha256, DhchapDhGroup.Null) })
        {
            var auth = new NvmeHostAuthentication(Host(mode), hostSecret) { ControllerSecret = controllerSecret };
            auth.Hashes.Clear();
            auth.Hashes.Add(hash);
            auth.Groups.Clear();
            auth.Groups.Add(group);
            subsystem.HostAuthentication.Add(auth);
        }

        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options.Subsystems.Add(subsystem);
        await using var target = await NvmeTcpTarget.StartAsync(options, TestContext.Current.CancellationToken);

        var image = vms.GetImage("6.12-host");
        var consoleLog = Path.Combine(AppContext.BaseDirectory, "vm-logs", "console-6.12-host-auth.log");
        Directory.CreateDirectory(Path.GetDirectoryName(consoleLog)!);
        var more = $"nvmetcp.dhchap=uni,bi,wrong nvmetcp.dhchap_secret={hostSecret.ToInterchangeString()} nvmetcp.dhchap_ctrl_secret={controllerSecret.ToInterchangeString()} nvmetcp.dhchap_wrong_secret={DhchapSecret.Generate(32, 1).ToInterchangeString()}";
        var run = await LinuxHostVm.RunAsync(image, target.EndPoint.Port, Nqn, HostId, "skip", consoleLog, VmTimeout, TestContext.Current.CancellationToken, more: more);
        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"linux host auth: Linux {image.Label} ({image.Package} {image.Version}) against our target: {run.Outcome}, boot {run.BootTime?.TotalSeconds:F1} s, total {run.TotalTime.TotalSeconds:F1} s, {run.Attempts} boot(s)");
        vms.AddToReport(summary);
        output?.WriteLine(summary);
        output?.WriteLine(run.Console);

        Assert.True(run.Outcome == "done", $"The Linux host VM ended '{run.Outcome}' instead of {LinuxHostVm.DoneMarker}; console tail:\n{CommandRunner.Tail(run.Console, 60)}");
        Assert.Empty(run.Lines(LinuxHostVm.FailedMarker));
        var passed = run.PassedSteps();
        foreach (var mode in new[] { "uni", "bi" })
        {
            foreach (var step in new[] { "auth-connect", "write-ns1-4096", "compare-ns1-4096", "compare-ns1-1048576", "auth-delete" })
            {
                Assert.True(passed.Contains($"auth-{mode} {step}"), $"No PASS for auth-{mode} {step}.");
            }
        }

        Assert.Contains("auth-wrong auth-refused", passed);

        // The kernel says what it negotiated, and that it authenticated the controller in the bidirectional run.
        var dmesg = run.Lines("NVMETCP-HOST DMESG ");
        Assert.Contains(dmesg, line => line.Contains("authenticated with hash hmac(sha256) dhgroup ffdhe2048", StringComparison.Ordinal));
        Assert.Contains(dmesg, line => line.Contains("authenticated with hash hmac(sha512) dhgroup ffdhe4096", StringComparison.Ordinal));
        Assert.Contains(dmesg, line => line.Contains("controller authenticated", StringComparison.Ordinal));

        // Two connects of an admin queue and the guest's I/O queues each; the wrong key authenticated nothing.
        Assert.True(target.Testing.AuthenticatedQueues >= 4, $"{target.Testing.AuthenticatedQueues} queues authenticated");
        Assert.Empty(target.Testing.Violations);
        Assert.Equal(0, target.ControllerCount);
    }
}
