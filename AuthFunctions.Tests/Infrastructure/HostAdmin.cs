using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// The Functions host's admin API, as an operator uses it: run a non-HTTP function (the cleanup timer) now with
/// <c>POST /admin/functions/{name}</c>, body <c>{"input":""}</c> and the host's master key, then wait until the host
/// logs that the run finished. Seen with the shared host (v4.1037.0): it answers 202 with an empty body (no
/// invocation id) before the run; 401 without a valid key; 404 for a function it does not know. The run's start and
/// end are the host's own records <c>Executing 'Functions.{name}' (Reason='…', Id=…)</c> and
/// <c>Executed 'Functions.{name}' (Succeeded|Failed, Id=…, Duration=…ms)</c>, with the worker's records of the
/// invocation between them.
/// </summary>
public static partial class HostAdmin
{
    /// <summary>The <c>Reason</c> the host gives a run started through its admin API (it gives HTTP-triggered runs the same one).</summary>
    public const string AdminApiReason = "This function was programmatically called via the host APIs.";

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where the host keeps its file-based secrets: <c>$FH_STATE/secrets</c>, which fh-start.sh points
    /// <c>FUNCTIONS_SECRETS_PATH</c> at; null when the host was not started that way (Core Tools' <c>func</c>).
    /// </summary>
    public static string? SecretsFolder(this FunctionsHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        string folder = Path.Combine(host.StateDirectory, "secrets");
        return Directory.Exists(folder) ? folder : null;
    }

    /// <summary>
    /// The host's master key, from <c>host.json</c> in its secrets folder (<c>masterKey.value</c>; the host writes the
    /// file with a UTF-8 BOM, unencrypted without <c>WEBSITE_AUTH_ENCRYPTION_KEY</c>). The host writes the file lazily,
    /// the first time a request presents a key: a key that cannot match (answered 401) makes it. Null under Core Tools
    /// (no known secrets folder): the call then goes without a key, which assumes <c>func start</c> without
    /// <c>--enableAuth</c> lets admin calls through locally; not tried, Core Tools are not installed here.
    /// </summary>
    public static async Task<string?> MasterKeyAsync(this TestApp app, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Host.SecretsFolder() is not { } folder)
        {
            return null;
        }
        string file = Path.Combine(folder, "host.json");
        var limit = timeout ?? DefaultTimeout;
        var elapsed = Stopwatch.StartNew();
        bool prompted = false;
        while (true)
        {
            if (File.Exists(file))
            {
                try
                {
                    using var secrets = JsonDocument.Parse(await File.ReadAllTextAsync(file));
                    var master = secrets.RootElement.GetProperty("masterKey");
                    if (master.TryGetProperty("encrypted", out var encrypted) && encrypted.GetBoolean())
                    {
                        throw new InvalidOperationException($"The host encrypted its master key in {file}; the tests need it in the clear.");
                    }
                    return master.GetProperty("value").GetString() ?? throw new InvalidOperationException($"No master key in {file}.");
                }
                catch (Exception failure) when (failure is JsonException or IOException && elapsed.Elapsed < limit)
                {
                    // Being written: read it again.
                }
            }
            else if (!prompted)
            {
                using var prompt = new HttpRequestMessage(HttpMethod.Get, "/admin/host/status");
                prompt.Headers.Add("x-functions-key", "not-a-key");
                using var refused = await app.Client.SendAsync(prompt);
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                prompted = true;
                continue;
            }
            if (elapsed.Elapsed >= limit)
            {
                throw new TimeoutException($"The host wrote no {file} within {limit.TotalSeconds} s:\n{app.Logs.Tail(40)}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Runs <paramref name="function"/> now through the host's admin API and waits (bounded) until the host logs the run's
    /// end; fails the test unless it succeeded. The returned run carries the worker's records of the invocation.
    /// </summary>
    public static async Task<FunctionRun> RunFunctionAsync(this TestApp app, string function, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        string? key = await app.MasterKeyAsync();
        int mark = app.Logs.AllText.Length;
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/functions/{function}")
        {
            Content = new StringContent("""{"input":""}""", Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Add("x-functions-key", key);
        }
        using var response = await app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = await app.WaitForRunAsync(function, mark, reason => reason == AdminApiReason, timeout);
        Assert.True(run.Succeeded, $"The host ran {function} and it failed:\n{run.Log}");
        return run;
    }

    /// <summary>
    /// The first run of <paramref name="function"/> that the host started after <paramref name="logMark"/> (a length of
    /// <see cref="HostLogs.AllText"/>) for a reason <paramref name="reason"/> accepts, once the host logged its end.
    /// Reads the raw lines, not <see cref="HostLogs.Entries"/>, which can drop a record still being printed.
    /// </summary>
    public static async Task<FunctionRun> WaitForRunAsync(this TestApp app, string function, int logMark, Func<string, bool> reason, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(reason);
        var limit = timeout ?? DefaultTimeout;
        var elapsed = Stopwatch.StartNew();
        string name = Regex.Escape($"Functions.{function}");
        var executing = new Regex($@"Executing '{name}' \(Reason='(?<reason>[^']*)', Id=(?<id>[0-9a-f-]{{36}})\)");
        while (true)
        {
            string text = app.Logs.AllText;
            if (text.Length > logMark)
            {
                foreach (Match start in executing.Matches(text, logMark))
                {
                    if (!reason(start.Groups["reason"].Value))
                    {
                        continue;
                    }
                    string id = start.Groups["id"].Value;
                    var end = new Regex($@"Executed '{name}' \((?<status>\w+), Id={id}").Match(text, start.Index);
                    if (end.Success)
                    {
                        string log = text[start.Index..(end.Index + end.Length)];
                        return new FunctionRun(id, start.Groups["reason"].Value, end.Groups["status"].Value == "Succeeded", log);
                    }
                    break;
                }
            }
            if (elapsed.Elapsed >= limit)
            {
                throw new TimeoutException($"The host logged no finished run of {function} within {limit.TotalSeconds} s:\n{app.Logs.Tail(40)}");
            }
            await Task.Delay(50);
        }
    }
}

/// <summary>One run of a function as the host logged it: its invocation id, why it ran, whether it succeeded, and its lines (the host's start and end records and the worker's records between them).</summary>
public sealed record FunctionRun(string InvocationId, string Reason, bool Succeeded, string Log);
