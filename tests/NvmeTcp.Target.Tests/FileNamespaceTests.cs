using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Target.Tests;

/// <summary>A namespace on a file: the data is in the file, survives a restart of the target, and Flush is an fsync.</summary>
public sealed class FileNamespaceTests : IDisposable
{
    private const uint Nsid = 3;
    private readonly string _directory = Directory.CreateTempSubdirectory("nvmetcp-file-ns-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task File_namespace_holds_its_data_across_a_restart()
    {
        var path = Path.Combine(_directory, "disk.img");
        using (var file = File.Create(path))
        {
            file.SetLength(16 << 20);
        }

        var large = TestTargets.Pattern(64 * 1024, 21);
        var small = TestTargets.Pattern(4096, 22);
        await using (var target = await StartAsync(path))
        {
            // The file is the target's alone while it runs.
            await Assert.ThrowsAnyAsync<IOException>(() => StartAsync(path));

            var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
            await using var _ = admin;
            await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
            var (_, identify) = await admin.ExecuteAsync(IdentifyCommand.Namespace(Nsid));
            var id = NvmeIdentifyNamespace.Parse(identify);
            Assert.Equal((16UL << 20) / 4096, id.Nsze);
            Assert.Equal(4096, id.BlockSize);
            Assert.Equal(0, identify[33]); // DLFEAT: what deallocated blocks read is not reported

            await ExpectSuccessAsync(io.ExecuteAsync(ReadWriteCommands.Write(Nsid, 16, 16, (uint)large.Length), writeData: large));
            await ExpectSuccessAsync(io.ExecuteAsync(ReadWriteCommands.Write(Nsid, 100, 1, 4096, forceUnitAccess: true).InCapsule(), small));
            await ExpectSuccessAsync(io.ExecuteAsync(ReadWriteCommands.Flush(Nsid)));
            await ExpectSuccessAsync(io.ExecuteAsync(ReadWriteCommands.Flush(0xFFFFFFFF)));
            var (read, back) = await io.ExecuteAsync(ReadWriteCommands.Read(Nsid, 16, 16, (uint)large.Length));
            Assert.True(read.Status.IsSuccess);
            Assert.Equal(large, back);
            var (same, _) = await io.ExecuteAsync(ReadWriteCommands.Compare(Nsid, 100, 1, 4096).InCapsule(), small);
            Assert.True(same.Status.IsSuccess);
            var (differs, _) = await io.ExecuteAsync(ReadWriteCommands.Compare(Nsid, 16, 1, 4096).InCapsule(), small);
            StatusAssert.Is(StatusCodes.CompareFailure, differs, dnr: true);

            // Deallocation is accepted and changes nothing; Write Zeroes writes zeros.
            var ranges = new byte[16];
            DatasetManagementCommand.WriteRange(ranges, 0, 16, 16);
            var dsm = DatasetManagementCommand.Create(Nsid, 1, DatasetAttributes.Deallocate);
            DataPointer.Set(ref dsm, 16, inCapsule: true);
            await ExpectSuccessAsync(io.ExecuteAsync(dsm, ranges));
            await ExpectSuccessAsync(io.ExecuteAsync(ReadWriteCommands.WriteZeroes(Nsid, 200, 8)));

            // The host turns the cache off: writes are then flushed before they complete.
            var (cache, _) = await admin.ExecuteAsync(FeatureCommands.Set(0x06, 0));
            Assert.True(cache.Status.IsSuccess);
            await ExpectSuccessAsync(io.ExecuteAsync(ReadWriteCommands.Write(Nsid, 300, 1, 4096).InCapsule(), small));
        }

        // In the file where the namespace put it, and the target has let the file go.
        using (var file = File.OpenHandle(path))
        {
            var bytes = new byte[large.Length];
            RandomAccess.Read(file, bytes, 16 * 4096);
            Assert.Equal(large, bytes);
        }

        await using (var again = await StartAsync(path))
        {
            var (admin, cntlid) = await RawHost.AdminAsync(again.EndPoint, TestTargets.Nqn);
            await using var _ = admin;
            await using var io = await RawHost.IoAsync(again.EndPoint, TestTargets.Nqn, cntlid);
            Assert.Equal(large, (await io.ExecuteAsync(ReadWriteCommands.Read(Nsid, 16, 16, (uint)large.Length))).Data);
            Assert.Equal(small, (await io.ExecuteAsync(ReadWriteCommands.Read(Nsid, 100, 1, 4096))).Data);
            Assert.Equal(small, (await io.ExecuteAsync(ReadWriteCommands.Read(Nsid, 300, 1, 4096))).Data);
            Assert.Equal(new byte[8 * 4096], (await io.ExecuteAsync(ReadWriteCommands.Read(Nsid, 200, 8, 8 * 4096))).Data);
            Assert.Empty(again.Testing.Violations);
        }
    }

    [Fact]
    public async Task A_block_device_is_exported_with_its_size_and_keeps_its_data()
    {
        // A loop device over a file in our directory: a real block device (st_size 0, size from sysfs) that the test can
        // make and remove. Needs root and util-linux's losetup, which CI has.
        if (Environment.UserName != "root" || !File.Exists("/sbin/losetup") && !File.Exists("/usr/sbin/losetup"))
        {
            Assert.Skip("needs root and losetup to attach a loop device");
        }

        var image = Path.Combine(_directory, "loop.img");
        using (var file = File.Create(image))
        {
            file.SetLength(8 << 20);
        }

        var device = (await RunAsync("losetup", "--find", "--show", image)).Trim();
        var data = TestTargets.Pattern(32 * 1024, 31);
        try
        {
            Assert.StartsWith("/dev/loop", device, StringComparison.Ordinal);
            var options = NvmeNamespaceOptions.ForFile(Nsid, device, 4096);
            Assert.Equal(8L << 20, options.SizeBytes);
            await using (var target = await TestTargets.StartAsync(TestTargets.Options(s => s.Namespaces.Add(options))))
            {
                var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
                await using var _ = admin;
                await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
                var (_, identify) = await admin.ExecuteAsync(IdentifyCommand.Namespace(Nsid));
                Assert.Equal((8UL << 20) / 4096, NvmeIdentifyNamespace.Parse(identify).Nsze);
                await ExpectSuccessAsync(io.ExecuteAsync(ReadWriteCommands.Write(Nsid, 2040, 8, (uint)data.Length), writeData: data));
                await ExpectSuccessAsync(io.ExecuteAsync(ReadWriteCommands.Flush(Nsid)));
                Assert.Equal(data, (await io.ExecuteAsync(ReadWriteCommands.Read(Nsid, 2040, 8, (uint)data.Length))).Data);
                var (past, _) = await io.ExecuteAsync(ReadWriteCommands.Read(Nsid, 2048, 1, 4096));
                StatusAssert.Is(StatusCodes.LbaOutOfRange, past, dnr: true);
                Assert.Empty(target.Testing.Violations);
            }
        }
        finally
        {
            if (device.StartsWith("/dev/loop", StringComparison.Ordinal))
            {
                await RunAsync("losetup", "--detach", device);
            }
        }

        // Flushed through the device into its backing file, at the block the host wrote.
        using var back = File.OpenHandle(image);
        var bytes = new byte[data.Length];
        RandomAccess.Read(back, bytes, 2040L * 4096);
        Assert.Equal(data, bytes);
    }

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {await error}");
        return await output;
    }

    [Fact]
    public void A_file_namespace_takes_a_path_and_its_size_from_the_file()
    {
        var path = Path.Combine(_directory, "sized.img");
        using (var file = File.Create(path))
        {
            file.SetLength((3 << 20) + 100);
        }

        var options = NvmeNamespaceOptions.ForFile(1, path, 4096);
        Assert.Equal(NvmeNamespaceBacking.File, options.Backing);
        Assert.Equal(path, options.FilePath);
        Assert.Equal((3L << 20) + 100, options.SizeBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NvmeNamespaceOptions(1, 1 << 20, 512, NvmeNamespaceBacking.File));
        Assert.ThrowsAny<IOException>(() => NvmeNamespaceOptions.ForFile(1, Path.Combine(_directory, "missing.img")));
    }

    private static Task<NvmeTcpTarget> StartAsync(string path) =>
        TestTargets.StartAsync(TestTargets.Options(s => s.Namespaces.Add(NvmeNamespaceOptions.ForFile(Nsid, path, 4096))));

    private static async Task ExpectSuccessAsync(Task<(Cqe Cqe, byte[] Data)> command)
    {
        var (cqe, _) = await command;
        Assert.True(cqe.Status.IsSuccess, cqe.Status.ToString());
    }
}
