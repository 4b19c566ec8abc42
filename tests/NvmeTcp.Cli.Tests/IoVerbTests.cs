namespace NvmeTcp.Cli.Tests;

public sealed class IoVerbTests(TargetFixture target) : IClassFixture<TargetFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nvmetcp-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Write_read_compare_round_trip_through_files()
    {
        var data = new byte[10_000];
        new Random(7).NextBytes(data);
        var input = Path.Combine(_directory, "in.bin");
        var output = Path.Combine(_directory, "out.bin");
        await File.WriteAllBytesAsync(input, data, TestContext.Current.CancellationToken);

        var write = await Cli.RunAsync(target, "write", "--start-block", "100", "--data", input);
        Assert.True(write.ExitCode == 0, write.ToString());
        Assert.Equal($"write: Success{Environment.NewLine}", write.Out);

        // 10,000 bytes are 20 blocks of 512 (the last one zero-padded); --block-count is a plain count.
        var read = await Cli.RunAsync(target, "read", "--start-block", "100", "--block-count", "20", "--data", output);
        Assert.True(read.ExitCode == 0, read.ToString());
        var back = await File.ReadAllBytesAsync(output, TestContext.Current.CancellationToken);
        Assert.Equal(20 * 512, back.Length);
        Assert.Equal(data, back[..data.Length]);
        Assert.All(back[data.Length..], b => Assert.Equal(0, b));

        var compare = await Cli.RunAsync(target, "compare", "--start-block", "100", "--data", input);
        Assert.True(compare.ExitCode == 0, compare.ToString());

        var miscompare = await Cli.RunAsync(target, "compare", "--start-block", "101", "--data", input);
        Assert.Equal(3, miscompare.ExitCode);
        Assert.Contains("Compare Failure", miscompare.Error, StringComparison.Ordinal);
        Assert.Single(miscompare.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Read_without_a_file_dumps_hex_or_json()
    {
        var input = Path.Combine(_directory, "abc.bin");
        await File.WriteAllBytesAsync(input, "ABC"u8.ToArray(), TestContext.Current.CancellationToken);
        Assert.Equal(0, (await Cli.RunAsync(target, "write", "--namespace-id", "2", "--start-block", "5", "--data", input)).ExitCode);

        var dump = await Cli.RunAsync(target, "read", "--namespace-id", "2", "--start-block", "5");
        Assert.True(dump.ExitCode == 0, dump.ToString());
        Assert.Contains("0000: 41 42 43 00", dump.Out, StringComparison.Ordinal);
        Assert.Contains("\"ABC.............\"", dump.Out, StringComparison.Ordinal);

        var json = await Cli.RunAsync(target, "read", "--namespace-id", "2", "--start-block", "5", "-o", "json");
        var root = json.Json();
        Assert.Equal(4096, root.GetProperty("bytes").GetInt32());
        Assert.StartsWith("414243", root.GetProperty("data").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_zeroes_clears_blocks()
    {
        var input = Path.Combine(_directory, "ones.bin");
        await File.WriteAllBytesAsync(input, Enumerable.Repeat((byte)0xFF, 2048).ToArray(), TestContext.Current.CancellationToken);
        Assert.Equal(0, (await Cli.RunAsync(target, "write", "--start-block", "300", "--data", input)).ExitCode);

        var zero = await Cli.RunAsync(target, "write-zeroes", "--start-block", "301", "--block-count", "2");
        Assert.True(zero.ExitCode == 0, zero.ToString());
        Assert.Equal($"write-zeroes: Success{Environment.NewLine}", zero.Out);

        var json = await Cli.RunAsync(target, "read", "--start-block", "300", "--block-count", "4", "-o", "json");
        var data = Convert.FromHexString(json.Json().GetProperty("data").GetString()!);
        Assert.All(data[..512], b => Assert.Equal(0xFF, b));
        Assert.All(data[512..1536], b => Assert.Equal(0, b));
        Assert.All(data[1536..], b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public async Task Flush_succeeds()
    {
        var result = await Cli.RunAsync(target, "flush", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("success", result.Json().GetProperty("result").GetString());
    }

    [Fact]
    public async Task Dsm_deallocates_ranges_given_either_way()
    {
        var byLists = await Cli.RunAsync(target, "dsm", "--deallocate", "--slbs", "0,1000", "--blocks", "8,16");
        Assert.True(byLists.ExitCode == 0, byLists.ToString());
        Assert.Equal($"dsm: Success{Environment.NewLine}", byLists.Out);

        var byRanges = await Cli.RunAsync(target, "dsm", "-d", "--ranges", "0:8,0x400:16");
        Assert.Equal(0, byRanges.ExitCode);
    }

    [Fact]
    public async Task Dsm_without_deallocate_or_with_mismatched_lists_is_a_usage_error()
    {
        Assert.Equal(1, (await Cli.RunAsync(target, "dsm", "--ranges", "0:8")).ExitCode);
        var mismatched = await Cli.RunAsync(target, "dsm", "-d", "--slbs", "0,1", "--blocks", "8");
        Assert.Equal(1, mismatched.ExitCode);
        Assert.Contains("--slbs has 2 values but --blocks has 1", mismatched.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Io_passthru_read_returns_the_blocks()
    {
        var input = Path.Combine(_directory, "xyz.bin");
        await File.WriteAllBytesAsync(input, "XYZ"u8.ToArray(), TestContext.Current.CancellationToken);
        Assert.Equal(0, (await Cli.RunAsync(target, "write", "--start-block", "7", "--data", input)).ExitCode);

        // Read (02h): CDW10-11 SLBA, CDW12 bits 15:0 NLB zero-based.
        var result = await Cli.RunAsync(target, "io-passthru", "--opcode", "0x02", "--namespace-id", "1", "--cdw10", "7", "--data-len", "512", "-r", "-o", "json");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("58595a", result.Json().GetProperty("data").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_to_a_missing_namespace_names_the_active_ones()
    {
        var input = Path.Combine(_directory, "one.bin");
        await File.WriteAllBytesAsync(input, [1], TestContext.Current.CancellationToken);
        var result = await Cli.RunAsync(target, "write", "--namespace-id", "9", "--data", input);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("namespace 9 is not active", result.Error, StringComparison.Ordinal);
        Assert.Contains("(active: 1, 2)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_past_the_end_is_refused()
    {
        // Refused before anything is sent: the range is checked against the namespace's size.
        var result = await Cli.RunAsync(target, "read", "--start-block", "99999999");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("past the end of namespace 1", result.Error, StringComparison.Ordinal);
    }
}
