using System.Runtime.InteropServices;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NvmeTcp.Interop.Tests.Harness;

/// <summary>A kernel image built by vm/prepare.sh.</summary>
internal sealed record KernelImage(string Label, string Package, string Version, string KernelPath, string InitrdPath);

/// <summary>Opt-in parts of a VM a test starts for itself; the fixture's VMs use none of them.</summary>
internal sealed record NvmetVmOptions
{
    /// <summary>The host loopback port; null picks a free one. A restarted target keeps its predecessor's.</summary>
    public int? Port { get; init; }

    /// <summary>
    /// A raw file attached as virtio-blk, served as namespace 1 of <see cref="NvmetTarget.PersistentNqn"/>: what the
    /// guest writes there outlives the VM.
    /// </summary>
    public string? DiskPath { get; init; }

    /// <summary>A unix socket QEMU listens on, wired to the guest's ttyS1, where vm/init.sh answers fixed verbs.</summary>
    public string? ControlSocketPath { get; init; }

    /// <summary>
    /// Serve <see cref="NvmetTarget.MultipathNqn"/> on the guest's port 1 (4420) and port 2 (4421), its namespace in
    /// ANA group 2 (<c>nvmet_multipath=1</c>), with a second host loopback port forwarded to 4421
    /// (<see cref="NvmetVm.Port2"/>).
    /// </summary>
    public bool Multipath { get; init; }

    /// <summary>The host loopback port forwarded to the guest's 4421 when <see cref="Multipath"/>; null picks a free one.</summary>
    public int? SecondPort { get; init; }

    /// <summary>
    /// Serve NVMe/TCP over TLS 1.3 (<c>nvmet_tls=1</c>, the newest kernel's image with tlshd): the guest's 4423 requires
    /// TLS (<see cref="NvmetTarget.TlsNqn"/>), its 4424 allows it (<see cref="NvmetTarget.ConcatNqn"/>, secure channel
    /// concatenation); two more host loopback ports forward to them (<see cref="NvmetVm.TlsPort"/>,
    /// <see cref="NvmetVm.ConcatPort"/>).
    /// </summary>
    public bool Tls { get; init; }

    /// <summary>The console log's file name; default <c>console-LABEL.log</c>.</summary>
    public string? ConsoleName { get; init; }
}

/// <summary>
/// One QEMU VM (TCG: /dev/kvm is not usable on these machines) running Linux nvmet, reachable on a loopback port
/// that QEMU's user network forwards to the guest's 4420.
/// </summary>
/// <remarks>
/// Readiness is the NVMET-READY line vm/init.sh prints on the serial console once the port listens: slirp's hostfwd
/// accepts host connections before the guest listens, so a TCP connect proves nothing. Every QEMU started here is
/// recorded in <see cref="Running"/> and killed by its PID on dispose, on process exit and on Ctrl+C.
/// </remarks>
internal sealed class NvmetVm : IAsyncDisposable
{
    public const string ReadyMarker = "NVMET-READY";
    public const string FailedMarker = "NVMET-FAILED";

    private const int StartAttempts = 3;

    private readonly Process _process;
    private readonly StringBuilder _stderr;
    private readonly string? _controlSocketPath;
    private readonly SemaphoreSlim _controlLock = new(1, 1);
    private Socket? _control;
    private StreamReader? _controlReader;

    private NvmetVm(KernelImage image, Process process, StringBuilder stderr, int port, int port2, (int Tls, int Concat) tlsPorts, string consoleLog, string? controlSocketPath)
    {
        TlsPort = tlsPorts.Tls;
        ConcatPort = tlsPorts.Concat;
        Image = image;
        _process = process;
        _stderr = stderr;
        Port = port;
        Port2 = port2;
        ConsoleLog = consoleLog;
        _controlSocketPath = controlSocketPath;
    }

    /// <summary>QEMU processes this test run started and has not yet killed, by PID.</summary>
    public static ConcurrentDictionary<int, Process> Running { get; } = new();

    public KernelImage Image { get; }

    /// <summary>The host loopback port forwarded to the guest's nvmet port 4420.</summary>
    public int Port { get; }

    /// <summary>The host loopback port forwarded to the guest's nvmet port 2 (4421); 0 without <see cref="NvmetVmOptions.Multipath"/>.</summary>
    public int Port2 { get; }

    /// <summary>The host loopback port forwarded to the guest's TLS-required port (4423); 0 without <see cref="NvmetVmOptions.Tls"/>.</summary>
    public int TlsPort { get; }

    /// <summary>The host loopback port forwarded to the guest's TLS-allowed port (4424); 0 without <see cref="NvmetVmOptions.Tls"/>.</summary>
    public int ConcatPort { get; }

    /// <summary>The serial console (ttyS0) log file.</summary>
    public string ConsoleLog { get; }

