using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 3: a host that pipelines 1,800 reads of 128 KiB and does not read the replies must not make the target
    /// build them all (225 MiB): what a connection buffers is bounded, and the target stops reading meanwhile. Every
    /// reply still arrives, in full, once the host reads.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Pipelined_reads_nobody_reads_are_bounded_by_back_pressure(bool dedicatedReceiveThreads)
    {
        const int Reads = 1800;
        const int Length = 128 * 1024;
        var options = TestTargets.Options(s => s.MaxQueueSize = 4096);
        options.DedicatedReceiveThreads = dedicatedReceiveThreads;
        await using var target = await TestTargets.StartAsync(options);
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _ = admin;
        await using var io = await RawHost.ConnectAsync(target.EndPoint);
        var (connect, _) = await io.ConnectIoAsync(TestTargets.Nqn, 1, cntlid, queueSize: 4096);
        Assert.True(connect.Status.IsSuccess, connect.Status.ToString());
        var baseline = ProcessResources.Take();

        var commands = new byte[Reads][];
        for (var i = 0; i < Reads; i++)
        {
            var sqe = ReadWriteCommands.Read(1, (ulong)(i % 64) * 256, 256, Length);
            sqe.Cid = (ushort)(0x1000 + i);
            commands[i] = io.EncodeCommand(sqe);
        }

        await io.SendAsync(commands.SelectMany(c => c).ToArray());
        await TestTime.UntilAsync(() => io.Available > 0, "the first reply");
        ProcessResources.Take().AssertWithin(baseline, "1,800 pipelined 128 KiB reads, none read", managedBytes: 48L << 20);

        var completed = 0;
        var bytes = 0L;
        for (var pdus = 0; completed < Reads && pdus < 4 * Reads; pdus++)
        {
            var pdu = await io.ReceiveAsync();
            if (pdu.Header.Type == PduType.C2HData)
            {
                bytes += pdu.Data.Length;
                completed += pdu.Header.C2HData.Success ? 1 : 0;
            }
            else
            {
                Assert.Equal(PduType.CapsuleResp, pdu.Header.Type);
                Assert.True(pdu.Header.Cqe.Status.IsSuccess, pdu.Header.Cqe.Status.ToString());
                completed++;
            }

            if (completed % 300 == 299 && pdu.Header.Type == PduType.CapsuleResp)
            {
                ProcessResources.Take().AssertWithin(baseline, $"{completed} of 1,800 replies read", managedBytes: 48L << 20);
            }
        }

        Assert.Equal(Reads, completed);
        Assert.Equal((long)Reads * Length, bytes);
        await HostileHost.AssertServesCleanHostAsync(target, "pipelined reads");
    }
}
