using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AuthFunctions.HostLaunch;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// The real Azure Functions host running the built worker (AuthFunctions/bin/Release/net10.0), as <c>func start</c>
/// runs it: Core Tools' <c>func</c> where installed, else the host build in <c>../shared/functions-host</c> (installed
/// once into <c>artifacts/functions-host</c> by scripts/setup or here). App settings are environment variables with
/// <c>__</c>, as Azure sets them. The host's console (which carries the worker's logs) is captured line by line.
/// Ended by its process id (SIGTERM, then kill).
/// </summary>
public sealed partial class FunctionsHost : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _state;

    private FunctionsHost(Process process, int port, string state, HostLogs logs)
    {
        _process = process;
        _state = state;
        StateDirectory = state;
        Port = port;
        Logs = logs;
    }

    public int Port { get; }

    /// <summary>The host's own files for this instance (FH_STATE: file-based secrets, logs).</summary>
    public string StateDirectory { get; }

    public HostLogs Logs { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The built worker the host runs.</summary>
    public static string WorkerOutput => Path.Combine(RepositoryRoot.Path, "AuthFunctions", "bin", "Release", "net10.0");

    /// <summary>Starts a host on a free port with <paramref name="environment"/> (null values unset) and waits until it routes to the worker.</summary>
    /// <param name="workerOutput">The worker's build or publish output; the solution's Release build by default.</param>
    /// <param name="port">A port chosen beforehand (an app whose own address is one of its settings); a free one by default.</param>
    public static async Task<FunctionsHost> StartAsync(IReadOnlyDictionary<string, string?> environment, TimeSpan? timeout = null, string? workerOutput = null, int? port = null)
    {
        int chosenPort = port ?? FreePort.Next();
        string state = Path.Combine(Path.GetTempPath(), "authfunctions-fh", Guid.NewGuid().ToString("N")[..12]);
        var start = await StartInfoAsync(chosenPort, state, workerOutput ?? WorkerOutput);
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        var logs = new HostLogs();
        var process = Process.Start(start) ?? throw new InvalidOperationException("The Functions host did not start.");
        process.OutputDataReceived += (_, line) => logs.Add(line.Data);
        process.ErrorDataReceived += (_, line) => logs.Add(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var host = new FunctionsHost(process, chosenPort, state, logs);
        try
        {
            await host.WaitUntilReadyAsync(timeout ?? TimeSpan.FromSeconds(90));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    /// <summary>Ready when the host routes to the worker: the openapi function (no storage, no limits) answers 200.</summary>
    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(20) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The Functions host exited ({_process.ExitCode}) before it was ready:\n{Logs.Tail(40)}");
            }
            try
            {
                using var response = await client.GetAsync("/api/openapi.json");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The Functions host did not route to the worker within {timeout.TotalSeconds} s:\n{Logs.Tail(40)}");
    }

    private static async Task<ProcessStartInfo> StartInfoAsync(int port, string state, string workerOutput)
    {
        var command = await FunctionsHostCommand.LocateAsync(RepositoryRoot.Path);
        var start = command.StartInfo(workerOutput, port, state);
        // Every host of a run would otherwise take the same host id (machine and app folder) and so share the timer's
        // schedule lock in the one Azurite: one instance's timer would hold back every other's.
        start.Environment["AzureFunctionsWebHost__hostid"] = "t" + Guid.NewGuid().ToString("N")[..30];
        start.Environment["AZURE_FUNCTIONS_ENVIRONMENT"] = "Testing";
        start.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        // The host's own framework lines at Warning; our functions' lines (the worker's) at Information.
        start.Environment["AzureFunctionsJobHost__logging__logLevel__default"] = "Warning";
        start.Environment["AzureFunctionsJobHost__logging__logLevel__Function"] = "Information";
        start.Environment["AzureFunctionsJobHost__logging__logLevel__Host.Function.Console"] = "Information";
        return start;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>SIGTERM (the host stops its worker), then kill after 10 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = SendSignal(_process.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// The host's console, one entry per log record (its header line <c>info: Category[EventId]</c> and the indented
/// lines below it): the host's own records and the worker's, which the host prints under their categories.
/// </summary>
public sealed partial class HostLogs
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private readonly Lock _lock = new();
    private (string Category, LogLevel Level, int EventId, List<string> Lines)? _current;
    private readonly ConcurrentQueue<string> _raw = new();

    /// <summary>Every complete record so far, and the one being printed now (without taking it: its next lines still join it).</summary>
    public IReadOnlyCollection<CapturedLog> Entries
    {
        get
        {
            lock (_lock)
            {
                return _current is { } current ? [.. _entries, ToEntry(current)] : [.. _entries];
            }
        }
    }

    /// <summary>
    /// Waits until a record matching <paramref name="match"/> has been printed (the worker's records reach the host's log
    /// over its channel, after the answer that caused them), failing after <paramref name="timeout"/> (10 s).
    /// </summary>
    public async Task<CapturedLog> WaitForAsync(Func<CapturedLog, bool> match, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (Entries.FirstOrDefault(match) is { } found)
            {
                return found;
            }
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException("the expected log record was not printed in time");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Every line the host printed, as printed.</summary>
    public string AllText => string.Join('\n', _raw);

    public string Tail(int lines) => string.Join('\n', _raw.TakeLast(lines));

    internal void Add(string? line)
    {
        if (line is null)
        {
            return;
        }
        _raw.Enqueue(line);
        lock (_lock)
        {
            var header = Header().Match(line);
            if (header.Success)
            {
                FlushLocked();
                _current = (header.Groups[2].Value, Level(header.Groups[1].Value), int.Parse(header.Groups[3].Value, CultureInfo.InvariantCulture), []);
            }
            else if (_current is { } current)
            {
                current.Lines.Add(line.Trim());
            }
        }
    }

    private void FlushLocked()
    {
        if (_current is { } done)
        {
            _entries.Enqueue(ToEntry(done));
            _current = null;
        }
    }

    private static CapturedLog ToEntry((string Category, LogLevel Level, int EventId, List<string> Lines) record)
    {
        string message = string.Join('\n', record.Lines);
        // The worker's console (records written outside an invocation), one line each: "warn: Category[EventId] message".
        if (record.Category == "Host.Function.Console" && WorkerConsoleLine().Match(message) is { Success: true } line)
        {
            var recovered = LogTemplates.Match(line.Groups[4].Value);
            return new CapturedLog(line.Groups[2].Value, Level(line.Groups[1].Value),
                new EventId(int.Parse(line.Groups[3].Value, CultureInfo.InvariantCulture), recovered?.Id.Name), line.Groups[4].Value,
                recovered?.State ?? new Dictionary<string, string?>(), null);
        }
        // The host prints a worker's record under Function.<name>.User without its event id or structured values:
        // they are recovered from our own [LoggerMessage] templates, which the message was formatted from.
        var (category, eventId, state) = record.EventId == 0 && LogTemplates.Match(message) is { } known
            ? known
            : (record.Category, new EventId(record.EventId), new Dictionary<string, string?>());
        return new CapturedLog(category, record.Level, eventId, message, state, null);
    }

    private static LogLevel Level(string prefix) => prefix switch
    {
        "trce" => LogLevel.Trace,
        "dbug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" => LogLevel.Warning,
        "fail" => LogLevel.Error,
        _ => LogLevel.Critical,
    };

    [GeneratedRegex(@"^(trce|dbug|info|warn|fail|crit): (.+?)\[(\d+)\]\s*$")]
    private static partial Regex Header();

    [GeneratedRegex(@"^(trce|dbug|info|warn|fail|crit): (\S+?)\[(\d+)\] (.*)$", RegexOptions.Singleline)]
    private static partial Regex WorkerConsoleLine();
}

/// <summary>The app's own <c>[LoggerMessage]</c> templates (worker and services), as patterns that give back a formatted message's event id and values.</summary>
internal static partial class LogTemplates
{
    private static readonly Lazy<IReadOnlyList<(string Category, EventId Id, Regex Pattern, string[] Names)>> Templates = new(Load);

    /// <summary>The logger category (the declaring class, as <c>ILogger&lt;T&gt;</c> names it), event id and values of a message formatted from one of our templates.</summary>
    public static (string Category, EventId Id, Dictionary<string, string?> State)? Match(string message)
    {
        foreach (var (category, id, pattern, names) in Templates.Value)
        {
            var match = pattern.Match(message);
            if (match.Success)
            {
                var state = new Dictionary<string, string?>();
                for (int i = 0; i < names.Length; i++)
                {
                    state[names[i]] = match.Groups[i + 1].Value;
                }
                return (category, id, state);
            }
        }
        return null;
    }

    private static List<(string, EventId, Regex, string[])> Load()
    {
        var found = new List<(string, EventId, Regex, string[])>();
        var assemblies = new[] { typeof(AuthFunctions.Http.FunctionCatalog).Assembly, typeof(AuthFunctions.CoreServices).Assembly };
        var flags = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Instance;
        foreach (var method in assemblies.SelectMany(a => a.GetTypes()).SelectMany(t => t.GetMethods(flags)))
        {
            if (method.GetCustomAttributes(typeof(LoggerMessageAttribute), false).FirstOrDefault() is not LoggerMessageAttribute { Message: { Length: > 0 } template } attribute)
            {
                continue;
            }
            var names = new List<string>();
            string pattern = "^" + Placeholder().Replace(Regex.Escape(template).Replace(@"\{", "{", StringComparison.Ordinal), m =>
            {
                names.Add(m.Groups[1].Value);
                return "(.*?)";
            }) + "$";
            found.Add((method.DeclaringType!.FullName!, new EventId(attribute.EventId, attribute.EventName), new Regex(pattern, RegexOptions.Singleline), [.. names]));
        }
        // Longer templates first, so a specific message is not taken by a shorter, looser one.
        return [.. found.OrderByDescending(t => t.Item3.ToString().Length)];
    }

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex Placeholder();
}
