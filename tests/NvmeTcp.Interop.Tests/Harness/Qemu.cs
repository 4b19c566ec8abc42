using System.Diagnostics;
using System.Text;

namespace NvmeTcp.Interop.Tests.Harness;

/// <summary>Starts QEMU (TCG: /dev/kvm is not usable on these machines) for one of the interop VMs.</summary>
internal static class Qemu
{
    /// <summary>
    /// Starts <c>qemu-system-x86_64</c> with the serial console in <paramref name="consoleLog"/>, QEMU's stderr collected
    /// in <paramref name="stderr"/>, and records the process in <see cref="NvmetVm.Running"/>, so that every kill path
    /// (dispose, process exit, signals) reaches it by its PID.
    /// </summary>
    /// <param name="image">Kernel and initramfs.</param>
    /// <param name="initrd">The initramfs to boot (the image's own, or its initiator variant).</param>
    /// <param name="consoleLog">The serial console (ttyS0) file.</param>
    /// <param name="append">The kernel command line.</param>
    /// <param name="netdev">The <c>-netdev</c> value (user networking, with or without hostfwd).</param>
    /// <param name="stderr">Receives QEMU's stderr lines.</param>
    /// <param name="extra">More arguments (disks, serial ports), after the network device.</param>
    public static Process Start(KernelImage image, string initrd, string consoleLog, string append, string netdev, StringBuilder stderr, IEnumerable<string>? extra = null)
    {
        var info = new ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            "-accel", "tcg", "-cpu", "max", "-m", "512M", "-smp", "2",
            "-nodefaults", "-display", "none", "-no-reboot",
            "-serial", $"file:{consoleLog}",
            "-kernel", image.KernelPath,
            "-initrd", initrd,
            "-append", append,
            "-netdev", netdev,
            "-device", "virtio-net-pci,netdev=n0",
        ];
        foreach (var argument in arguments.Concat(extra ?? []))
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.Start();
        NvmetVm.Running[process.Id] = process;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    /// <summary>A file QEMU is writing, read so far; empty if it does not exist yet.</summary>
    public static string ReadConsole(string consoleLog)
    {
        try
        {
            using var stream = new FileStream(consoleLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return string.Empty;
        }
    }
}
