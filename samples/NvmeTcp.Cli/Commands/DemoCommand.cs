using System.CommandLine;
using System.Net;
using NvmeTcp.Client;
using NvmeTcp.Target;
using Spectre.Console;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// <c>nvmetcp demo</c>: a guided tour for a newcomer. Starts the in-process target on 127.0.0.1 (a free port), then
/// discovers, connects, identifies, writes, reads back and verifies, runs a short perf, shows multipath failover
/// (<see cref="DemoMultipathAct"/>), and shuts down in order, saying at each step what went over the wire.
/// </summary>
internal static class DemoCommand
{
    public const string SubsystemNqn = "nqn.2026-01.io.nvmetcp:demo";

    private const long NamespaceBytes = 64L << 20;

    public static Command Create()
    {
        var time = new Option<double>("--time", "-t") { Description = "Seconds of the perf step.", DefaultValueFactory = _ => 5 };
        var command = new Command("demo", "A guided tour: start an in-process target on 127.0.0.1, discover, connect, identify, write, read back and verify, run perf, lose a path under multipath I/O, shut down.");
        command.Options.Add(time);
        CommandRunner.SetAction(command, outputFormat: null, connection: null, (context, cancellationToken) => RunAsync(context, context.GetValue(time), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, double perfSeconds, CancellationToken cancellationToken)
    {
        var console = context.Console;
        Step(console, "1. Start a target", "An NVMe/TCP target (NvmeTcp.Target) runs inside this process, so nothing else needs installing.");
        var subsystem = new NvmeSubsystemOptions(SubsystemNqn) { ModelNumber = "nvmetcp demo", SerialNumber = "DEMO0001" };
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, NamespaceBytes, blockSize: 512));
        var targetOptions = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        targetOptions.Subsystems.Add(subsystem);
        var target = await NvmeTcpTarget.StartAsync(targetOptions, cancellationToken).ConfigureAwait(false);
        await using (target.ConfigureAwait(false))
        {
            var address = target.EndPoint.Address.ToString();
            var port = target.EndPoint.Port;
            Say(console, $"Listening on {address}:{port}, serving {SubsystemNqn} with one {NamespaceBytes >> 20} MiB namespace in memory (512-byte blocks).");
            var options = new NvmeTcpOptions { Address = address, Port = port, IoQueueCount = 2, LoggerFactory = context.LoggerFactory };

            Step(console, "2. Discover", $"nvmetcp discover -a {address} -s {port}");
            Wire(console, "TCP connect, then ICReq/ICResp (the NVMe/TCP handshake: digests, data alignment, max H2CData size).");
            Wire(console, "Fabrics Connect to the discovery NQN, Property Get CAP, Property Set CC.EN=1 until CSTS.RDY, then Get Log Page 70h.");
            var log = await NvmeDiscovery.GetLogAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
            var records = new Table().Border(TableBorder.Rounded).AddColumn("subtype").AddColumn("subnqn").AddColumn("traddr:trsvcid");
            foreach (var e in log.Entries)
            {
                records.AddRow(Markup.Escape(e.SubsystemType.ToNvmeCliString()), Markup.Escape(e.SubsystemNqn), Markup.Escape($"{e.TransportAddress}:{e.TransportServiceId}"));
            }

            console.Write(records);
            var entry = log.Entries.FirstOrDefault(e => e.SubsystemNqn == SubsystemNqn)
                ?? throw new CliException(ExitCodes.InternalError, $"the discovery log does not list {SubsystemNqn}");

            Step(console, "3. Connect", $"nvmetcp id-ctrl -a {address} -s {port} -n {SubsystemNqn}");
            Wire(console, "Admin queue: ICReq/ICResp, Connect (host NQN, subsystem NQN, keep-alive 5 s) answered with a controller ID,");
            Wire(console, "Property Get CAP and VS, Property Set CC.EN=1 and wait for CSTS.RDY, Identify Controller, Set Features Number of Queues,");
            Wire(console, "then one more TCP connection per I/O queue, each with its own ICReq/ICResp and Connect (QID 1, 2...); Identify for each namespace.");
            var controller = await NvmeDiscovery.ConnectAsync(entry, options, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (controller.ConfigureAwait(false))
            {
                var queue = controller.NextIoQueue();
                Say(console, $"Controller {controller.ControllerId}, NVMe {controller.Version.ToString(2)}, {controller.IoQueues.Count} I/O queues of {queue.QueueSize} entries; up to {queue.InCapsuleDataSize / 1024} KiB rides in a command capsule, {controller.MaxTransferSize / 1024} KiB per command.");

                Step(console, "4. Identify", "What Identify Controller and Identify Namespace said (nvmetcp id-ctrl, id-ns, list).");
                var id = controller.Identify;
                var identity = new Table().Border(TableBorder.Rounded).AddColumn("field").AddColumn("value");
                identity.AddRow("model (mn)", Markup.Escape(id.ModelNumber.Trim()));
                identity.AddRow("serial (sn)", Markup.Escape(id.SerialNumber.Trim()));
                identity.AddRow("firmware (fr)", Markup.Escape(id.FirmwareRevision.Trim()));
                identity.AddRow("subsystem (subnqn)", Markup.Escape(id.SubsystemNqn.Trim()));
                foreach (var n in controller.Namespaces)
                {
                    identity.AddRow($"namespace {n.Id}", $"{n.BlockCount} blocks of {n.BlockSize} bytes ({n.SizeInBytes >> 20} MiB)");
                }

                console.Write(identity);
                var ns = controller.Namespaces[0];

                Step(console, "5. Write", $"nvmetcp write -a {address} -s {port} --start-block 0 --data FILE");
                var small = Pattern(4096, seed: 1);
                var large = Pattern(256 * 1024, seed: 2);
                await queue.WriteAsync(ns, 0, small, cancellationToken: cancellationToken).ConfigureAwait(false);
                Wire(console, small.Length <= queue.InCapsuleDataSize
                    ? "4 KiB at block 0: the data rode inside the command capsule (CapsuleCmd with in-capsule data), answered by a CapsuleResp."
                    : "4 KiB at block 0: larger than the in-capsule limit, so the target asked for it with an R2T and got H2CData PDUs.");
                await queue.WriteAsync(ns, 8, large, cancellationToken: cancellationToken).ConfigureAwait(false);
                Wire(console, large.Length <= queue.InCapsuleDataSize
                    ? "256 KiB at block 8: small enough to ride in the capsule."
                    : "256 KiB at block 8: too big for the capsule, so the target sent R2T (ready to transfer) and the host answered with H2CData PDUs.");

                Step(console, "6. Read back and verify", $"nvmetcp read -a {address} -s {port} --start-block 0 --block-count 8");
                var smallBack = new byte[small.Length];
                var largeBack = new byte[large.Length];
                await queue.ReadAsync(ns, 0, smallBack, cancellationToken).ConfigureAwait(false);
                await queue.ReadAsync(ns, 8, largeBack, cancellationToken).ConfigureAwait(false);
                Wire(console, "Each read is a CapsuleCmd; the data came back in C2HData PDUs straight into our buffer, then a CapsuleResp with the status.");
                if (!small.AsSpan().SequenceEqual(smallBack) || !large.AsSpan().SequenceEqual(largeBack))
                {
                    throw new CliException(ExitCodes.DataMismatch, "the data read back differs from the data written");
                }

                Say(console, $"Verified: all {small.Length + large.Length:N0} bytes read back match what was written.");

                Step(console, "7. Perf", $"nvmetcp perf -a {address} -s {port} --pattern randread --io-size 4k --queue-depth 16 --time {perfSeconds}");
                Wire(console, $"16 reads of 4 KiB in flight over {controller.IoQueues.Count} queues for {perfSeconds} s; every one a CapsuleCmd, C2HData, CapsuleResp round trip on loopback.");
                var settings = new PerfSettings(PerfPattern.RandRead, 16, 4096, TimeSpan.FromSeconds(perfSeconds));
                var result = await PerfRunner.RunWithProgressAsync(console, controller, ns, settings, cancellationToken).ConfigureAwait(false);
                PerfCommand.Print(console, settings, result);

                Step(console, "8. Multipath", "nvmetcp perf -a 127.0.0.1 -s PORT1 -a 127.0.0.1 -s PORT2 --iopolicy round-robin --pattern randrw --verify (nvmetcp list-subsys, ana-log)");
                await DemoMultipathAct.RunAsync(context, cancellationToken).ConfigureAwait(false);

                Step(console, "9. Shut down", "Orderly, as the Linux host does it.");
                Wire(console, "I/O queue connections closed; Property Set CC.SHN=01b on the admin queue and wait for CSTS.SHST=complete; admin connection closed.");
            }

            Wire(console, "Target stopped: listener closed.");
        }

        console.WriteLine();
        console.MarkupLine("[green]Done.[/] Next: [bold]nvmetcp --help[/], or point the verbs at a real target, e.g. [bold]nvmetcp discover -a 192.0.2.10[/].");
        return ExitCodes.Ok;
    }

    internal static void Step(IAnsiConsole console, string title, string line)
    {
        console.WriteLine();
        console.Write(new Rule($"[bold]{Markup.Escape(title)}[/]").LeftJustified());
        console.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
    }

    internal static void Wire(IAnsiConsole console, string line) => console.MarkupLine($"  [blue]wire:[/] {Markup.Escape(line)}");

    internal static void Say(IAnsiConsole console, string line) => console.MarkupLine($"  {Markup.Escape(line)}");

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
