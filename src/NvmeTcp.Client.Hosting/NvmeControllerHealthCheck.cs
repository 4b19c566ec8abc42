using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace NvmeTcp.Client.Hosting;

/// <summary>
/// The health of one named controller: Healthy while live, Degraded while it resets or reconnects (I/O waits), Unhealthy
/// when it is not connected or was deleted. The data gives the state, the controller ID and the target.
/// </summary>
internal sealed class NvmeControllerHealthCheck(NvmeControllers controllers, string name) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (controllers.Find(name) is not { } controller)
        {
            var error = controllers.LastError(name);
            return Task.FromResult(new HealthCheckResult(
                context.Registration.FailureStatus,
                error is null ? $"'{name}' is not connected yet." : $"'{name}' is not connected: {error}",
                data: new Dictionary<string, object> { ["state"] = "NotConnected" }));
        }

        var state = controller.State;
        var data = new Dictionary<string, object>
        {
            ["state"] = state.ToString(),
            ["controller_id"] = (int)controller.ControllerId,
            ["endpoint"] = controller.RemoteEndPoint.ToString() ?? string.Empty,
            ["subsystem_nqn"] = controller.SubsystemNqn,
        };
        var result = state switch
        {
            NvmeControllerState.Live => HealthCheckResult.Healthy($"'{name}' is live.", data),
            NvmeControllerState.Resetting or NvmeControllerState.Connecting => HealthCheckResult.Degraded($"'{name}' is reconnecting ({state}).", data: data),
            _ => new HealthCheckResult(context.Registration.FailureStatus, $"'{name}' is {state}.", data: data),
        };
        return Task.FromResult(result);
    }
}
