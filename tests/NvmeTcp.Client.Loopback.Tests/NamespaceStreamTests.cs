using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>A target with two small namespaces (512 and 4096-byte blocks) and a controller, shared by the stream tests.</summary>
public sealed class StreamTargetFixture : IAsyncLifetime
{
    public const int Size = 64 << 10;

    public NvmeTcpTarget Target { get; private set; } = null!;

    public NvmeController Controller { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Target = await StartAsync(subsystem: s =>
        {
            s.Namespaces.Add(new NvmeNamespaceOptions(3, Size, 512));
            s.Namespaces.Add(new NvmeNamespaceOptions(4, Size, 4096));
            s.Mdts = 1; // 8 KiB per command: larger transfers are split too
        });
        Controller = await NvmeController.ConnectAsync(ClientOptions(Target, queues: 2)).WaitAsync(Bound);
    }

    public async ValueTask DisposeAsync()
    {
        await Controller.DisposeAsync();
        await Target.DisposeAsync();
    }
}

/// <summary>NvmeNamespaceStream against a MemoryStream model: any offsets, any lengths, copies, concurrent edge writes.</summary>
public sealed class NamespaceStreamTests(StreamTargetFixture fixture) : IClassFixture<StreamTargetFixture>
{
    private const int Size = StreamTargetFixture.Size;

    /// <summary>One step: 0 read, 1 write, 2 copy from a source stream, 3 copy to a destination stream.</summary>
    public sealed record StreamOp(int Kind, int Offset, int Length, int BufferSize, int Seed)
    {
        public override string ToString() => $"{(new[] { "read", "write", "copy-from", "copy-to" })[Kind]} {Length} at {Offset} (buffer {BufferSize}, seed {Seed})";
    }

    private static readonly Gen<StreamOp> Steps =
        from kind in Gen.Choose(0, 3)
        from offset in Gen.Frequency((4, Gen.Choose(0, Size)), (1, Gen.Choose(0, 16).Select(b => b * 512)), (1, Gen.Choose(Size - 600, Size + 600)))
        from length in Gen.Frequency((3, Gen.Choose(0, 1100)), (2, Gen.Choose(0, 20000)), (1, Gen.Choose(1, 8).Select(b => b * 512)))
        from buffer in Gen.Choose(1, 6).Select(k => k * 700)
        from seed in Gen.Choose(0, int.MaxValue)
        select new StreamOp(kind, offset, length, buffer, seed);