    /// <summary>From starting QEMU to the readiness marker.</summary>
    public TimeSpan BootTime { get; private set; }

    /// <summary>The readiness line: kernel release, ram0 block size, guest uptime.</summary>
    public string ReadyLine { get; private set; } = string.Empty;

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    /// <summary>The endpoint of the guest's port 2 (<see cref="Port2"/>).</summary>
    public IPEndPoint EndPoint2 => new(IPAddress.Loopback, Port2);

    /// <summary>
    /// Starts QEMU and waits for the readiness marker. Throws with the console's tail when the VM fails or times out;
    /// the QEMU process is killed before the exception leaves.
    /// </summary>
    /// <remarks>
    /// QEMU exiting before the marker is retried on a new port, at most <see cref="StartAttempts"/> times in all: either
    /// another process took the port between our probe and QEMU's bind, or the guest reset before printing anything
    /// (seen once in ~50 boots, with an empty console). A timeout or NVMET-FAILED is final.
    /// </remarks>
    public static async Task<NvmetVm> StartAsync(
        KernelImage image, string logDirectory, TimeSpan bootTimeout, int lifetimeSeconds, Action<string> log, NvmetVmOptions? options = null)
    {
        options ??= new NvmetVmOptions();
        Directory.CreateDirectory(logDirectory);
        var consoleLog = Path.Combine(logDirectory, options.ConsoleName ?? $"console-{image.Label}.log");
        Exception? last = null;
        for (var attempt = 1; attempt <= StartAttempts; attempt++)
        {
            File.Delete(consoleLog);
            var port = options.Port ?? FreeLoopbackPort();
            var port2 = !options.Multipath ? 0 : options.SecondPort ?? FreeLoopbackPort(port);
            var tlsPorts = !options.Tls ? (0, 0) : (FreeLoopbackPort(port, port2), 0);
            if (options.Tls)
            {
                tlsPorts.Item2 = FreeLoopbackPort(port, port2, tlsPorts.Item1);
            }

            var vm = Launch(image, port, port2, tlsPorts, consoleLog, lifetimeSeconds, options);
            try
            {
                await vm.WaitForReadyAsync(bootTimeout);
                return vm;
            }
            catch (VmStartException e) when (e.Retryable && attempt < StartAttempts)
            {
                log($"nvmet interop: Linux {image.Label}, attempt {attempt} of {StartAttempts} failed, retrying: {e.Message}");
                last = e;
                await vm.DisposeAsync();
            }
            catch
            {
                await vm.DisposeAsync();
                throw;
            }
        }

        throw last!;
    }

    /// <summary>Binds port 0 on 127.0.0.1 and reads back the port the kernel chose (never <paramref name="besides"/>).</summary>
    private static int FreeLoopbackPort(params int[] besides)
    {
        for (var i = 0; i < 10; i++)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            if (Array.IndexOf(besides, port) < 0)
            {
                return port;
            }
        }

