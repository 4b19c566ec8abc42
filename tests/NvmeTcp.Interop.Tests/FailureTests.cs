using System.Diagnostics;
using NvmeTcp.Client;
using NvmeTcp.Interop.Tests.Harness;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// Failures of a real Linux target (docs/FAULTS.md row 36): a VM of its own, killed with queue-depth-32 I/O in flight.
/// Every command must complete, with an error, within a bound; none may hang, none may report success it did not get.
/// </summary>
public sealed class FailureTests(NvmetVms vms)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Target_killed_during_queue_depth_32_io_completes_every_command_with_an_error()
    {
        var output = TestContext.Current.TestOutputHelper;
        var image = vms.GetImage("6.12");
        await using var vm = await NvmetVm.StartAsync(image, Path.Combine(AppContext.BaseDirectory, "vm-logs", "killed"), TimeSpan.FromSeconds(120), 600, line => output?.WriteLine(line));
        var options = new NvmeTcpOptions
        {
            Address = "127.0.0.1",
            Port = vm.Port,
            SubsystemNqn = NvmetTarget.InteropNqn,
            HostNqn = NvmetTarget.HostNqn,
            IoQueueCount = 2,
            IoQueueSize = 32,
            ControllerLossTimeout = TimeSpan.Zero,
        };
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var completed = 0L;
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // 32 callers, each keeping one 4 KiB write or read outstanding until its command fails.
        var callers = Enumerable.Range(0, 32).Select(caller => Task.Run(async () =>
        {
            var queue = controller.IoQueues[caller % 2];
            var buffer = new byte[4096];
            var lba = (ulong)(caller * 8);
            for (var i = 0; i < 100_000 && !stop.IsCancellationRequested; i++)
            {
                try
                {
                    if (i % 2 == 0)
                    {
                        await queue.WriteAsync(ns, lba, buffer);
                    }
                    else
                    {
                        await queue.ReadAsync(ns, lba, buffer);
                    }

                    Interlocked.Increment(ref completed);
                }
                catch (NvmeException e)
                {
                    return (Error: (Exception)e, At: Stopwatch.GetTimestamp());
                }
            }

            return (Error: (Exception)new InvalidOperationException("no failure seen"), At: Stopwatch.GetTimestamp());
        })).ToArray();

        // Let I/O run, then kill QEMU (SIGKILL): the guest's TCP stack vanishes mid-stream.
        while (Interlocked.Read(ref completed) < 2000 && !stop.IsCancellationRequested)
        {
            await Task.Delay(50);
        }

        var before = Interlocked.Read(ref completed);
        var killedAt = Stopwatch.GetTimestamp();
        vm.Kill();
        var results = await Task.WhenAll(callers).WaitAsync(Bound);
        var slowest = TimeSpan.FromTicks((long)((results.Max(r => r.At) - killedAt) * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency)));
        output?.WriteLine($"{before} I/Os before the kill; every one of 32 callers saw its error within {slowest.TotalMilliseconds:0} ms");

        Assert.True(before >= 2000, $"only {before} I/Os completed before the kill");
        Assert.All(results, r => Assert.True(r.Error is NvmeTransportException or NvmeTimeoutException, r.Error.ToString()));
        Assert.True(slowest < Bound, $"the last caller saw its error {slowest} after the kill");
        for (var i = 0; i < 200 && controller.State != NvmeControllerState.Deleted; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(NvmeControllerState.Deleted, controller.State);
    }
}
