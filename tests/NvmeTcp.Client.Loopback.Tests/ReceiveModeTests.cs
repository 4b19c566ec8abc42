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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_connect_nobody_answers_ends_at_the_connect_timeout_and_leaves_nothing(bool dedicated)
    {
        // A listener whose accept queue is full drops further SYNs (Linux), so the connect waits in SYN_SENT: the
        // blocking transport's connect(2) has to be ended by the deadline closing its socket.
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(0);
        var endPoint = (System.Net.IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<System.Net.Sockets.Socket>();
        try
        {
            // Fill the accept queue; stop at the first connect that does not complete at once.
            for (var i = 0; i < 8; i++)
            {
                var filler = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                fillers.Add(filler);
                var connect = filler.ConnectAsync(endPoint);
                if (await Task.WhenAny(connect, Task.Delay(300)) != connect)
                {
                    break;
                }
            }

            var resources = new ResourceCounters();
            var options = ShortConnectTimeout(endPoint.Port, dedicated, resources);
            var e = await Assert.ThrowsAsync<NvmeTimeoutException>(() => NvmeController.ConnectAsync(options).WaitAsync(LoopbackTarget.Bound));
            Assert.Contains("no connection", e.Message, StringComparison.Ordinal);
            await Leaks.AssertNoneAsync(resources);
        }
        finally
        {
            foreach (var filler in fillers)
            {
                filler.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_target_that_never_sends_its_icresp_is_a_timeout_and_leaves_nothing(bool dedicated)
    {
        // Accepts, reads the ICReq and says nothing: the blocking transport's read of the ICResp has no poll to time
        // out of, so the deadline has to close the socket under it.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var accepted = listener.AcceptSocketAsync();
        var resources = new ResourceCounters();
        var options = ShortConnectTimeout(((System.Net.IPEndPoint)listener.LocalEndpoint).Port, dedicated, resources);
        var e = await Assert.ThrowsAsync<NvmeTimeoutException>(() => NvmeController.ConnectAsync(options).WaitAsync(LoopbackTarget.Bound));
        Assert.Contains("no ICResp", e.Message, StringComparison.Ordinal);
        using var silent = await accepted.WaitAsync(LoopbackTarget.Bound);
        await Leaks.AssertNoneAsync(resources);
    }

    [Fact]
    public async Task The_blocking_transport_never_makes_its_descriptor_non_blocking()
    {
        // A descriptor made non-blocking even once (a non-blocking connect) stays so, and .NET then emulates each
        // blocking receive with its event loop: an epoll wake and a futex per receive, which this mode exists to avoid.
        // Linux's /proc/self/fdinfo shows the descriptor's flags (O_NONBLOCK is octal 04000).
        Assert.SkipUnless(OperatingSystem.IsLinux(), "reads /proc/self/fdinfo");
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var transport = await BlockingSocketTransport.ConnectAsync(listener.LocalEndpoint, CancellationToken.None).WaitAsync(LoopbackTarget.Bound);
        var fd = transport.DescriptorForTests;
        var flags = File.ReadLines($"/proc/self/fdinfo/{fd}").Single(l => l.StartsWith("flags:", StringComparison.Ordinal));
        var value = Convert.ToInt32(flags["flags:".Length..].Trim(), 8);
        Assert.True((value & 0x800) == 0, $"fd {fd} has O_NONBLOCK ({flags})");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_inline_continuation_blocked_on_its_own_next_command_does_not_deadlock_the_queue(bool dedicated)
    {
        // Sync-over-async on the thread that received: the flush's completion can only arrive through a receive. On a
        // receive thread, the timer (a tick of IoTimeout / 10, 300 ms here) hands the receiving to a new thread; on the
        // pool, the read was posted before the continuation ran. Either way, long before the 3 s command timeout.
        await using var target = await LoopbackTarget.StartAsync();
        var resources = new ResourceCounters();
        var options = InlineOptions(target, dedicated, resources, TimeSpan.FromSeconds(3));
        HoldFirstRead(target);
        await using (var controller = await NvmeController.ConnectAsync(options).WaitAsync(LoopbackTarget.Bound))
        {
            var ns = controller.GetNamespace(1);
            var queue = controller.IoQueues[0];
            var buffer = new byte[512];
            var (thread, flushed) = await Task.Run(async () =>
            {
                await queue.ReadAsync(ns, 0, buffer);
                var name = ThreadName();
#pragma warning disable xUnit1031
                return (name, queue.FlushAsync(ns).AsTask().Wait(LoopbackTarget.Bound));
#pragma warning restore xUnit1031
            }).WaitAsync(LoopbackTarget.Bound);
            Assert.Equal(dedicated ? "receive thread" : "pool", thread);
            Assert.True(flushed);

            // The queue goes on, on its new receive thread, with completions inline again.
            for (var i = 0; i < 16; i++)
            {
                await queue.ReadAsync(ns, (ulong)i, buffer).AsTask().WaitAsync(LoopbackTarget.Bound);
            }
        }

        await Leaks.AssertNoneAsync(resources);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Many_callers_some_blocking_inline_all_complete_with_their_data(bool dedicated)
    {
        // 16 callers on one queue; now and then one waits synchronously for its own next command on the thread that
        // completed it. Each such wait costs a tick (100 ms here) and, on a receive thread, a hand-over to a new one;
        // every read still returns its own data and nothing is left behind.
        await using var target = await LoopbackTarget.StartAsync();
        var resources = new ResourceCounters();
        var options = InlineOptions(target, dedicated, resources, TimeSpan.FromSeconds(1));
        await using (var controller = await NvmeController.ConnectAsync(options).WaitAsync(LoopbackTarget.Bound))
        {
            var ns = controller.GetNamespace(2);
            var queue = controller.IoQueues[0];
            var callers = Enumerable.Range(0, 16).Select(async c =>
            {
                var data = LoopbackTarget.Pattern(4096, c);
                var lba = (ulong)c * 8;
                await queue.WriteAsync(ns, lba, data);
                var back = new byte[data.Length];
                for (var i = 0; i < 24; i++)
                {
                    await queue.ReadAsync(ns, lba, back);
                    Assert.Equal(data, back);
                    if (i % 12 == 11 && c % 4 == 0)
                    {
#pragma warning disable xUnit1031
                        Assert.True(queue.ReadAsync(ns, lba, back).AsTask().Wait(LoopbackTarget.Bound));
#pragma warning restore xUnit1031
                        Assert.Equal(data, back);
                    }
                }
            }).ToArray();
            await Task.WhenAll(callers).WaitAsync(LoopbackTarget.Bound);
        }

        await Leaks.AssertNoneAsync(resources);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Dispose_ends_the_receive_loop_while_an_inline_continuation_still_blocks(bool dedicated)
    {
        // The continuation never returns before the dispose has finished: the failure itself has to take the parked
        // loop from the blocked thread, or the dispose would wait for a loop that cannot run.
        var target = await LoopbackTarget.StartAsync();
        await using var _ = target;
        var resources = new ResourceCounters();
        var options = InlineOptions(target, dedicated, resources);
        using var release = new ManualResetEventSlim();
        var entered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        HoldFirstRead(target);
        var controller = await NvmeController.ConnectAsync(options).WaitAsync(LoopbackTarget.Bound);
        var ns = controller.GetNamespace(1);
        var queue = controller.IoQueues[0];
        var blocked = Task.Run(async () =>
        {
            await queue.ReadAsync(ns, 0, new byte[512]);
            entered.SetResult(ThreadName());
            release.Wait(LoopbackTarget.Bound);
        });
        try
        {
            Assert.Equal(dedicated ? "receive thread" : "pool", await entered.Task.WaitAsync(LoopbackTarget.Bound));
            await controller.DisposeAsync().AsTask().WaitAsync(LoopbackTarget.Bound);
        }
        finally
        {
            release.Set();
        }

        await blocked.WaitAsync(LoopbackTarget.Bound);
        await Leaks.AssertNoneAsync(resources);
    }

    // A connect to a local port that does not answer in time: 500 ms, no reconnect.
    private static NvmeTcpOptions ShortConnectTimeout(int port, bool dedicated, ResourceCounters resources) => new()
    {
        Address = "127.0.0.1",
        Port = port,
        SubsystemNqn = LoopbackTarget.Nqn,
        DedicatedReceiveThreads = dedicated,
        ConnectTimeout = TimeSpan.FromMilliseconds(500),
        ControllerLossTimeout = TimeSpan.Zero,
        Resources = resources,
    };

    // One queue, completions inline, with or without the receive thread; IoTimeout sets the timer's tick (a tenth).
    private static NvmeTcpOptions InlineOptions(NvmeTcpTarget target, bool dedicated, ResourceCounters resources, TimeSpan? ioTimeout = null)
    {
        var options = LoopbackTarget.ClientOptions(target, queues: 1);
        options.DedicatedReceiveThreads = dedicated;
        options.InlineCompletions = true;
        options.IoTimeout = ioTimeout ?? options.IoTimeout;
        options.Resources = resources;
        return options;
    }

    // The first read's data is held back, so that its completion surely comes through the receiving thread (one that
    // arrives while the submitter is still in its send is released by the submitter, on the pool).
    private static void HoldFirstRead(NvmeTcpTarget target) =>
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.C2HData, Action = NvmeFaultAction.Delay, Delay = TimeSpan.FromMilliseconds(100), Count = 1 });

    private static string ThreadName() =>
        Thread.CurrentThread.Name?.StartsWith("nvmetcp rx q", StringComparison.Ordinal) == true ? "receive thread"
        : Thread.CurrentThread.IsThreadPoolThread ? "pool"
        : Thread.CurrentThread.Name ?? "unnamed";
}
