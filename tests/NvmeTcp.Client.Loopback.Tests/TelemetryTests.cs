using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>The meter's instruments and the activity source, through MetricCollector and an ActivityListener.</summary>
/// <remarks>Not run beside other tests: the meter and the source are process-wide, and counts here are exact.</remarks>
[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryTests
{
    private static MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(null, NvmeTcpTelemetry.MeterName, instrument);

    private static bool OnPort(CollectedMeasurement<double> m, NvmeTcpTarget target) => Equals(m.Tags["server.port"], target.EndPoint.Port);

    [Fact]
    public async Task Io_duration_and_bytes_are_recorded_with_operation_outcome_and_queue()
    {
        using var duration = Collect<double>("nvme.client.operation.duration");
        using var bytes = Collect<long>("nvme.client.io.size");
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        var queue = controller.IoQueues[0];
        await queue.WriteAsync(ns, 0, Pattern(4096, 1)).AsTask().WaitAsync(Bound);
        await queue.ReadAsync(ns, 0, new byte[8192]).AsTask().WaitAsync(Bound);
        await queue.FlushAsync(ns).AsTask().WaitAsync(Bound);

        var mine = duration.GetMeasurementSnapshot().Where(m => OnPort(m, target)).ToList();
        Assert.Equal(["write", "read", "flush"], mine.Select(m => (string)m.Tags["nvme.operation.name"]!));
        Assert.All(mine, m => Assert.Equal("success", m.Tags["nvme.outcome"]));
        Assert.All(mine, m => Assert.Equal((int)queue.QueueId, m.Tags["nvme.queue.id"]));
        Assert.All(mine, m => Assert.True(m.Value > 0 && m.Value < Bound.TotalSeconds));
        Assert.All(mine, m => Assert.False(m.Tags.ContainsKey("nvme.lba")));
        Assert.Equal("s", duration.Instrument!.Unit);

        var sizes = bytes.GetMeasurementSnapshot().Where(m => Equals(m.Tags["server.port"], target.EndPoint.Port)).ToList();
        Assert.Equal(4096, sizes.Where(m => (string)m.Tags["nvme.io.direction"]! == "write").Sum(m => m.Value));
        Assert.Equal(8192, sizes.Where(m => (string)m.Tags["nvme.io.direction"]! == "read").Sum(m => m.Value));
        Assert.Equal("By", bytes.Instrument!.Unit);
    }

    [Fact]
    public async Task A_failed_io_is_tagged_with_its_status_name_and_counted_as_an_error()
    {
        using var duration = Collect<double>("nvme.client.operation.duration");
        using var errors = Collect<long>("nvme.client.errors");
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        await Assert.ThrowsAsync<NvmeStatusException>(async () => await controller.IoQueues[0].ReadAsync(ns, ns.BlockCount, new byte[512]).AsTask().WaitAsync(Bound));

        var failed = Assert.Single(duration.GetMeasurementSnapshot(), m => OnPort(m, target));
        Assert.Equal("error", failed.Tags["nvme.outcome"]);
        Assert.Equal("LBA Out of Range", failed.Tags["error.type"]);
        var error = Assert.Single(errors.GetMeasurementSnapshot());
        Assert.Equal("LBA Out of Range", error.Tags["error.type"]);
        Assert.Equal("read", error.Tags["nvme.operation.name"]);
    }

    [Fact]
    public async Task Connections_state_changes_and_in_flight_per_queue_are_reported()
    {
        using var connections = Collect<long>("nvme.client.connections");
        using var states = Collect<long>("nvme.client.state_changes");
        using var inFlight = Collect<int>("nvme.client.commands.in_flight");
        await using var target = await StartAsync();
        var controller = await NvmeController.ConnectAsync(ClientOptions(target, queues: 3)).WaitAsync(Bound);
        await using (controller)
        {
            Assert.Equal(1, connections.GetMeasurementSnapshot().Where(m => (string)m.Tags["nvme.queue.type"]! == "admin").Sum(m => m.Value));
            Assert.Equal(3, connections.GetMeasurementSnapshot().Where(m => (string)m.Tags["nvme.queue.type"]! == "io").Sum(m => m.Value));
            Assert.Equal(["live"], states.GetMeasurementSnapshot().Select(m => (string)m.Tags["nvme.controller.state"]!));

            inFlight.RecordObservableInstruments();
            var queues = inFlight.GetMeasurementSnapshot().Where(m => (string)m.Tags["server.address"]! == "127.0.0.1").ToList();
            Assert.Equal([1, 2, 3], queues.Select(m => (int)m.Tags["nvme.queue.id"]!).Order());
            Assert.All(queues, m => Assert.Equal(0, m.Value));
        }

        Assert.Equal(["live", "deleting", "deleted"], states.GetMeasurementSnapshot().Select(m => (string)m.Tags["nvme.controller.state"]!));
        inFlight.Clear();
        inFlight.RecordObservableInstruments();
        Assert.Empty(inFlight.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_reconnect_is_counted_and_traced()
    {
        using var reconnects = Collect<long>("nvme.client.reconnects");
        using var activities = new Activities(ActivitySamplingResult.AllDataAndRecorded);
        await using var target = await StartAsync();
        var options = ClientOptions(target);
        options.ReconnectDelay = TimeSpan.FromMilliseconds(50);
        await using var controller = await NvmeController.ConnectAsync(options).WaitAsync(Bound);
        var ns = controller.GetNamespace(1);
        target.Testing.Faults.Add(new NvmeTargetFault { QueueId = 1, Pdu = NvmeFaultPdu.CapsuleResp, Action = NvmeFaultAction.Reset, Count = 1 });
        await Assert.ThrowsAsync<NvmeTransportException>(async () => await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound));
        await controller.IoQueues[0].FlushAsync(ns).AsTask().WaitAsync(Bound);

        var attempt = Assert.Single(reconnects.GetMeasurementSnapshot());
        Assert.Equal("success", attempt.Tags["nvme.outcome"]);
        var traced = Assert.Single(activities.Stopped, a => a.OperationName == "nvme reconnect");
        Assert.Equal(1, traced.GetTagItem("nvme.reconnect.attempt"));
        Assert.Equal(target.EndPoint.Port, traced.GetTagItem("server.port"));
        Assert.Contains(activities.Stopped, a => a.OperationName == "nvme bring-up" && a.Parent == traced);
    }

    [Fact]
    public async Task Connect_bring_up_admin_and_sampled_io_are_traced_with_OpenTelemetry_attribute_names()
    {
        using var activities = new Activities(ActivitySamplingResult.AllDataAndRecorded);
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        await controller.GetSmartLogAsync().WaitAsync(Bound);
        await Assert.ThrowsAsync<NvmeStatusException>(() => controller.GetLogPageAsync(0xBF, 512).WaitAsync(Bound));
        await controller.IoQueues[0].ReadAsync(controller.GetNamespace(1), 0, new byte[512]).AsTask().WaitAsync(Bound);

        var connect = Assert.Single(activities.Stopped, a => a.OperationName == "nvme connect");
        Assert.Equal(ActivityKind.Client, connect.Kind);
        Assert.Equal("127.0.0.1", connect.GetTagItem("server.address"));
        Assert.Equal(target.EndPoint.Port, connect.GetTagItem("server.port"));
        Assert.Equal(Nqn, connect.GetTagItem("nvme.subsystem.nqn"));
        Assert.Contains(activities.Stopped, a => a.OperationName == "nvme bring-up" && a.Parent == connect);

        var admin = activities.Stopped.Where(a => a.OperationName == "nvme admin").ToList();
        Assert.Contains(admin, a => (string)a.GetTagItem("nvme.command.name")! == "Get Log Page" && a.Status == ActivityStatusCode.Unset);
        var refused = Assert.Single(admin, a => a.Status == ActivityStatusCode.Error);
        Assert.Equal("Get Log Page", refused.GetTagItem("nvme.command.name"));
        Assert.NotNull(refused.GetTagItem("error.type"));

        var read = Assert.Single(activities.Stopped, a => a.OperationName == "nvme read");
        Assert.Equal(512, read.GetTagItem("nvme.io.size"));
    }

    [Fact]
    public async Task Io_gets_no_activity_when_the_listener_does_not_sample_it()
    {
        using var activities = new Activities(ActivitySamplingResult.None);
        await using var target = await StartAsync();
        await using var controller = await NvmeController.ConnectAsync(ClientOptions(target)).WaitAsync(Bound);
        await controller.IoQueues[0].ReadAsync(controller.GetNamespace(1), 0, new byte[512]).AsTask().WaitAsync(Bound);
        Assert.Empty(activities.Started);
    }

    /// <summary>Collects the library's activities, sampled as the test asks.</summary>
    private sealed class Activities : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<Activity> _started = new();
        private readonly ConcurrentQueue<Activity> _stopped = new();

        public Activities(ActivitySamplingResult sampling)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = s => s.Name == NvmeTcpTelemetry.ActivitySourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => sampling,
                ActivityStarted = _started.Enqueue,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> Started => [.. _started];

        public IReadOnlyList<Activity> Stopped => [.. _stopped];

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>Tests that read the process-wide meter and source run alone.</summary>
[CollectionDefinition(nameof(TelemetryCollection), DisableParallelization = true)]
public sealed class TelemetryCollection;
