using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Target.Tests.Hostile;

namespace NvmeTcp.Target.Tests;

/// <summary>Every test of <see cref="DataPathTests"/> again, on a target that receives on a thread per connection.</summary>
public sealed class DataPathReceiveThreadTests : DataPathTests
{
    /// <inheritdoc/>
    protected override bool DedicatedReceiveThreads => true;
}

/// <summary>Every fault rule of <see cref="FaultTests"/> again, on a target that receives on a thread per connection.</summary>
public sealed class FaultReceiveThreadTests : FaultTests
{
    /// <inheritdoc/>
    protected override bool DedicatedReceiveThreads => true;
}

/// <summary>
/// <see cref="NvmeTargetOptions.DedicatedReceiveThreads"/>: one named thread per plain-TCP connection and none
/// otherwise, commands that complete off that thread (a file namespace), and an end that never hangs: a host that
/// resets mid-PDU, and a target disposed with connections blocked in every state.
/// </summary>
public sealed class ReceiveThreadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nvmetcp-rx-thread-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static NvmeTargetOptions Options(Action<NvmeSubsystemOptions>? subsystem = null)
    {
        var options = TestTargets.Options(subsystem);
        options.DedicatedReceiveThreads = true;
        return options;
    }

    [Fact]
    public async Task Each_plain_connection_gets_a_named_receive_thread_and_the_default_none()
    {
        await using (var plain = await TestTargets.StartAsync())
        {
            var (admin, _) = await RawHost.AdminAsync(plain.EndPoint, TestTargets.Nqn);
            await using var _1 = admin;
            Assert.Equal(0, plain.Testing.ReceiveThreadsStarted);
        }

        await using var target = await TestTargets.StartAsync(Options());
        var (admin2, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _2 = admin2;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        Assert.Equal(2, target.Testing.ReceiveThreadsStarted);

        // The name is what top -H and perf show (Linux keeps 15 characters of it).
        var names = Directory.GetDirectories("/proc/self/task").Select(CommOf);
        Assert.True(names.Count(n => n == "nvmetcp tgt rx") >= 2, "no thread named 'nvmetcp tgt rx' per connection");
    }

    // A thread of another test may end between the listing and the read.
    private static string? CommOf(string task)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
        }
        catch (IOException)
        {
            return null;
        }
    }

    [Fact]
    public async Task A_tls_port_keeps_the_asynchronous_path_and_serves_plain_hosts()
    {
        var options = Options();
        options.Tls = NvmeTargetTls.Optional;
        await using var target = await TestTargets.StartAsync(options);
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _ = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        var data = TestTargets.Pattern(4096, 5);
        var (write, _) = await io.ExecuteAsync(ReadWriteCommands.Write(2, 1, 1, 4096).InCapsule(), data);
        Assert.True(write.Status.IsSuccess, write.Status.ToString());
        var (_, back) = await io.ExecuteAsync(ReadWriteCommands.Read(2, 1, 1, 4096));
        Assert.Equal(data, back);
        Assert.Equal(0, target.Testing.ReceiveThreadsStarted);
    }

    [Fact]
    public async Task File_namespace_commands_complete_off_the_receive_thread_through_the_send_loop()
    {
        var path = Path.Combine(_directory, "disk.img");
        using (var file = File.Create(path))
        {
            file.SetLength(4 << 20);
        }

        await using var target = await TestTargets.StartAsync(Options(s => s.Namespaces.Add(NvmeNamespaceOptions.ForFile(3, path, 4096))));
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _ = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        for (var i = 0; i < 8; i++)
        {
            var data = TestTargets.Pattern(i % 2 == 0 ? 4096 : 64 * 1024, 40 + i);
            var blocks = (ushort)(data.Length / 4096);
            var lba = (ulong)i * 16;
            var (write, _) = data.Length == 4096
                ? await io.ExecuteAsync(ReadWriteCommands.Write(3, lba, blocks, (uint)data.Length).InCapsule(), data)
                : await io.ExecuteAsync(ReadWriteCommands.Write(3, lba, blocks, (uint)data.Length), writeData: data);
            Assert.True(write.Status.IsSuccess, write.Status.ToString());
            var (read, back) = await io.ExecuteAsync(ReadWriteCommands.Read(3, lba, blocks, (uint)data.Length));
            Assert.True(read.Status.IsSuccess, read.Status.ToString());
            Assert.Equal(data, back);
        }

        var (flush, _) = await io.ExecuteAsync(ReadWriteCommands.Flush(3));
        Assert.True(flush.Status.IsSuccess, flush.Status.ToString());
    }

    [Fact]
    public async Task A_host_that_resets_mid_pdu_is_dropped_and_the_target_serves_on()
    {
        await using var target = await TestTargets.StartAsync(Options());
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _ = admin;
        var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        var capsule = io.EncodeCommand(ReadWriteCommands.Read(1, 0, 8, 4096));
        await io.SendAsync(capsule.AsMemory(0, 10));
        io.Reset();
        await HostileHost.ConnectionsGoneAsync(target, expected: 1);
        var (keepAlive, _) = await admin.ExecuteAsync(AdminCommands.KeepAlive());
        Assert.True(keepAlive.Status.IsSuccess, keepAlive.Status.ToString());
        await HostileHost.AssertServesCleanHostAsync(target, "a reset mid-PDU");
    }

    [Fact]
    public async Task DisposeAsync_with_connections_blocked_in_every_state_ends_promptly()
    {
        var target = await TestTargets.StartAsync(Options());
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        await using var silent = await RawHost.OpenAsync(target.EndPoint);
        await using var partial = await RawHost.ConnectAsync(target.EndPoint);

        // A write waiting for its data (the R2T came, no H2CData follows), and a PDU cut after 10 bytes.
        var write = ReadWriteCommands.Write(1, 0, 128, 64 * 1024);
        write.Cid = 0x77;
        await io.SendAsync(io.EncodeCommand(write));
        var r2t = await io.ReceiveAsync();
        Assert.Equal(PduType.R2T, r2t.Header.Type);
        await partial.SendAsync(partial.EncodeCommand(AdminCommands.KeepAlive()).AsMemory(0, 10));
        await TestTime.UntilAsync(() => target.Testing.ReceiveThreadsStarted == 4, "four receive threads");

        await target.DisposeAsync().AsTask().WaitAsync(RawHost.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(0, target.ConnectionCount);
        foreach (var host in new[] { admin, io, silent, partial })
        {
            Assert.True(await host.WaitClosedAsync(), "a connection stayed open after the target was disposed");
        }
    }
}
