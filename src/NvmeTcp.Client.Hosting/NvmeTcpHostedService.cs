using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace NvmeTcp.Client.Hosting;

/// <summary>
/// Connects every configured controller in the background (start-up does not wait for the targets), connects again
/// after a failed attempt or once a controller was deleted (ctrl_loss_tmo), and shuts them down in order when the host
/// stops.
/// </summary>
internal sealed partial class NvmeTcpHostedService(
    IOptions<NvmeTcpHostingOptions> options,
    NvmeControllers controllers,
    ILoggerFactory loggerFactory) : BackgroundService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<NvmeTcpHostedService>();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(options.Value.Controllers.Select(c => KeepConnectedAsync(c.Key, c.Value, stoppingToken)));

    private async Task KeepConnectedAsync(string name, NvmeControllerSettings settings, CancellationToken stoppingToken)
    {
        var nvmeOptions = settings.ToOptions();
        nvmeOptions.LoggerFactory = loggerFactory;
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            attempt++;
            NvmeController controller;
            try
            {
                controller = await NvmeController.ConnectAsync(nvmeOptions, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NvmeException or System.Net.Sockets.SocketException or IOException)
            {
                controllers.SetDisconnected(name, e.Message);
                LogConnectFailed(_logger, name, attempt, e.Message);
                if (!await DelayAsync(nvmeOptions, stoppingToken).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            attempt = 0;
            await using (controller.ConfigureAwait(false))
            {
                var deleted = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                controller.StateChanged += (_, e) =>
                {
                    if (e.Current == NvmeControllerState.Deleted)
                    {
                        deleted.TrySetResult(e.Reason?.Message ?? "deleted");
                    }
                };
                if (controller.State == NvmeControllerState.Deleted)
                {
                    deleted.TrySetResult("deleted");
                }

                controllers.SetConnected(name, controller);
                LogConnected(_logger, name, controller.SubsystemNqn, controller.RemoteEndPoint, controller.ControllerId);
                try
                {
                    var reason = await deleted.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
                    controllers.SetDisconnected(name, reason);
                    LogDeleted(_logger, name, reason);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    // The host is stopping: the controller is shut down in order as the using ends.
                    controllers.SetDisconnected(name, "the host is stopping");
                    return;
                }
            }

            if (!await DelayAsync(nvmeOptions, stoppingToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private static async Task<bool> DelayAsync(NvmeTcpOptions options, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(options.ReconnectDelay, options.TimeProvider, stoppingToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "NVMe controller '{Name}' connected: {SubsystemNqn} at {EndPoint}, controller {ControllerId}")]
    private static partial void LogConnected(ILogger logger, string name, string subsystemNqn, System.Net.EndPoint endPoint, int controllerId);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "NVMe controller '{Name}': connect attempt {Attempt} failed: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string name, int attempt, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "NVMe controller '{Name}' was deleted ({Reason}); connecting anew")]
    private static partial void LogDeleted(ILogger logger, string name, string reason);
}