        throw new InvalidOperationException("No second free loopback port.");
    }

    private static NvmetVm Launch(KernelImage image, int port, int port2, (int Tls, int Concat) tlsPorts, string consoleLog, int lifetimeSeconds, NvmetVmOptions options)
    {
        var append = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"console=ttyS0 quiet panic=-1 nvmet_lifetime={lifetimeSeconds}"));
        var extra = new List<string>();
        if (options.DiskPath is { } disk)
        {
            // QEMU's default cache mode (writeback) completes a guest write once it is in the host file (the host's
            // page cache): killing QEMU loses nothing the guest saw completed, only a host crash could.
            append.Append(" nvmet_disk=1");
            extra.AddRange(["-drive", $"file={disk.Replace(",", ",,", StringComparison.Ordinal)},format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0"]);
        }

        if (options.ControlSocketPath is { } control)
        {
            // The second -serial is the guest's ttyS1; wait=off: QEMU does not block until we connect.
            File.Delete(control);
            append.Append(" nvmet_control=1");
            extra.AddRange(["-chardev", $"socket,id=ctl,path={control.Replace(",", ",,", StringComparison.Ordinal)},server=on,wait=off", "-serial", "chardev:ctl"]);
        }

        var netdev = $"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:4420";
        if (options.Multipath)
        {
            append.Append(" nvmet_multipath=1");
            netdev += $",hostfwd=tcp:127.0.0.1:{port2}-:4421";
        }

        if (options.Tls)
        {
            append.Append(" nvmet_tls=1");
            netdev += $",hostfwd=tcp:127.0.0.1:{tlsPorts.Tls}-:4423,hostfwd=tcp:127.0.0.1:{tlsPorts.Concat}-:4424";
        }

        var stderr = new StringBuilder();
        var process = Qemu.Start(
            image,
            image.InitrdPath,
            consoleLog,
            append.ToString(),
            netdev,
            stderr,
            extra);
        return new NvmetVm(image, process, stderr, port, port2, tlsPorts, consoleLog, options.ControlSocketPath);
    }

    /// <summary>
    /// Sends one of vm/init.sh's control verbs (<c>port-remove</c>, <c>port-add</c>, <c>unlink-interop</c>, <c>ping</c>, and with
    /// <see cref="NvmetVmOptions.Multipath"/> <c>ana PORT GROUP STATE</c>, <c>mp-port-remove PORT</c>, <c>mp-port-add PORT</c>) on ttyS1 and waits
    /// for its answer; throws unless it is <c>ok VERB</c>. The guest answers once the configfs change is done.
    /// </summary>
    public async Task ControlAsync(string verb, TimeSpan timeout)
    {
        if (_controlSocketPath is null)
        {
            throw new InvalidOperationException("This VM was started without a control socket.");
        }

        using var cts = new CancellationTokenSource(timeout);
        await _controlLock.WaitAsync(cts.Token);
        try
        {
            if (_control is null)
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(_controlSocketPath), cts.Token);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }

                _control = socket;
                _controlReader = new StreamReader(new NetworkStream(socket, ownsSocket: false), Encoding.ASCII);
            }

            await _control.SendAsync(Encoding.ASCII.GetBytes(verb + "\n"), cts.Token);
            string? answer;
            do
            {
                answer = await _controlReader!.ReadLineAsync(cts.Token)
                    ?? throw new IOException($"The control channel closed before answering '{verb}'.");
            }
            while (answer.Trim().Length == 0);

            if (answer.Trim() != "ok " + verb)
            {
                throw new InvalidOperationException($"The guest answered '{answer.Trim()}' to '{verb}'; console:\n{ConsoleTail(20)}");
            }
        }
        finally
        {
            _controlLock.Release();
        }
    }

    private async Task WaitForReadyAsync(TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            var console = ReadConsole();
            var ready = console.IndexOf(ReadyMarker, StringComparison.Ordinal);
            if (ready >= 0 && console.IndexOf('\n', ready) is var end and > 0)
            {
                BootTime = stopwatch.Elapsed;
                ReadyLine = console[ready..end].Trim();
                return;
            }

            if (console.Contains(FailedMarker, StringComparison.Ordinal))
            {
                await Task.Delay(500); // let init print dmesg's tail
                throw Failure($"init reported a failure after {stopwatch.Elapsed.TotalSeconds:F1} s", retryable: false);
            }

            if (_process.HasExited)
            {
                throw Failure($"QEMU exited with code {_process.ExitCode} after {stopwatch.Elapsed.TotalSeconds:F1} s", retryable: true);
            }

            await Task.Delay(100);
        }

        throw Failure($"no {ReadyMarker} within {timeout.TotalSeconds:F0} s", retryable: false);
    }

    private VmStartException Failure(string what, bool retryable) => new(
        $"The {Image.Label} nvmet VM ({Image.Package} {Image.Version}) did not come up: {what}.\n"
        + $"QEMU stderr:\n{CommandRunner.Tail(StandardError, 20)}\n"
        + $"Console ({ConsoleLog}), last lines:\n{ConsoleTail(60)}",
        retryable);

    private string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The serial console so far (the file QEMU is writing).</summary>
    public string ReadConsole() => Qemu.ReadConsole(ConsoleLog);

    public string ConsoleTail(int lines) => CommandRunner.Tail(ReadConsole(), lines);

    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"Linux {Image.Label} ({Image.Package} {Image.Version}): nvmet ready in {BootTime.TotalSeconds:F1} s on 127.0.0.1:{Port}{(Port2 == 0 ? string.Empty : $" and :{Port2}")} [{ReadyLine}]");

    /// <summary>Kills QEMU by the PID this harness started; idempotent.</summary>
    public void Kill() => Kill(_process);

    /// <summary>
    /// Stops QEMU (SIGSTOP) without killing it: the guest, its nvmet and QEMU's user network stop reading, so what the
    /// host sends from now on stays in flight. <see cref="Kill"/> still ends it.
    /// </summary>
    public void Freeze()
    {
        if (SendSignal(_process.Id, SigStop) != 0)
        {
            throw new InvalidOperationException($"SIGSTOP to QEMU (PID {_process.Id}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private const int SigStop = 19;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            Running.TryRemove(process.Id, out _);
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        _controlReader?.Dispose();
        _control?.Dispose();
        _controlLock.Dispose();
        if (_controlSocketPath is not null)
        {
            File.Delete(_controlSocketPath);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>A VM that did not reach readiness; the message carries QEMU's stderr and the console's tail.</summary>
internal sealed class VmStartException(string message, bool retryable) : Exception(message)
{
    /// <summary>QEMU exited before the marker (port taken, guest reset): worth another try on another port.</summary>
    public bool Retryable { get; } = retryable;
}
