using System.Net;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>Connections past MaxConnectionsPerHost are closed as soon as they are accepted; those within it serve.</summary>
    [Fact]
    public async Task Connections_past_the_per_host_limit_are_closed()
    {
        var options = TestTargets.Options();
        options.MaxConnectionsPerHost = 4;
        await using var target = await TestTargets.StartAsync(options);
        var baseline = ProcessResources.Take();
        var hosts = new List<RawHost>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                hosts.Add(await RawHost.ConnectAsync(target.EndPoint));
            }

            await TestTime.UntilAsync(() => target.ConnectionCount == 4, "four connections");
            for (var i = 0; i < 20; i++)
            {
                await using var refused = await RawHost.OpenAsync(target.EndPoint);
                Assert.True(await refused.WaitClosedAsync(), $"connection {5 + i} was not closed");
            }

            Assert.Equal(4, target.ConnectionCount);
            var (connect, _) = await hosts[0].ConnectAdminAsync(TestTargets.Nqn);
            Assert.True(connect.Status.IsSuccess);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }

        await HostileHost.ConnectionsGoneAsync(target);
        ProcessResources.Take().AssertWithin(baseline, "24 connections against a limit of 4");
        await HostileHost.AssertServesCleanHostAsync(target, "the per-host connection limit");
    }

    /// <summary>A connection that sends no ICReq within IcReqTimeout is closed (on the target's clock).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connection_without_icreq_is_closed_after_the_icreq_timeout(bool dedicatedReceiveThreads)
    {
        var time = new TestTime();
        var options = TestTargets.Options();
        options.TimeProvider = time;
        options.DedicatedReceiveThreads = dedicatedReceiveThreads;
        await using var target = await TestTargets.StartAsync(options);
        await using var silent = await RawHost.OpenAsync(target.EndPoint);
        await TestTime.UntilAsync(() => time.TimersCreated > 0, "the connection's deadline timer");
        time.Advance(options.IcReqTimeout);
        Assert.True(await silent.WaitClosedAsync());
        Assert.Contains(target.Testing.Violations, v => v.Rule == "IcReqTimeout");
        await HostileHost.ConnectionsGoneAsync(target);
    }

    /// <summary>
    /// A host that pipelines reads and never reads the replies is closed once its window has held up the target's sends
    /// for PduTimeout, and what was buffered for it is freed.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Host_that_never_reads_its_replies_is_closed_after_the_pdu_timeout(bool dedicatedReceiveThreads)
    {
        var time = new TestTime();
        var options = TestTargets.Options(s => s.MaxQueueSize = 4096);
        options.TimeProvider = time;
        options.DedicatedReceiveThreads = dedicatedReceiveThreads;
        await using var target = await TestTargets.StartAsync(options);
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await using var io = await RawHost.ConnectAsync(target.EndPoint);
        var (connect, _) = await io.ConnectIoAsync(TestTargets.Nqn, 1, cntlid, queueSize: 4096);
        Assert.True(connect.Status.IsSuccess);
        var reads = new List<byte>();
        for (var i = 0; i < 1000; i++)
        {
            var sqe = Protocol.Nvm.ReadWriteCommands.Read(1, 0, 256, 128 * 1024);
            sqe.Cid = (ushort)(0x100 + i);
            reads.AddRange(io.EncodeCommand(sqe));
        }

        await io.SendAsync(reads.ToArray());
        await TestTime.UntilAsync(
            () =>
            {
                time.Advance(options.PduTimeout / 4);
                return target.Testing.Violations.Any(v => v.Rule == "SendTimeout");
            },
            "the send deadline");
        await HostileHost.ConnectionsGoneAsync(target, expected: 1);
        var (keepAlive, _) = await admin.ExecuteAsync(AdminCommands.KeepAlive());
        Assert.True(keepAlive.Status.IsSuccess);
    }

    /// <summary>
    /// A host that stops (or trickles) inside a PDU is closed PduTimeout after the PDU began; a host idle between PDUs
    /// is not, and still serves afterwards.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connection_stuck_inside_a_pdu_is_closed_after_the_pdu_timeout(bool dedicatedReceiveThreads)
    {
        var time = new TestTime();
        var options = TestTargets.Options();
        options.TimeProvider = time;
        options.DedicatedReceiveThreads = dedicatedReceiveThreads;
        await using var target = await TestTargets.StartAsync(options);
        var (idle, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = idle;
        await using var stuck = await RawHost.ConnectAsync(target.EndPoint);
        var capsule = stuck.EncodeCommand(AdminCommands.KeepAlive());
        await stuck.SendAsync(capsule.AsMemory(0, 10));

        // Time moves until the target, having read the ten bytes, arms the deadline and it expires.
        await TestTime.UntilAsync(
            () =>
            {
                time.Advance(options.PduTimeout / 4);
                return target.Testing.Violations.Any(v => v.Rule == "PduTimeout");
            },
            "the PDU deadline");
        Assert.True(await stuck.WaitClosedAsync());

        // Hours between PDUs are not a partial PDU: the idle admin queue still answers.
        time.Advance(TimeSpan.FromHours(3));
        var (keepAlive, _) = await idle.ExecuteAsync(AdminCommands.KeepAlive());
        Assert.True(keepAlive.Status.IsSuccess);
        Assert.Single(target.Testing.Violations);
    }
}