    // Shrinks a failing sequence: first without one of its steps, then with one step made simpler (half as long, its
    // offset on a block boundary, the smallest copy buffer), so a failure is reported as a short sequence.
    private static IEnumerable<StreamOp[]> Shrink(StreamOp[] steps)
    {
        for (var i = 0; i < steps.Length; i++)
        {
            yield return [.. steps[..i], .. steps[(i + 1)..]];
        }

        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var simpler = new List<StreamOp>();
            if (step.Length > 0)
            {
                simpler.Add(step with { Length = step.Length / 2 });
            }

            if (step.Offset % 512 != 0)
            {
                simpler.Add(step with { Offset = step.Offset / 512 * 512 });
            }

            if (step.BufferSize > 700)
            {
                simpler.Add(step with { BufferSize = 700 });
            }

            foreach (var s in simpler)
            {
                var copy = (StreamOp[])steps.Clone();
                copy[i] = s;
                yield return copy;
            }
        }
    }

    private static readonly Arbitrary<StreamOp[]> Sequences = Arb.From(Gen.ListOf(Steps).Select(s => s.ToArray()), Shrink);

    // The whole check, shrinking included, is bounded by this; each case by LoopbackTarget.Bound.
    private static readonly TimeSpan PropertyBound = TimeSpan.FromMinutes(4);

    // A real FsCheck property, so a failing sequence of operations shrinks. Its body blocks on network I/O, which
    // stalled on the test thread (xUnit's synchronization context: the body's own continuations queued behind the
    // blocked thread), so the check runs on a thread of its own with no context, and the test awaits it, bounded.
    [Theory]
    [InlineData(3u, 60)]
    [InlineData(4u, 40)]
    public async Task Reads_writes_and_copies_at_any_offset_match_a_MemoryStream(uint nsid, int cases)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var property = Prop.ForAll(Sequences, steps =>
        {
            stop.Token.ThrowIfCancellationRequested();
            RunAsync(nsid, steps).WaitAsync(Bound, stop.Token).GetAwaiter().GetResult();
        });
        var config = Config.QuickThrowOnFailure.WithMaxTest(cases).WithEndSize(30).WithName($"namespace {nsid}");
        var checkedAll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Check.One(config, property);
                checkedAll.SetResult();
            }
            catch (Exception e)
            {
                checkedAll.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = $"stream property nsid {nsid}",
        };
        thread.Start();
        try
        {
            await checkedAll.Task.WaitAsync(PropertyBound, TestContext.Current.CancellationToken);
        }
        finally
        {
            // On timeout the body's next step fails at once, and so does every shrink after it: the thread ends.
            await stop.CancelAsync();
        }
    }

    private async Task RunAsync(uint nsid, StreamOp[] steps)
    {
        await using var stream = new NvmeNamespaceStream(fixture.Controller, fixture.Controller.GetNamespace(nsid));
        Assert.Equal(Size, stream.Length);
        var model = new byte[Size];
        Assert.Equal(Size, await stream.ReadAtAsync(0, model));

        foreach (var step in steps)
        {
            var data = Pattern(step.Length, step.Seed);
            var fits = step.Offset + step.Length <= Size;
            var expected = Math.Max(0, Math.Min(step.Length, Size - step.Offset));
            switch (step.Kind)
            {
                case 0:
                    var buffer = new byte[step.Length];
                    stream.Position = step.Offset;
                    var read = await stream.ReadAsync(buffer);
                    Assert.Equal(expected, read);
                    Assert.True(buffer.AsSpan(0, read).SequenceEqual(model.AsSpan(Math.Min(step.Offset, Size), read)), step.ToString());
                    Assert.Equal(step.Offset + read, stream.Position);
                    break;
                case 1:
                    stream.Seek(step.Offset - Size, SeekOrigin.End);
                    if (!fits && step.Length > 0)
                    {
                        await Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync(data));
                        break;
                    }

                    await stream.WriteAsync(data);
                    data.CopyTo(model, step.Offset);
                    Assert.Equal(step.Offset + step.Length, stream.Position);
                    break;
                case 2:
                    stream.Position = step.Offset;
                    if (!fits && step.Length > 0)
                    {
                        await Assert.ThrowsAsync<IOException>(() => stream.CopyFromAsync(new MemoryStream(data), step.Length, step.BufferSize, depth: 3));
                        break;
                    }

                    // The source is shorter than asked: the copy stops at its end.
                    var written = await stream.CopyFromAsync(new MemoryStream(data), step.Length + 100, step.BufferSize, depth: 3);
                    Assert.Equal(step.Length, written);
                    data.CopyTo(model, step.Offset);
                    Assert.Equal(step.Offset + step.Length, stream.Position);
                    break;
                default:
                    var destination = new MemoryStream();
                    stream.Position = step.Offset;
                    await stream.CopyToAsync(destination, step.Length, step.BufferSize, depth: 3);
                    Assert.Equal(expected, destination.Length);
                    Assert.True(destination.ToArray().AsSpan().SequenceEqual(model.AsSpan(Math.Min(step.Offset, Size), expected)), step.ToString());
                    break;
            }
        }

        var all = new MemoryStream();
        stream.Position = 0;
        await stream.CopyToAsync(all);
        Assert.True(all.ToArray().AsSpan().SequenceEqual(model), "the whole namespace differs from the model");
    }

    [Fact]
    public async Task Concurrent_unaligned_writes_sharing_edge_blocks_lose_nothing()
    {
        // 64 writes of 700 bytes side by side: neighbours share a 512-byte edge block, whose read-modify-write would
        // undo the other's bytes without the lock per edge block.
        await using var stream = new NvmeNamespaceStream(fixture.Controller, fixture.Controller.GetNamespace(3));
        var expected = Pattern(64 * 700, 77);
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => stream.WriteAtAsync(100 + (i * 700), expected.AsMemory(i * 700, 700)).AsTask())).WaitAsync(Bound);
        var back = new byte[expected.Length];
        Assert.Equal(back.Length, await stream.ReadAtAsync(100, back));
        Assert.Equal(expected, back);
    }

    [Fact]
    public async Task Flush_is_an_NVMe_Flush_and_the_stream_is_seekable_but_fixed_in_size()
    {
        await using var stream = new NvmeNamespaceStream(fixture.Controller, fixture.Controller.GetNamespace(3));
        // The commands the library sent, seen through its own metrics (tagged with this target's port).
        using var commands = new MetricCollector<double>(null, NvmeTcpTelemetry.MeterName, "nvme.client.operation.duration");
        await stream.FlushAsync();
        stream.Flush();
        var flushes = commands.GetMeasurementSnapshot().Where(m => Equals(m.Tags["server.port"], fixture.Target.EndPoint.Port)).ToList();
        Assert.Equal(["flush", "flush"], flushes.Select(m => (string)m.Tags["nvme.operation.name"]!));
        Assert.True(stream.CanSeek && stream.CanRead && stream.CanWrite);
        Assert.Throws<NotSupportedException>(() => stream.SetLength(10));
        Assert.Throws<IOException>(() => stream.Seek(-1, SeekOrigin.Begin));
        stream.Position = Size;
        Assert.Equal(0, await stream.ReadAsync(new byte[10]));
        stream.Write([1, 2, 3], 0, 0);
        Assert.Equal(Size, stream.Position);
    }
}
