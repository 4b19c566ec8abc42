using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NvmeTcp.Client.Hosting;
using NvmeTcp.Target;

namespace NvmeTcp.Client.Hosting.Tests;

/// <summary>AddNvmeTcp in a real Host against the in-process target: configuration, start-up validation, logging, health.</summary>
public sealed class HostingTests
{
    private const string Nqn = "nqn.2026-12.dev.nvmetcp:hosting";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static async Task<NvmeTcpTarget> StartTargetAsync()
    {
        var subsystem = new NvmeSubsystemOptions(Nqn);
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1 << 20, 512));
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options.Subsystems.Add(subsystem);
        return await NvmeTcpTarget.StartAsync(options);
    }

    private static IHost BuildHost(Dictionary<string, string?> settings, CapturingLoggerProvider logs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddNvmeTcp(builder.Configuration.GetSection("NvmeTcp"));
        return builder.Build();
    }

    private static Dictionary<string, string?> Settings(NvmeTcpTarget target) => new()
    {
        ["NvmeTcp:Controllers:primary:Address"] = "127.0.0.1",
        ["NvmeTcp:Controllers:primary:Port"] = target.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["NvmeTcp:Controllers:primary:SubsystemNqn"] = Nqn,
        ["NvmeTcp:Controllers:primary:IoQueueCount"] = "2",
        ["NvmeTcp:Controllers:primary:ReconnectDelay"] = "00:00:00.2",
        ["NvmeTcp:Controllers:primary:ControllerLossTimeout"] = "00:00:01",
        ["NvmeTcp:Controllers:primary:HostNqn"] = "nqn.2026-12.dev.nvmetcp:hosting-host",
    };

    private static async Task<HealthReportEntry> WaitForHealthAsync(IHost host, HealthStatus wanted)
    {
        var health = host.Services.GetRequiredService<HealthCheckService>();
        HealthReport report = null!;
        for (var i = 0; i < 300; i++)
        {
            report = await health.CheckHealthAsync(TestContext.Current.CancellationToken);
            if (report.Entries.TryGetValue("nvmetcp:primary", out var entry) && entry.Status == wanted)
            {
                return entry;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"nvmetcp:primary never became {wanted}: {string.Join(", ", report.Entries.Select(e => $"{e.Key}={e.Value.Status} {e.Value.Description}"))}");
        return default;
    }

    [Fact]
    public async Task Configured_controller_connects_with_the_apps_logging_and_health_follows_the_target()
    {
        var target = await StartTargetAsync();
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(Settings(target), logs);
        await host.StartAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        try
        {
            var controllers = host.Services.GetRequiredService<NvmeControllers>();
            Assert.Equal(["primary"], controllers.Names);
            var controller = await controllers.WaitAsync("primary", TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
            Assert.Equal("nqn.2026-12.dev.nvmetcp:hosting-host", controller.HostNqn);
            Assert.Equal(2, controller.IoQueues.Count);
            var data = new byte[512];
            await controller.NextIoQueue().ReadAsync(controller.Namespaces[0], 0, data).AsTask().WaitAsync(Bound, TestContext.Current.CancellationToken);

            var healthy = await WaitForHealthAsync(host, HealthStatus.Healthy);
            Assert.Equal("Live", healthy.Data["state"]);
            Assert.Contains(NvmeTcpServiceCollectionExtensions.HealthCheckTag, healthy.Tags);

            // The library logged through the host's logger factory.
            Assert.Contains(logs.Entries, e => e.Category == "NvmeTcp.Client.NvmeController" && e.Message.Contains("Connected to " + Nqn, StringComparison.Ordinal));
            Assert.Contains(logs.Entries, e => e.Category.EndsWith("NvmeTcpHostedService", StringComparison.Ordinal) && e.Message.Contains("'primary' connected", StringComparison.Ordinal));

            // The target goes: reconnecting (Degraded) and, past ctrl_loss_tmo, deleted (Unhealthy).
            await target.DisposeAsync();
            var unhealthy = await WaitForHealthAsync(host, HealthStatus.Unhealthy);
            Assert.Contains("primary", unhealthy.Description, StringComparison.Ordinal);
            Assert.Null(controllers.Find("primary"));
            Assert.Throws<InvalidOperationException>(() => controllers.Get("primary"));
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
            await target.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_hosted_service_connects_again_once_the_target_is_back()
    {
        await using var first = await StartTargetAsync();
        var port = first.EndPoint.Port;
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(Settings(first), logs);
        await host.StartAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        try
        {
            await WaitForHealthAsync(host, HealthStatus.Healthy);
            await first.DisposeAsync();
            await WaitForHealthAsync(host, HealthStatus.Unhealthy);

            // A new target on the same port: the service's next attempt finds it.
            var subsystem = new NvmeSubsystemOptions(Nqn);
            subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1 << 20, 512));
            var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, port) };
            options.Subsystems.Add(subsystem);
            await using var second = await NvmeTcpTarget.StartAsync(options);
            await WaitForHealthAsync(host, HealthStatus.Healthy);
            Assert.NotNull(host.Services.GetRequiredService<NvmeControllers>().Find("primary"));
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Secrets_from_configuration_authenticate_and_never_reach_the_logs()
    {
        const string HostNqn = "nqn.2026-12.dev.nvmetcp:hosting-host";
        var hostSecret = NvmeTcp.Protocol.Auth.DhchapSecret.Generate(32, 1);
        var controllerSecret = NvmeTcp.Protocol.Auth.DhchapSecret.Generate(48, 0);
        var subsystem = new NvmeSubsystemOptions(Nqn);
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1 << 20, 512));
        subsystem.HostAuthentication.Add(new NvmeHostAuthentication(HostNqn, hostSecret) { ControllerSecret = controllerSecret });
        var targetOptions = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        targetOptions.Subsystems.Add(subsystem);
        await using var target = await NvmeTcpTarget.StartAsync(targetOptions);

        var settings = Settings(target);
        settings["NvmeTcp:Controllers:primary:DhchapSecret"] = hostSecret.ToInterchangeString();
        settings["NvmeTcp:Controllers:primary:DhchapControllerSecret"] = controllerSecret.ToInterchangeString();
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(settings, logs);
        await host.StartAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        try
        {
            var controllers = host.Services.GetRequiredService<NvmeControllers>();
            var controller = await controllers.WaitAsync("primary", TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
            var data = new byte[512];
            await controller.NextIoQueue().ReadAsync(controller.Namespaces[0], 0, data).AsTask().WaitAsync(Bound, TestContext.Current.CancellationToken);
            var options = host.Services.GetRequiredService<IOptions<NvmeTcpHostingOptions>>().Value;
            Assert.DoesNotContain(hostSecret.ToInterchangeString(), options.Controllers["primary"].ToOptions().ToString() ?? string.Empty, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        }

        Assert.NotEmpty(logs.Entries);
        foreach (var secret in new[] { hostSecret.ToInterchangeString(), controllerSecret.ToInterchangeString() })
        {
            var base64 = secret.Split(':')[2];
            Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(base64, StringComparison.Ordinal));
        }

        // A malformed secret stops the start, named but not quoted.
        await AssertMalformedStopsTheStartAsync(target, "DhchapSecret", "DHHC-1:01:bm90LWEtdmFsaWQta2V5:");
    }

    private static async Task AssertMalformedStopsTheStartAsync(NvmeTcpTarget target, string setting, string malformed)
    {
        var bad = Settings(target);
        bad[$"NvmeTcp:Controllers:primary:{setting}"] = malformed;
        using var badHost = BuildHost(bad, new CapturingLoggerProvider());
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => badHost.StartAsync(TestContext.Current.CancellationToken));
        var failure = Assert.Single(error.Failures);
        Assert.StartsWith($"NvmeTcp:Controllers:primary: {setting}: ", failure, StringComparison.Ordinal);
        Assert.DoesNotContain(malformed.Split(':')[2], failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tls_key_from_configuration_runs_every_queue_in_tls_and_never_reaches_the_logs()
    {
        const string HostNqn = "nqn.2026-12.dev.nvmetcp:hosting-host";
        var key = NvmeTcp.Protocol.Tls.NvmeTlsKey.Generate(NvmeTcp.Protocol.Tls.NvmeTlsPskHash.Sha256);
        var subsystem = new NvmeSubsystemOptions(Nqn);
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1 << 20, 512));
        subsystem.TlsKeys.Add(new NvmeHostTlsKey(HostNqn, key) { IdentityVersion = 0 });
        var targetOptions = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), Tls = NvmeTargetTls.Required };
        targetOptions.Subsystems.Add(subsystem);
        await using var target = await NvmeTcpTarget.StartAsync(targetOptions);

        var settings = Settings(target);
        settings["NvmeTcp:Controllers:primary:TlsKey"] = key.ToInterchangeString();
        settings["NvmeTcp:Controllers:primary:TlsIdentityVersion"] = "0";
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(settings, logs);
        await host.StartAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        try
        {
            var controller = await host.Services.GetRequiredService<NvmeControllers>().WaitAsync("primary", TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
            var data = new byte[512];
            await controller.NextIoQueue().ReadAsync(controller.Namespaces[0], 0, data).AsTask().WaitAsync(Bound, TestContext.Current.CancellationToken);
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken).WaitAsync(Bound, TestContext.Current.CancellationToken);
        }

        Assert.True(target.Testing.TlsIcReqs >= 3, $"{target.Testing.TlsIcReqs} queues in TLS"); // the admin queue and 2 I/O queues
        Assert.Equal(0, target.Testing.PlainIcReqs);
        var base64 = key.ToInterchangeString().Split(':')[2];
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(base64, StringComparison.Ordinal));

        // A malformed key stops the start, named but not quoted.
        await AssertMalformedStopsTheStartAsync(target, "TlsKey", "NVMeTLSkey-1:07:bm90LWEtdmFsaWQta2V5:");
    }

    [Fact]
    public async Task Invalid_settings_fail_the_host_at_start_naming_each_problem()
    {
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(
            new Dictionary<string, string?>
            {
                ["NvmeTcp:Controllers:bad:Port"] = "70000",
                ["NvmeTcp:Controllers:bad:SubsystemNqn"] = Nqn,
                ["NvmeTcp:Controllers:worse:Address"] = "127.0.0.1",
                ["NvmeTcp:Controllers:worse:SubsystemNqn"] = Nqn,
                ["NvmeTcp:Controllers:worse:IoQueueSize"] = "1",
            },
            logs);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        Assert.Contains("NvmeTcp:Controllers:bad:Address is required.", error.Failures);
        Assert.Contains("NvmeTcp:Controllers:bad:Port must be 1 to 65535, not 70000.", error.Failures);
        Assert.Contains(error.Failures, f => f.StartsWith("NvmeTcp:Controllers:worse: IoQueueSize must be 2 to 4096", StringComparison.Ordinal));
    }

    [Fact]
    public void Settings_become_the_librarys_options()
    {
        var id = Guid.NewGuid();
        var options = new NvmeControllerSettings
        {
            Address = "192.0.2.1",
            Port = 4421,
            SubsystemNqn = Nqn,
            HostId = id,
            DataDigest = true,
            KeepAliveTimeout = TimeSpan.FromSeconds(7),
            FastIoFailTimeout = TimeSpan.FromSeconds(3),
            Concatenation = true,
        }.ToOptions();
        Assert.True(options.Concatenation);
        Assert.Null(options.Tls);
        Assert.Equal(("192.0.2.1", 4421, Nqn, id, NvmeHostIdentity.NqnOf(id)), (options.Address, options.Port, options.SubsystemNqn, options.HostId, options.HostNqn));
        Assert.True(options.DataDigest);
        Assert.Equal(TimeSpan.FromSeconds(7), options.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.FastIoFailTimeout);
        Assert.Equal(new NvmeTcpOptions().ReconnectDelay, options.ReconnectDelay);
    }

    /// <summary>Keeps every log entry, for asserting what went through the host's logger factory.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<(string Category, string Message)> _entries = new();

        public IReadOnlyList<(string Category, string Message)> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(string, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((category, formatter(state, exception)));
        }
    }
}
