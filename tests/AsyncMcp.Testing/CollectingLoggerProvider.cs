using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AsyncMcp.Testing;

/// <summary>Keeps every log entry at or above a level, so tests can check that bad input was logged.</summary>
public sealed class CollectingLoggerProvider(LogLevel minimum = LogLevel.Information) : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    /// <summary>A logger factory whose loggers log here only.</summary>
    public ILoggerFactory ToLoggerFactory() => new Factory(this);

    public void Dispose()
    {
    }

    private sealed class Collector(CollectingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Entries.Enqueue((logLevel, category, formatter(state, exception)));
            }
        }
    }

    private readonly LogLevel _minimum = minimum;

    private sealed class Factory(CollectingLoggerProvider owner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => owner.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("This factory logs to its collector only.");

        public void Dispose()
        {
        }
    }
}
