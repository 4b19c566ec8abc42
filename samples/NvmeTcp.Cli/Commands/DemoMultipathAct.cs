using System.Diagnostics;
using System.Globalization;
using System.Net;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Target;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// The demo's multipath act: a target with two ports, a subsystem over both (round-robin), write+verify I/O while
/// port 2 turns non-optimized, then port 1 is removed and port 2 made optimized. It shows where the I/O went in each
/// phase, and that no I/O failed and every read matched.
/// </summary>
internal static class DemoMultipathAct
{
    public const string SubsystemNqn = "nqn.2026-01.io.nvmetcp:demo-multipath";

    private const uint Group = 1;

    // Three phases of equal length; a few seconds in all.
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var console = context.Console;
        var subsystemOptions = new NvmeSubsystemOptions(SubsystemNqn) { ModelNumber = "nvmetcp demo multipath", SerialNumber = "DEMO0002" };
        subsystemOptions.Namespaces.Add(new NvmeNamespaceOptions(1, 16L << 20, blockSize: 512) { AnaGroupId = Group });
        var targetOptions = new NvmeTargetOptions();
        targetOptions.Ports.Add(new NvmeTargetPort(1, new IPEndPoint(IPAddress.Loopback, 0)));
        targetOptions.Ports.Add(new NvmeTargetPort(2, new IPEndPoint(IPAddress.Loopback, 0)));
        targetOptions.Subsystems.Add(subsystemOptions);
        var target = await NvmeTcpTarget.StartAsync(targetOptions, cancellationToken).ConfigureAwait(false);
        await using (target.ConfigureAwait(false))
        {
            var ports = target.Ports.ToDictionary(p => p.PortId, p => p.EndPoint.Port);
            DemoCommand.Say(console, $"A second target serves {SubsystemNqn} on two ports, {ports[1]} (port 1) and {ports[2]} (port 2): one namespace, ANA group {Group}, optimized through both.");
            DemoCommand.Wire(console, "Per path: ICReq/ICResp, Connect, Identify (CMIC says multi-controller with ANA reporting), Identify Namespace (the same NGUID through both: one namespace),");
            DemoCommand.Wire(console, "and Get Log Page 0Ch, the ANA log: the state of each ANA group through that controller.");
            var template = new NvmeTcpOptions
            {
                Address = "127.0.0.1",
                SubsystemNqn = SubsystemNqn,
                IoQueueCount = 1,
                ReconnectDelay = TimeSpan.FromSeconds(1),
                LoggerFactory = context.LoggerFactory,
            };
            var options = new NvmeMultipathOptions { Template = template, IoPolicy = NvmeIoPolicy.RoundRobin };
            options.Paths.Add(new DnsEndPoint("127.0.0.1", ports[1]));
            options.Paths.Add(new DnsEndPoint("127.0.0.1", ports[2]));
            var subsystem = await NvmeSubsystem.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            await using (subsystem.ConfigureAwait(false))
            {
                var ns = subsystem.GetNamespace(1);
                var paths = subsystem.Paths.ToArray();
                console.Write(PathTable(paths, ns.Id));

                var settings = new PerfSettings(PerfPattern.RandRw, QueueDepth: 8, IoSize: 4096, Duration: 3 * Phase) { Verify = true, RegionBytes = 4L << 20 };
                DemoCommand.Wire(console, "8 writes and reads of 4 KiB in flight, round-robin over the optimized paths; every write stamped, every read checked.");
                var phases = new Phases(paths);
                phases.Begin("both optimized: round-robin");
                var perf = new SubsystemPerfTarget(subsystem, ns);
                var interactive = console.Profile.Capabilities.Interactive && !(ReferenceEquals(console, AnsiConsole.Console) && Console.IsOutputRedirected);
                using var stopScript = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var script = ScriptAsync(target, phases, interactive ? null : console, stopScript.Token);
                PerfResult result;
                try
                {
                    if (interactive)
                    {
                        PerfResult? done = null;
                        await console.Live(phases.Table()).StartAsync(async live =>
                        {
                            done = await PerfRunner.RunAsync(perf, settings, _ => live.UpdateTarget(phases.Table()), cancellationToken).ConfigureAwait(false);
                            live.UpdateTarget(phases.Table());
                        }).ConfigureAwait(false);
                        result = done!;
                    }
                    else
                    {
                        result = await PerfRunner.RunAsync(perf, settings, null, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch
                {
                    // The run failed or was cancelled: the script must not touch the target once it is disposed.
                    await stopScript.CancelAsync().ConfigureAwait(false);
                    await script.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
                    throw;
                }

                await script.ConfigureAwait(false);
                phases.End();
                if (!interactive)
                {
                    console.Write(phases.Table());
                }

                console.Write(PathTable(paths, ns.Id));
                if (result.VerifyErrors != 0)
                {
                    throw new CliException(ExitCodes.DataMismatch, $"{result.VerifyErrors} blocks read back differ from what was written");
                }

                static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
                DemoCommand.Say(console, $"{N(result.Ios)} I/Os ({N(result.Reads)} reads, {N(result.Writes)} writes): not one failed: any I/O in flight on port 1 when it went was sent again on port 2.");
                DemoCommand.Say(console, $"Verified: {N(result.BlocksVerified)} blocks read back, every one as written.");
                DemoCommand.Wire(console, "Closing the subsystem: each path's controller shut down (the one to the removed port stops reconnecting); the second target stopped.");
            }
        }
    }

    // Port 2 turns non-optimized after one phase; after two, port 1 goes away and port 2 is optimized again.
    private static async Task ScriptAsync(NvmeTcpTarget target, Phases phases, IAnsiConsole? console, CancellationToken cancellationToken)
    {
        await Task.Delay(Phase, cancellationToken).ConfigureAwait(false);
        target.SetAnaState(2, Group, AnaState.NonOptimized);
        Announce(console, phases, "port 2 non-optimized: port 1 only", "Set ANA state of port 2 to non-optimized: an ANA change notice, the host re-reads log 0Ch.");
        await Task.Delay(Phase, cancellationToken).ConfigureAwait(false);
        target.RemovePort(1);
        target.SetAnaState(2, Group, AnaState.Optimized);
        Announce(console, phases, "port 1 removed, port 2 optimized", "Port 1 removed (its connections dropped mid-I/O) and port 2 made optimized.");
    }

    private static void Announce(IAnsiConsole? console, Phases phases, string phase, string wire)
    {
        phases.Begin(phase);
        if (console is not null)
        {
            DemoCommand.Wire(console, wire);
        }
    }

    private static Table PathTable(IEnumerable<NvmePath> paths, uint nsid)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("path").AddColumn("address").AddColumn("state").AddColumn("ANA state");
        foreach (var path in paths)
        {
            table.AddRow(MultipathCommands.PathName(path), Markup.Escape(MultipathCommands.Address(path)), MultipathCommands.StateName(path.State), MultipathCommands.AnaStateName(path.AnaStateOf(nsid)));
        }

        return table;
    }

    /// <summary>The phases of the act and each path's completed I/Os at the start of each: the I/Os per phase and path.</summary>
    private sealed class Phases(NvmePath[] paths)
    {
        private readonly List<(string Name, long[] Start)> _phases = [];
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long[]? _end;

        public void Begin(string name)
        {
            lock (_phases)
            {
                _phases.Add(($"{_clock.Elapsed.TotalSeconds,4:0.0} s  {name}", Counts()));
            }
        }

        public void End()
        {
            lock (_phases)
            {
                _end = Counts();
            }
        }

        public Table Table()
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("phase");
            foreach (var path in paths)
            {
                table.AddColumn(new TableColumn($"{MultipathCommands.PathName(path)} I/Os").RightAligned());
            }

            lock (_phases)
            {
                for (var i = 0; i < _phases.Count; i++)
                {
                    var until = i + 1 < _phases.Count ? _phases[i + 1].Start : _end ?? Counts();
                    var start = _phases[i].Start;
                    table.AddRow([Markup.Escape(_phases[i].Name), .. paths.Select((_, p) => (until[p] - start[p]).ToString("N0", CultureInfo.InvariantCulture))]);
                }
            }

            return table;
        }

        private long[] Counts() => [.. paths.Select(p => p.CompletedIos)];
    }
}
