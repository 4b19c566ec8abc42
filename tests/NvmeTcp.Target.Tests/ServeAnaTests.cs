using System.Net;
using NvmeTcp.Cli.Commands;
using NvmeTcp.Protocol;
using ReadWriteCommands = NvmeTcp.Protocol.Nvm.ReadWriteCommands;
using NvmeTcp.Protocol.Spec;
using Spectre.Console;

namespace NvmeTcp.Target.Tests;

/// <summary><c>serve</c> with several ports, ANA groups, and the commands it reads on stdin.</summary>
public class ServeAnaTests
{
    [Fact]
    public void Several_listen_endpoints_are_ports_and_ana_groups_parse()
    {
        var options = ServeCommand.ToOptions(ServeCommand.Create().Parse(
            ["--listen", "127.0.0.1:4420", "--listen", "127.0.0.1:4421", "--namespace", "1:16MiB", "--namespace", "2:16MiB", "--ana-group", "2=7"]));
        Assert.Equal([(1, "127.0.0.1:4420"), (2, "127.0.0.1:4421")], options.Ports.Select(p => ((int)p.PortId, p.EndPoint.ToString())));
        Assert.Equal([1u, 7u], options.Subsystems[0].Namespaces.Select(n => n.AnaGroupId));

        var single = ServeCommand.ToOptions(ServeCommand.Create().Parse(["--listen", "127.0.0.1:4425"]));
        Assert.Empty(single.Ports); // one endpoint: the single port of ListenEndPoint, as before
        Assert.Equal("127.0.0.1:4425", single.ListenEndPoint.ToString());

        Assert.Throws<FormatException>(() => ServeCommand.ToOptions(ServeCommand.Create().Parse(["--ana-group", "3=2"])));
        Assert.Throws<FormatException>(() => ServeSettings.ParseAnaGroup("1:2"));
        Assert.Throws<FormatException>(() => ServeSettings.ParseAnaGroup("1=0"));
        Assert.Throws<FormatException>(() => ServeControl.ParseState("standby"));
        Assert.Equal(
            [AnaState.Optimized, AnaState.NonOptimized, AnaState.Inaccessible, AnaState.PersistentLoss, AnaState.Change],
            new[] { "optimized", "non-optimized", "inaccessible", "persistent-loss", "change" }.Select(ServeControl.ParseState));
    }

    [Fact]
    public async Task Stdin_commands_change_ana_states_and_ports()
    {
        var parse = ServeCommand.Create().Parse(
            ["--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--nqn", "nqn.2026-11.dev.nvmetcp:mp", "--namespace", "1:16MiB", "--ana-group", "1=2"]);
        Assert.Empty(parse.Errors);
        var options = ServeCommand.ToOptions(parse);
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        var input = new ScriptedReader(["ana 1 2 inaccessible", "port-remove 2", "port-remove 2", "port-add 2", "ana 9 2 optimized", "ana 1 2 standby", "hello"]);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var started = new TaskCompletionSource<NvmeTcpTarget>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = ServeCommand.RunAsync(options, console, started.SetResult, stop.Token, input);
        var target = await started.Task.WaitAsync(RawHost.Timeout, TestContext.Current.CancellationToken);
        var port2 = target.Ports[1].EndPoint;
        await input.Finished.WaitAsync(RawHost.Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(AnaState.Inaccessible, target.GetAnaState(1, 2));
        Assert.Equal([(ushort)1, (ushort)2], target.Ports.Select(p => p.PortId));
        Assert.Equal(port2, target.Ports[1].EndPoint); // back where it listened, though it was asked for port 0
        foreach (var (endPoint, expected) in new[] { (target.Ports[0].EndPoint, StatusCodes.AnaInaccessible), (port2, (ushort)0) })
        {
            var (admin, cntlid) = await RawHost.AdminAsync(endPoint, "nqn.2026-11.dev.nvmetcp:mp");
            await using var _ = admin;
            await using var io = await RawHost.IoAsync(endPoint, "nqn.2026-11.dev.nvmetcp:mp", cntlid);
            StatusAssert.Is(expected, (await io.ExecuteAsync(ReadWriteCommands.Read(1, 0, 1, 512))).Cqe, dnr: false);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(RawHost.Timeout, TestContext.Current.CancellationToken));
        var lines = output.ToString().Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("ok ", StringComparison.Ordinal) || l.StartsWith("error ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(7, lines.Length);
        Assert.Equal("ok ana 1 2 inaccessible", lines[0]);
        Assert.Equal("ok port-remove 2", lines[1]);
        Assert.Equal("error port 2 is not listening", lines[2]);
        Assert.Equal($"ok port-add 2 {port2}", lines[3]);
        Assert.StartsWith("error No port 9", lines[4], StringComparison.Ordinal);
        Assert.StartsWith("error 'standby'", lines[5], StringComparison.Ordinal);
        Assert.StartsWith("error unknown command", lines[6], StringComparison.Ordinal);
        Assert.Contains("(port 2)", output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Gives its lines, then the end of input; <see cref="Finished"/> completes when the reader asks past the last, so every line has been answered.</summary>
    private sealed class ScriptedReader(IReadOnlyList<string> lines) : TextReader
    {
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _next;

        public Task Finished => _finished.Task;

        public override ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            if (_next < lines.Count)
            {
                return ValueTask.FromResult<string?>(lines[_next++]);
            }

            _finished.TrySetResult();
            return ValueTask.FromResult<string?>(null);
        }
    }
}
