using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace NvmeTcp.Interop.Tests.Harness;

/// <summary>What one boot of the initiator VM did.</summary>
/// <param name="Console">The whole serial console.</param>
/// <param name="Outcome">How it ended: <c>done</c>, <c>failed</c>, <c>exited</c> (QEMU ended without a marker) or <c>timeout</c>.</param>
/// <param name="BootTime">From starting QEMU to NVMETCP-HOST-READY (modules loaded, eth0 up); null if never.</param>
/// <param name="TotalTime">From starting QEMU to the end.</param>
/// <param name="Attempts">Boots it took (a guest that resets before READY is booted again).</param>
internal sealed record LinuxHostRun(string Console, string Outcome, TimeSpan? BootTime, TimeSpan TotalTime, int Attempts)
{
    /// <summary>The console lines that start with <paramref name="prefix"/>, the prefix removed.</summary>
    public IReadOnlyList<string> Lines(string prefix) =>
        [.. Console.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.StartsWith(prefix, StringComparison.Ordinal)).Select(line => line[prefix.Length..])];

    /// <summary>The steps that passed, as "SCENARIO STEP" (the first two words of each PASS line).</summary>
    public HashSet<string> PassedSteps() =>
        Lines("NVMETCP-HOST PASS ").Select(line => string.Join(' ', line.Split(' ').Take(2))).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// The initiator VM: Linux 6.12's own NVMe/TCP host (nvme-tcp) runs vm/init-host.sh's scenarios against a target on
/// this machine. The guest connects out to 10.0.2.2:PORT, which QEMU's user network (slirp) maps to 127.0.0.1:PORT
/// here, so no hostfwd is needed. QEMU is killed by its PID however the run ends.
/// </summary>
internal static class LinuxHostVm
{
    public const string ReadyMarker = "NVMETCP-HOST-READY";
    public const string DoneMarker = "NVMETCP-HOST-DONE";
    public const string FailedMarker = "NVMETCP-HOST-FAILED";

    private const int BootAttempts = 2;

    /// <summary>Boots the VM and waits for DONE, FAILED, QEMU's exit or <paramref name="timeout"/>.</summary>
    /// <param name="image">The 6.12-host image.</param>
    /// <param name="port">The target's port on 127.0.0.1.</param>
    /// <param name="nqn">The NVM subsystem the guest connects to.</param>
    /// <param name="hostId">The guest's host ID; its host NQN is nqn.2014-08.org.nvmexpress:uuid:HOSTID.</param>
    /// <param name="digests">Scenarios, comma-separated: none, hdr, data, both.</param>
    /// <param name="consoleLog">Where the serial console goes.</param>
    /// <param name="timeout">The most one boot may take; the guest also reboots itself after this long.</param>
    /// <param name="cancellationToken">Ends the wait (QEMU is killed).</param>
    /// <param name="extra">Phases after the scenarios (init-host.sh's nvmetcp.extra: discard:N, fs:N, data:N), or null.</param>
    /// <param name="auth">nvme-cli connect cases, last (init-host.sh's nvmetcp.auth; images with nvme-cli only), or null.</param>
    /// <param name="more">More nvmetcp.* words for the kernel command line (e.g. nvmetcp.dhchap=...), or null.</param>
    public static async Task<LinuxHostRun> RunAsync(
        KernelImage image, int port, string nqn, Guid hostId, string digests, string consoleLog, TimeSpan timeout, CancellationToken cancellationToken, string? extra = null, string? auth = null, string? more = null)
    {
        var append = string.Create(
            CultureInfo.InvariantCulture,
            $"console=ttyS0 quiet panic=-1 nvmetcp.port={port} nvmetcp.nqn={nqn} nvmetcp.hostid={hostId:D} nvmetcp.digests={digests} nvmetcp.lifetime={(int)timeout.TotalSeconds}");
        if (extra is not null)
        {
            append += $" nvmetcp.extra={extra}";
        }

        if (auth is not null)
        {
            append += $" nvmetcp.auth={auth}";
        }

        if (more is not null)
        {
            append += " " + more;
        }

        var total = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            File.Delete(consoleLog);
            var stderr = new StringBuilder();
            var process = Qemu.Start(image, image.InitrdPath, consoleLog, append, "user,id=n0", stderr);
            try
            {
                var (outcome, bootTime) = await WaitAsync(process, consoleLog, timeout, cancellationToken);
                var console = Qemu.ReadConsole(consoleLog);
                if (outcome == "exited" && bootTime is null && attempt < BootAttempts)
                {
                    continue; // the guest reset before READY (seen once in ~70 boots of the nvmet VMs): boot again
                }

                if (outcome == "exited")
                {
                    lock (stderr)
                    {
                        console += $"\n[QEMU exited with code {process.ExitCode}; stderr: {stderr}]";
                    }
                }

                return new LinuxHostRun(console, outcome, bootTime, total.Elapsed, attempt);
            }
            finally
            {
                NvmetVm.Kill(process);
                process.Dispose();
            }
        }
    }

    private static async Task<(string Outcome, TimeSpan? BootTime)> WaitAsync(Process process, string consoleLog, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        TimeSpan? bootTime = null;
        while (stopwatch.Elapsed < timeout)
        {
            var console = Qemu.ReadConsole(consoleLog);
            if (bootTime is null && console.Contains(ReadyMarker, StringComparison.Ordinal))
            {
                bootTime = stopwatch.Elapsed;
            }

            if (console.Contains(DoneMarker, StringComparison.Ordinal))
            {
                return ("done", bootTime);
            }

            if (console.Contains(FailedMarker, StringComparison.Ordinal))
            {
                // init prints dmesg's nvme lines after the marker, then reboots (QEMU exits with -no-reboot).
                await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return ("failed", bootTime);
            }

            if (process.HasExited)
            {
                return ("exited", bootTime);
            }

            await Task.Delay(100, cancellationToken);
        }

        return ("timeout", bootTime);
    }
}
