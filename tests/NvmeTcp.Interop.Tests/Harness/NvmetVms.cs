using System.Runtime.InteropServices;

namespace NvmeTcp.Interop.Tests.Harness;

/// <summary>
/// The assembly fixture: runs vm/prepare.sh once (it installs QEMU and busybox when missing and builds or reuses the
/// cached kernel images), then boots one nvmet VM per kernel, all at once, and kills them when the run ends.
/// </summary>
/// <remarks>
/// The VMs boot concurrently: TCG boot is CPU-bound for ~3-6 s each and the machine has two cores, so booting them
/// together costs little more than booting them one after the other, and idle VMs use ~0.3 % CPU each while the tests run. A setup failure
/// is not thrown here (xUnit would report one opaque fixture error): it is kept and every test of that kernel fails
/// with it, console tail included. Tests are never skipped.
/// </remarks>
public sealed class NvmetVms : IAsyncLifetime
{
    /// <summary>
    /// The kernels under test, as test data labels: Debian 12's 6.1 and 6.12, and "newest", the highest
    /// linux-image-amd64 of Debian unstable and trixie-backports (7.x today; vm/prepare.sh says which).
    /// </summary>
    public static readonly string[] Kernels = ["6.1", "6.12", "newest"];

    private static readonly TimeSpan PrepareTimeout = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(120);

    // A guest outlives a host killed with SIGKILL by at most this long (vm/init.sh reboots, QEMU exits).
    private const int GuestLifetimeSeconds = 3600;

    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly Dictionary<string, Task<NvmetVm>> _vms = new(StringComparer.Ordinal);
    private Dictionary<string, KernelImage> _images = new(StringComparer.Ordinal);
    private readonly List<string> _report = [];
    private string? _prepareFailure;

    /// <summary>The setup report of the last run, for CI logs.</summary>
    public static string SummaryPath { get; } = Path.Combine(AppContext.BaseDirectory, "vm-logs", "summary.txt");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(SummaryPath)!);
        File.WriteAllText(SummaryPath, string.Empty);
        // SIGTERM does not reliably reach ProcessExit here (seen: the host died with 143, QEMU lived on), so the
        // signals get handlers of their own. None cancels the signal: its default handling goes on afterwards.
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        Console.CancelKeyPress += OnCancelKeyPress;
        foreach (var signal in (PosixSignal[])[PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT, PosixSignal.SIGHUP])
        {
            _signals.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }

        var directory = Path.Combine(AppContext.BaseDirectory, "vm");
        var prepare = await CommandRunner.RunAsync("bash", [Path.Combine(directory, "prepare.sh")], PrepareTimeout);
        Log($"nvmet interop: vm/prepare.sh took {prepare.Elapsed.TotalSeconds:F1} s");
        var images = prepare.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' '))
            .Where(fields => fields is ["IMAGE", _, _, _, _, _])
            .Select(fields => new KernelImage(fields[1], fields[2], fields[3], fields[4], fields[5]))
            .ToDictionary(image => image.Label, StringComparer.Ordinal);
        _images = images;
        if (prepare.ExitCode != 0 || !Kernels.All(images.ContainsKey))
        {
            var outcome = prepare.ExitCode is { } code ? $"exited with code {code}" : $"timed out after {PrepareTimeout.TotalMinutes:F0} min";
            _prepareFailure = $"vm/prepare.sh {outcome}.\nstdout:\n{CommandRunner.Tail(prepare.StandardOutput, 10)}\nstderr:\n{CommandRunner.Tail(prepare.StandardError, 40)}";
            Log(_prepareFailure);
            return;
        }

        var logs = Path.Combine(AppContext.BaseDirectory, "vm-logs");
        foreach (var kernel in Kernels)
        {
            _vms[kernel] = NvmetVm.StartAsync(images[kernel], logs, BootTimeout, GuestLifetimeSeconds, Log);
        }

        foreach (var (kernel, start) in _vms)
        {
            try
            {
                Log("nvmet interop: " + (await start).Describe());
            }
            catch (VmStartException e)
            {
                Log($"nvmet interop: Linux {kernel} FAILED to boot: {e.Message}");
            }
        }
    }

    /// <summary>Setup lines (prepare time, boot time per kernel) for a test's output.</summary>
    public IReadOnlyList<string> Report
    {
        get
        {
            lock (_report)
            {
                return [.. _report];
            }
        }
    }

    /// <summary>The VM of a kernel; fails the calling test with the setup error when it did not come up.</summary>
    internal async Task<NvmetVm> GetAsync(string kernel)
    {
        if (_prepareFailure is not null)
        {
            Assert.Fail(_prepareFailure);
        }

        if (!_vms.TryGetValue(kernel, out var start))
        {
            Assert.Fail($"No nvmet VM for kernel '{kernel}'; known: {string.Join(", ", Kernels)}.");
        }

        try
        {
            return await start;
        }
        catch (VmStartException e)
        {
            Assert.Fail(e.Message);
            throw;
        }
    }

    /// <summary>
    /// An image prepare.sh built, by label (<c>6.1</c>, <c>6.12</c>, <c>6.12-host</c>: the initiator variant); fails the
    /// calling test with the setup error when there is none.
    /// </summary>
    internal KernelImage GetImage(string label)
    {
        if (_prepareFailure is not null)
        {
            Assert.Fail(_prepareFailure);
        }

        if (!_images.TryGetValue(label, out var image))
        {
            Assert.Fail($"vm/prepare.sh built no image '{label}'; built: {string.Join(", ", _images.Keys)}.");
        }

        return image;
    }

    /// <summary>Adds a line to the setup report (stdout and vm-logs/summary.txt, which .ci/run prints).</summary>
    internal void AddToReport(string line) => Log(line);

    public async ValueTask DisposeAsync()
    {
        foreach (var start in _vms.Values)
        {
            if (start.IsCompletedSuccessfully)
            {
                await (await start).DisposeAsync();
            }
        }

        KillAll("end of the test run");
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Console.CancelKeyPress -= OnCancelKeyPress;
        foreach (var registration in _signals)
        {
            registration.Dispose();
        }
    }

    private void Log(string line)
    {
        // Stdout shows when the test executable runs by itself; `dotnet test` (Microsoft.Testing.Platform) shows only
        // per-test output, hence the report in every test's output and in vm-logs/summary.txt, which .ci/run prints.
        Console.WriteLine(line);
        lock (_report)
        {
            _report.Add(line);
            File.AppendAllText(SummaryPath, line + Environment.NewLine);
        }
    }

    private static void OnProcessExit(object? sender, EventArgs e) => KillAll("process exit");

    private static void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e) => KillAll("Ctrl+C");

    private static void OnSignal(PosixSignalContext context) => KillAll(context.Signal.ToString());

    /// <summary>Kills every QEMU this run started, by PID.</summary>
    private static void KillAll(string reason)
    {
        foreach (var process in NvmetVm.Running.Values)
        {
            Console.Error.WriteLine($"nvmet interop: {reason}: killing QEMU {process.Id}");
            NvmetVm.Kill(process);
        }
    }
}
