namespace NvmeTcp.Interop.Tests.Harness;

/// <summary>
/// The assembly fixture: runs vm/prepare.sh once (it installs QEMU and busybox when missing and builds or reuses the
/// cached kernel images), then boots one nvmet VM per kernel, both at once, and kills them when the run ends.
/// </summary>
/// <remarks>
/// The two VMs boot concurrently: TCG boot is CPU-bound for ~3-6 s and the machine has two cores, so booting them
/// together costs little more than booting one, and idle VMs use ~0.3 % CPU each while the tests run. A setup failure
/// is not thrown here (xUnit would report one opaque fixture error): it is kept and every test of that kernel fails
/// with it, console tail included. Tests are never skipped.
/// </remarks>
public sealed class NvmetVms : IAsyncLifetime
{
    /// <summary>The kernels under test, as test data labels.</summary>
    public static readonly string[] Kernels = ["6.1", "6.12"];

    private static readonly TimeSpan PrepareTimeout = TimeSpan.FromMinutes(20);
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(120);

    // A guest outlives a host killed with SIGKILL by at most this long (vm/init.sh reboots, QEMU exits).
    private const int GuestLifetimeSeconds = 3600;

    private readonly Dictionary<string, Task<NvmetVm>> _vms = new(StringComparer.Ordinal);
    private readonly List<string> _report = [];
    private string? _prepareFailure;

    public async ValueTask InitializeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        Console.CancelKeyPress += OnCancelKeyPress;

        var directory = Path.Combine(AppContext.BaseDirectory, "vm");
        var prepare = await CommandRunner.RunAsync("bash", [Path.Combine(directory, "prepare.sh")], PrepareTimeout);
        Log($"nvmet interop: vm/prepare.sh took {prepare.Elapsed.TotalSeconds:F1} s");
        var images = prepare.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' '))
            .Where(fields => fields is ["IMAGE", _, _, _, _, _])
            .Select(fields => new KernelImage(fields[1], fields[2], fields[3], fields[4], fields[5]))
            .ToDictionary(image => image.Label, StringComparer.Ordinal);
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
            _vms[kernel] = NvmetVm.StartAsync(images[kernel], logs, BootTimeout, GuestLifetimeSeconds);
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

    public async ValueTask DisposeAsync()
    {
        foreach (var start in _vms.Values)
        {
            if (start.IsCompletedSuccessfully)
            {
                await (await start).DisposeAsync();
            }
        }

        KillAll();
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Console.CancelKeyPress -= OnCancelKeyPress;
    }

    private void Log(string line)
    {
        // Stdout, so CI logs show it; the tests repeat it in their own output.
        Console.WriteLine(line);
        lock (_report)
        {
            _report.Add(line);
        }
    }

    private static void OnProcessExit(object? sender, EventArgs e) => KillAll();

    private static void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e) => KillAll();

    /// <summary>Kills every QEMU this run started, by PID.</summary>
    private static void KillAll()
    {
        foreach (var process in NvmetVm.Running.Values)
        {
            NvmetVm.Kill(process);
        }
    }
}
