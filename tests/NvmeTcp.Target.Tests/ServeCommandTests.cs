using NvmeTcp.Cli.Commands;
using NvmeTcp.Protocol.Admin;
using Spectre.Console;

namespace NvmeTcp.Target.Tests;

public class ServeCommandTests
{
    [Fact]
    public async Task Serve_starts_answers_connect_and_stops()
    {
        var parse = ServeCommand.Create().Parse(["--listen", "127.0.0.1:0", "--nqn", "nqn.2026-11.dev.nvmetcp:cli", "--namespace", "1:64MiB:512", "--namespace", "3:1TiB:4096:null", "--hdr-digest", "refuse"]);
        Assert.Empty(parse.Errors);
        var options = ServeCommand.ToOptions(parse);
        Assert.Equal(2, options.Subsystems[0].Namespaces.Count);
        Assert.Equal(1L << 40, options.Subsystems[0].Namespaces[1].SizeBytes);
        Assert.Equal(NvmeNamespaceBacking.Null, options.Subsystems[0].Namespaces[1].Backing);

        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var started = new TaskCompletionSource<NvmeTcpTarget>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = ServeCommand.RunAsync(options, console, started.SetResult, stop.Token);
        var target = await started.Task.WaitAsync(RawHost.Timeout, TestContext.Current.CancellationToken);

        await using (var host = await RawHost.ConnectAsync(target.EndPoint, Protocol.DigestTypes.Header))
        {
            Assert.Equal(Protocol.DigestTypes.None, host.IcResp.Digests); // refused, as asked
            var (connect, _) = await host.ConnectAdminAsync("nqn.2026-11.dev.nvmetcp:cli");
            Assert.True(connect.Status.IsSuccess);
            Assert.Equal(1u, await host.EnableAsync() & 1);
            var (_, list) = await host.ExecuteAsync(IdentifyCommand.ActiveNamespaces());
            Assert.Equal([1u, 3u], Client.NvmeNamespaceList.Parse(list));
        }

        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(RawHost.Timeout, TestContext.Current.CancellationToken));
        var text = output.ToString();
        Assert.Contains(target.EndPoint.ToString(), text, StringComparison.Ordinal);
        Assert.Contains("nqn.2026-11.dev.nvmetcp:cli", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_receive_thread_serves_io_on_a_thread_per_connection()
    {
        Assert.False(ServeCommand.ToOptions(ServeCommand.Create().Parse([])).DedicatedReceiveThreads);
        var parse = ServeCommand.Create().Parse(["--listen", "127.0.0.1:0", "--nqn", TestTargets.Nqn, "--namespace", "1:64MiB:512", "--no-discovery", "--receive-thread"]);
        Assert.Empty(parse.Errors);
        var options = ServeCommand.ToOptions(parse);
        Assert.True(options.DedicatedReceiveThreads);

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(new StringWriter()), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var started = new TaskCompletionSource<NvmeTcpTarget>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = ServeCommand.RunAsync(options, console, started.SetResult, stop.Token);
        var target = await started.Task.WaitAsync(RawHost.Timeout, TestContext.Current.CancellationToken);
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using (admin)
        await using (var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid))
        {
            var small = TestTargets.Pattern(4096, 31);
            var large = TestTargets.Pattern(64 * 1024, 32);
            var (w1, _) = await io.ExecuteAsync(Protocol.Nvm.ReadWriteCommands.Write(1, 0, 8, 4096).InCapsule(), small);
            var (w2, _) = await io.ExecuteAsync(Protocol.Nvm.ReadWriteCommands.Write(1, 8, 128, (uint)large.Length), writeData: large);
            Assert.True(w1.Status.IsSuccess && w2.Status.IsSuccess, $"{w1.Status}, {w2.Status}");
            var (_, back1) = await io.ExecuteAsync(Protocol.Nvm.ReadWriteCommands.Read(1, 0, 8, 4096));
            var (_, back2) = await io.ExecuteAsync(Protocol.Nvm.ReadWriteCommands.Read(1, 8, 128, (uint)large.Length));
            Assert.Equal(small, back1);
            Assert.Equal(large, back2);
            Assert.Equal(2, target.Testing.ReceiveThreadsStarted);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(RawHost.Timeout, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("1TiB", 1L << 40)]
    [InlineData("8k", 8192L)]
    public void Sizes_parse(string text, long expected) => Assert.Equal(expected, ServeSettings.ParseSize(text));

    [Fact]
    public void Defaults_make_serve_alone_useful()
    {
        var options = ServeCommand.ToOptions(ServeCommand.Create().Parse([]));
        Assert.Equal("127.0.0.1:4420", options.ListenEndPoint.ToString());
        Assert.True(options.EnableDiscovery);
        var subsystem = Assert.Single(options.Subsystems);
        Assert.Equal(ServeSettings.DefaultNqn, subsystem.Nqn);
        var ns = Assert.Single(subsystem.Namespaces);
        Assert.Equal(1L << 30, ns.SizeBytes);
        Assert.Equal(NvmeNamespaceBacking.Memory, ns.Backing);
    }

    [Fact]
    public void Limits_and_strictness_parse_and_default_to_the_target_options()
    {
        var defaults = ServeCommand.ToOptions(ServeCommand.Create().Parse([]));
        var target = new NvmeTargetOptions();
        Assert.Equal(
            (target.MaxConnections, target.MaxConnectionsPerHost, target.IcReqTimeout, target.PduTimeout, target.MaxBufferedBytesPerConnection, target.MaxBufferedCommandsPerConnection, NvmeReservedFieldCheck.Ignore),
            (defaults.MaxConnections, defaults.MaxConnectionsPerHost, defaults.IcReqTimeout, defaults.PduTimeout, defaults.MaxBufferedBytesPerConnection, defaults.MaxBufferedCommandsPerConnection, defaults.ReservedFields));
        var options = ServeCommand.ToOptions(ServeCommand.Create().Parse(
            ["--max-connections", "10", "--max-connections-per-host", "3", "--icreq-timeout", "500ms", "--pdu-timeout", "2s", "--max-buffered", "1MiB", "--max-buffered-commands", "16", "--reserved-fields", "record"]));
        Assert.Equal(
            (10, 3, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2), 1 << 20, 16, NvmeReservedFieldCheck.Record),
            (options.MaxConnections, options.MaxConnectionsPerHost, options.IcReqTimeout, options.PduTimeout, options.MaxBufferedBytesPerConnection, options.MaxBufferedCommandsPerConnection, options.ReservedFields));
        Assert.Throws<FormatException>(() => ServeLimits.ParseTime("soon"));
    }

    [Fact]
    public void File_namespaces_parse_with_a_path_that_may_hold_colons()
    {
        var directory = Directory.CreateTempSubdirectory("nvmetcp-serve-").FullName;
        try
        {
            var path = Path.Combine(directory, "a:b.img");
            using (var file = File.Create(path))
            {
                file.SetLength(8 << 20);
            }

            var ns = ServeSettings.ParseNamespace($"2:file:{path}:4096");
            Assert.Equal((NvmeNamespaceBacking.File, path, 4096, 8L << 20), (ns.Backing, ns.FilePath, ns.BlockSize, ns.SizeBytes));
            Assert.Equal(512, ServeSettings.ParseNamespace($"2:file:{path}").BlockSize);
            Assert.Throws<FormatException>(() => ServeSettings.ParseNamespace($"2:file:{path}.missing"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_logs_connections_and_violations_and_verbose_adds_debug()
    {
        var root = NvmeTcp.Cli.Commands.CliCommands.CreateRoot([ServeCommand.Create()]);
        foreach (var verbose in new[] { false, true })
        {
            string[] args = verbose ? ["serve", "--listen", "127.0.0.1:0", "--verbose"] : ["serve", "--listen", "127.0.0.1:0"];
            var parse = root.Parse(args);
            var options = ServeCommand.ToOptions(parse);
            var error = new StringWriter();
            using var logging = ServeLogging.Create(parse, error);
            options.Logger = logging.CreateLogger("NvmeTcp.Target");
            await using (var target = await NvmeTcpTarget.StartAsync(options, TestContext.Current.CancellationToken))
            {
                await using var host = await RawHost.ConnectAsync(target.EndPoint);
                byte[] unknown = [0x0C, 0, 24, 0, 24, 0, 0, 0, .. new byte[16]];
                await host.SendAsync(unknown);
                Assert.True(await host.WaitClosedAsync());
                await TestTime.UntilAsync(() => target.ConnectionCount == 0, "the connection to close");
            }

            var text = error.ToString();
            Assert.Contains("Connection from 127.0.0.1", text, StringComparison.Ordinal);
            Assert.Contains("host violation UnknownType (FES 1, FEI 0)", text, StringComparison.Ordinal);
            Assert.Equal(verbose, text.Contains(" dbug ", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("x:64MiB")]
    [InlineData("1:64MiB:1000")]
    [InlineData("1:lots")]
    [InlineData("1:64MiB:512:disk")]
    public void Bad_namespaces_are_format_errors(string text) => Assert.Throws<FormatException>(() => ServeSettings.ParseNamespace(text));
}
