using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 4: a host that keeps submitting past its queue's size (a 32-entry queue, 200 writes whose R2Ts it never
    /// answers) commits a fatal error for that queue, as in nvmet: a C2HTermReq and the connection closed, and R2Ts
    /// (each renting a buffer) never beyond what the queue size allows.
    /// </summary>
    [Fact]
    public async Task Overrunning_the_queue_size_is_fatal_for_the_queue()
    {
        await using var target = await TestTargets.StartAsync();
        var baseline = ProcessResources.Take();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using (admin)
        {
            await using var io = await RawHost.ConnectAsync(target.EndPoint);
            var (connect, _) = await io.ConnectIoAsync(TestTargets.Nqn, 1, cntlid, queueSize: 32);
            Assert.True(connect.Status.IsSuccess, connect.Status.ToString());
            var writes = new List<byte>();
            for (var i = 0; i < 200; i++)
            {
                var sqe = ReadWriteCommands.Write(1, (ulong)i * 128, 128, 64 * 1024);
                sqe.Cid = (ushort)(0x200 + i);
                writes.AddRange(io.EncodeCommand(sqe));
            }

            await io.SendAsync(writes.ToArray());
            var r2ts = 0;
            RawPdu pdu;
            while ((pdu = await io.ReceiveAsync()).Header.Type == PduType.R2T)
            {
                r2ts++;
            }

            Assert.Equal(PduType.C2HTermReq, pdu.Header.Type);
            Assert.True(r2ts <= 64, $"{r2ts} R2Ts for a 32-entry queue");
            Assert.True(await io.WaitClosedAsync());
            Assert.Contains(target.Testing.Violations, v => v.QueueId == 1);
        }

        await HostileHost.ConnectionsGoneAsync(target);
        ProcessResources.Take().AssertWithin(baseline, "a queue overrun");
        await HostileHost.AssertServesCleanHostAsync(target, "a queue overrun");
    }
}
