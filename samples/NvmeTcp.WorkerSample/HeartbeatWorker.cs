using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using NvmeTcp.Client;
using NvmeTcp.Client.Hosting;

namespace NvmeTcp.WorkerSample;

/// <summary>Every 5 s: writes a line at byte 100 of the first namespace through a Stream, reads it back, logs the health.</summary>
internal sealed partial class HeartbeatWorker(NvmeControllers controllers, HealthCheckService health, ILogger<HeartbeatWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        var beat = 0;
        do
        {
            var report = await health.CheckHealthAsync(stoppingToken);
            LogHealth(logger, report.Status);
            if (controllers.Find("primary") is not { } controller || controller.Namespaces.Count == 0)
            {
                continue;
            }

            try
            {
                await using var volume = new NvmeNamespaceStream(controller, controller.Namespaces[0]);
                var line = Encoding.UTF8.GetBytes($"heartbeat {++beat} at {DateTimeOffset.UtcNow:O}\n");
                await volume.WriteAtAsync(100, line, stoppingToken);
                var back = new byte[line.Length];
                await volume.ReadAtAsync(100, back, stoppingToken);
                var text = Encoding.UTF8.GetString(back).TrimEnd();
                LogBeat(logger, text);
            }
            catch (NvmeException e)
            {
                LogFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health: {Status}")]
    private static partial void LogHealth(ILogger logger, HealthStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Read back: {Line}")]
    private static partial void LogBeat(ILogger logger, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
