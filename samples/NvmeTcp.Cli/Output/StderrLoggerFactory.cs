using Microsoft.Extensions.Logging;

namespace NvmeTcp.Cli.Output;

/// <summary>A minimal logger for --verbose: one line per event on stderr, no dependency beyond the abstractions.</summary>
internal sealed class StderrLoggerFactory(TextWriter writer, LogLevel minimum) : ILoggerFactory
{
    private readonly Lock _lock = new();

    private LogLevel Minimum => minimum;

    public ILogger CreateLogger(string categoryName) => new StderrLogger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Write(string line)
    {
        lock (_lock)
        {
            writer.WriteLine(line);
        }
    }

    private sealed class StderrLogger(StderrLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.Minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var text = $"{DateTime.Now:HH:mm:ss.fff} {Short(logLevel)} {category}: {formatter(state, exception)}";
            owner.Write(exception is null ? text : $"{text}{Environment.NewLine}{exception}");
        }

        private static string Short(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
