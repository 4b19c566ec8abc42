using NvmeTcp.Client.Transport;
using NvmeTcp.Target;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>
/// <see cref="NvmeTcpOptions.DedicatedReceiveThreads"/> and <see cref="NvmeTcpOptions.InlineCompletions"/>: the same
/// I/O as the default path (writes and reads of sizes that take in-capsule data, R2T and several C2HData PDUs, with and
/// without digests), completions on the thread each setting promises, failures delivered to every pending command when
/// the target goes away, and nothing left behind (no socket, loop or slot) after dispose. The same against a target
/// with <see cref="NvmeTargetOptions.DedicatedReceiveThreads"/> (four queues, 64 callers).
/// </summary>
public sealed class ReceiveModeTests
{
    public static TheoryData<bool, bool, bool, bool> Modes => new()
    {
        { true, false, false, false },
        { false, true, false, false },
        { true, true, false, false },
        { true, true, true, false },
        { false, false, false, true },
        { true, true, false, true },
        { true, true, true, true },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Writes_and_reads_verify_and_complete_on_the_thread_the_options_promise(bool dedicated, bool inline, bool digests, bool targetThreads)
    {
        await using var target = await LoopbackTarget.StartAsync(t => t.DedicatedReceiveThreads = targetThreads);
        var resources = new ResourceCounters();
        var queues = targetThreads ? 4 : 2;
        var options = LoopbackTarget.ClientOptions(target, queues: queues, headerDigest: digests, dataDigest: digests);
        options.DedicatedReceiveThreads = dedicated;
        options.InlineCompletions = inline;
        options.Resources = resources;
        await using (var controller = await NvmeController.ConnectAsync(options).WaitAsync(LoopbackTarget.Bound))
        {
            var ns = controller.GetNamespace(2);
            var sizes = new[] { 4096, 8192, 65536, 256 * 1024 };
            var tasks = Enumerable.Range(0, 16 * queues).Select(async i =>
            {
                var queue = controller.IoQueues[i % controller.IoQueues.Count];
                var data = LoopbackTarget.Pattern(sizes[i % sizes.Length], i);
                var lba = (ulong)i * 64;
                await queue.WriteAsync(ns, lba, data);
                var back = new byte[data.Length];
                await queue.ReadAsync(ns, lba, back);
                var thread = Thread.CurrentThread;
                Assert.Equal(data, back);
                return (thread.Name, thread.IsThreadPoolThread);
            }).ToArray();
            var threads = await Task.WhenAll(tasks).WaitAsync(LoopbackTarget.Bound);
            Assert.Equal(targetThreads ? 1 + queues : 0, target.Testing.ReceiveThreadsStarted);

            // Where the code after `await ReadAsync` ran: on a queue's receive thread only with both options (not
            // always: when completions wait longer than a timer tick, the timer hands them to a pool thread, the safety
            // net for a continuation that blocks).
            if (dedicated && inline)
            {
                Assert.Contains(threads, t => t.Name?.StartsWith("nvmetcp rx q", StringComparison.Ordinal) == true);
            }
            else
            {
                Assert.All(threads, t => Assert.True(t.IsThreadPoolThread, $"ran on '{t.Name}'"));
            }
        }

        await Leaks.AssertNoneAsync(resources);
    }

    [Theory]
    [InlineData(true, false, false)]
    [InlineData(true, true, false)]
    [InlineData(true, true, true)]
    [InlineData(false, false, true)]
    public async Task Target_gone_fails_every_pending_command_and_the_receive_threads_end(bool dedicated, bool inline, bool targetThreads)
    {
        var target = await LoopbackTarget.StartAsync(t => t.DedicatedReceiveThreads = targetThreads);
        var resources = new ResourceCounters();
        var options = LoopbackTarget.ClientOptions(target, queues: 2);
        options.DedicatedReceiveThreads = dedicated;
        options.InlineCompletions = inline;
        options.ControllerLossTimeout = TimeSpan.Zero;
        options.Resources = resources;
        await using (var controller = await NvmeController.ConnectAsync(options).WaitAsync(LoopbackTarget.Bound))
        {
            var ns = controller.GetNamespace(1);
            // The reads' data is held at the target: they stay outstanding until the target goes.
            target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromMinutes(5), Count = 1 });
            target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 2, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromMinutes(5), Count = 1 });
            var pending = Enumerable.Range(0, 16).Select(i => controller.IoQueues[i % 2].ReadAsync(ns, (ulong)i * 8, new byte[4096]).AsTask()).ToArray();
            await target.DisposeAsync();
            foreach (var read in pending)
            {
                var e = await Assert.ThrowsAnyAsync<NvmeException>(() => read.WaitAsync(LoopbackTarget.Bound));
                Assert.IsType<NvmeTransportException>(e, exactMatch: false);
            }
        }

        await Leaks.AssertNoneAsync(resources);
    }

    [Fact]
    public async Task A_refused_connect_with_dedicated_receive_threads_fails_typed_and_leaves_nothing()
    {
        // A port nothing listens on: the blocking transport's non-blocking connect and poll see the refusal.
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var resources = new ResourceCounters();
        var options = new NvmeTcpOptions
        {
            Address = "127.0.0.1",
            Port = port,
            SubsystemNqn = LoopbackTarget.Nqn,
            DedicatedReceiveThreads = true,
            ControllerLossTimeout = TimeSpan.Zero,
            Resources = resources,
        };
        var e = await Assert.ThrowsAsync<NvmeTransportException>(() => NvmeController.ConnectAsync(options).WaitAsync(LoopbackTarget.Bound));
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        await Leaks.AssertNoneAsync(resources);
    }
}
