using System.Collections.Concurrent;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>Every log line the app writes, formatted, with its structured state, for tests to search.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();

    public IReadOnlyCollection<CapturedLog> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<CapturedLog> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IEnumerable<KeyValuePair<string, object?>>;
            entries.Enqueue(new CapturedLog(category, logLevel, eventId, formatter(state, exception),
                values?.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()) ?? [], exception?.ToString()));
        }
    }
}

public sealed record CapturedLog(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, string?> State, string? Exception)
{
    public string AllText => $"{Category} {Message} {string.Join(' ', State.Select(kv => kv.Key + "=" + kv.Value))} {Exception}";
}
