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

    [Theory]
    [InlineData("x:64MiB")]
    [InlineData("1:64MiB:1000")]
    [InlineData("1:lots")]
    [InlineData("1:64MiB:512:disk")]
    public void Bad_namespaces_are_format_errors(string text) => Assert.Throws<FormatException>(() => ServeSettings.ParseNamespace(text));
}
