using NvmeTcp.Protocol;
using NvmeTcp.Client.Transport;

using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>The docs/FAULTS.md rows that need a controller the in-process target cannot play: one that stops
/// reading.</summary>
public sealed class FaultScenarioTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    // docs/FAULTS.md rows 43 and 45: the controller asks for 8 MiB by R2T and then stops reading (zero window). The
    // command timeout fires, every write completes, Dispose completes; once a write has failed its caller overwrites
    // the buffer, and the bytes the controller finally reads never contain the new contents.
    [Fact]
    public async Task F43_F45_controller_that_stops_reading_times_out_and_never_sees_a_released_buffer()
    {
        await using var controller = ScriptedController.Start();
        var options = new QueueConnectionOptions
        {
            QueueId = 1,
            QueueSize = 16,
            InCapsuleDataSize = 0,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            CommandTimeout = TimeSpan.FromSeconds(1),
        };
        var connection = await controller.ConnectAsync(options);
        const int length = 1 << 20;
        const int Writes = 8;
        var buffers = Enumerable.Range(0, Writes).Select(i =>
        {
            var data = new byte[length];
            new Random(i).NextBytes(data);
            return data;
        }).ToArray();
        var writes = buffers.Select(data => connection.SubmitNoResultAsync(ReadWriteCommands.Write(1, 0, length / 512, length, false), CommandKind.Io, data, default, CancellationToken.None).AsTask()).ToArray();
        foreach (var _ in writes)
        {
            var (sqe, _) = await controller.ReadCommandAsync();
            await controller.SendR2TAsync(sqe.Cid, sqe.Cid, 0, length);
        }

        // The controller reads nothing more: the host's sends fill the socket buffers and stall.
        foreach (var write in writes)
        {
            var error = await Assert.ThrowsAnyAsync<NvmeException>(() => write.WaitAsync(Bound));
            Assert.True(error is NvmeTimeoutException or NvmeTransportException, error.ToString());
        }

        Assert.IsType<NvmeTimeoutException>(connection.Failure);
        foreach (var data in buffers)
        {
            data.AsSpan().Fill(0xEE);
        }

        await connection.DisposeAsync().AsTask().WaitAsync(Bound);
        var received = await controller.ReadUntilClosedAsync();
        Assert.True(received.Length < Writes * length, $"the send path never stalled ({received.Length} bytes got through)");
        var released = new byte[64];
        released.AsSpan().Fill(0xEE);
        Assert.True(received.AsSpan().IndexOf(released) < 0, "the controller received bytes written into a buffer after its command failed");
    }
}
