using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>Every log line at every level, from every category: what the no-secret-in-logs tests grep.</summary>
internal sealed class ListLogs : ILoggerFactory, ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue($"{logLevel} {eventId.Id} {formatter(state, exception)} {exception}");
}

/// <summary>Bounded waits for a controller's state (at most 10 s; then the assertion shows where it is).</summary>
internal static class TestWaits
{
    public static async Task WaitForStateAsync(NvmeController controller, NvmeControllerState state)
    {
        for (var i = 0; i < 400 && controller.State != state; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(state, controller.State);
    }
}
