using System.Diagnostics;
using System.Text.RegularExpressions;
using AuthFunctions.Http;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// Clients whose request body never arrives in full, through the real Functions host. The host's HTTP trigger binding
/// reads a body that has a Content-Length in full before it invokes the worker, so a stalled, cut or reset one never
/// reaches the worker: the host answers it (a stall: its bare 500 once its Kestrel's 5 s body-rate grace has run out; a
/// cut: the connection closed without an answer; a reset: nobody left to answer) and logs the failed binding as two
/// errors with its stack trace. A chunked body is streamed through to the worker, which gives up after
/// <see cref="RequestBody.ArrivalDeadline"/> with one log line and a 408; the host's proxy passes an answer on only
/// after it has sent the whole body, so that client gets the host's bare 500 as well.
/// </summary>
public sealed class StalledBodyTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const string Partial = "{\"email\":";

    private static readonly TimeSpan HostBodyGrace = TimeSpan.FromSeconds(5);

    private static string Head(string path) =>
        $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";

    private async Task<RawHttp> StartBodyAsync(string path)
    {
        var raw = await RawHttp.ConnectAsync(App.BaseAddress);
        await raw.WriteAsync(Head(path) + Partial);
        return raw;
    }

    /// <summary>Where the log stands now: its records and its raw text (polled without splitting a record being printed).</summary>
    private (int Records, int Text) Mark() => (App.Logs.Entries.Count, App.Logs.AllText.Length);

    private List<CapturedLog> Since((int Records, int Text) mark) => App.Logs.Entries.Skip(mark.Records).ToList();

    /// <summary>Waits (up to 20 s) until the host has printed <paramref name="text"/> after <paramref name="mark"/>.</summary>
    private async Task WaitForTextAsync((int Records, int Text) mark, string text)
    {
        for (int i = 0; i < 400 && !App.Logs.AllText[mark.Text..].Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }
        Assert.Contains(text, App.Logs.AllText[mark.Text..], StringComparison.Ordinal);
    }

    /// <summary>As <see cref="WaitForTextAsync"/>, and a moment more for the rest of that record to be printed.</summary>
    private async Task WaitForAsync((int Records, int Text) mark, string text)
    {
        await WaitForTextAsync(mark, text);
        await Task.Delay(300);
    }

    /// <summary>
    /// The levels (<c>info</c>, <c>fail</c>, …) of the records the worker wrote during invocations of <paramref name="function"/>
    /// since <paramref name="mark"/>: the host prints each under <c>Function.name.User</c>.
    /// </summary>
    private List<string> WorkerRecordLevels((int Records, int Text) mark, string function) =>
        [.. Regex.Matches(App.Logs.AllText[mark.Text..], $@"^(trce|dbug|info|warn|fail|crit): Function\.{Regex.Escape(function)}\.User\[", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value)];

    /// <summary>
    /// The host's two records of the failed invocation, <c>Function.name</c> ("Executed … (Failed") and <c>Host.Results</c>,
    /// both Error, both naming <paramref name="fragments"/>.
    /// </summary>
    private async Task AssertHostFailureAsync((int Records, int Text) mark, string function, params string[] fragments)
    {
        await WaitForAsync(mark, "fail: Host.Results[");
        var records = Since(mark);
        var executed = Assert.Single(records, e => e.Category == $"Function.{function}" && e.Message.StartsWith($"Executed 'Functions.{function}' (Failed", StringComparison.Ordinal));
        var result = Assert.Single(records, e => e.Category == "Host.Results" && e.Message.Contains($"Functions.{function}", StringComparison.Ordinal));
        foreach (var record in new[] { executed, result })
        {
            Assert.Equal(LogLevel.Error, record.Level);
            foreach (string fragment in fragments)
            {
                Assert.Contains(fragment, record.Message, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>The worker wrote nothing about the function: it was never invoked there.</summary>
    private void AssertWorkerSilent((int Records, int Text) mark, string function)
    {
        Assert.Empty(WorkerRecordLevels(mark, function));
        Assert.DoesNotContain(Since(mark), e => e.Category == typeof(RequestBody).FullName);
    }

    [Theory]
    [InlineData("/api/login", "login")]
    [InlineData("/api/register", "register")]
    public async Task AStalledBodyNeverReachesTheWorkerAndGetsTheHostsBare500AfterItsFiveSecondGrace(string path, string function)
    {
        var mark = Mark();
        await using var raw = await StartBodyAsync(path);

        var response = await raw.ReadResponseAsync(TimeSpan.FromSeconds(30));

        response.AssertBareHostAnswer(500);
        Assert.InRange(response.Elapsed, HostBodyGrace - TimeSpan.FromMilliseconds(500), HostBodyGrace + TimeSpan.FromSeconds(5));
        Assert.True(await raw.ServerClosesAsync(TimeSpan.FromSeconds(2)), "the host kept the connection open");
        // The host's binding read the body and failed before any invocation went to the worker.
        await AssertHostFailureAsync(mark, function, "Exception binding parameter 'request'", "MinRequestBodyDataRate");
        AssertWorkerSilent(mark, function);
    }

    [Fact]
    public async Task ABodyCutShortByTheClientGetsNoAnswerAndNeverReachesTheWorker()
    {
        var mark = Mark();
        await using var raw = await StartBodyAsync("/api/login");
        var clock = Stopwatch.StartNew();

        raw.EndSending();
        var response = await raw.ReadResponseOrCloseAsync(TimeSpan.FromSeconds(20));

        Assert.Null(response);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"closed after {clock.Elapsed}");
        await AssertHostFailureAsync(mark, "login", "Exception binding parameter 'request'", "Unexpected end of request content");
        AssertWorkerSilent(mark, "login");
    }

    [Fact]
    public async Task AClientThatResetsMidBodyNeverReachesTheWorkerAndTheAppStillServes()
    {
        var mark = Mark();
        var raw = await StartBodyAsync("/api/login");
        await Task.Delay(200);

        raw.Reset();
        await raw.DisposeAsync();

        await AssertHostFailureAsync(mark, "login", "Exception binding parameter 'request'", "Connection reset by peer");
        AssertWorkerSilent(mark, "login");
        Assert.Equal(401, (await RawHttp.SendAsync(App.BaseAddress, "POST", "/api/login", "{\"email\":\"a@example.com\",\"password\":\"whatever123\"}")).Status);
    }

    [Fact]
    public async Task AChunkedBodyThatStallsIsGivenUpByTheWorkerAtItsDeadlineButTheClientGetsTheHostsBare500()
    {
        var mark = Mark();
        await using var raw = await RawHttp.ConnectAsync(App.BaseAddress);
        var clock = Stopwatch.StartNew();
        await raw.WriteAsync("POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
            $"{Partial.Length:x}\r\n{Partial}\r\n");
        var workerGaveUp = Task.Run(async () =>
        {
            await WaitForTextAsync(mark, "Request body not received in full");
            return clock.Elapsed;
        });

        var response = await raw.ReadResponseAsync(TimeSpan.FromSeconds(30));
        var answered = clock.Elapsed;
        var gaveUp = await workerGaveUp;

        // The worker stops waiting at its deadline, long before the host's own limit ...
        Assert.InRange(gaveUp, RequestBody.ArrivalDeadline, RequestBody.ArrivalDeadline + TimeSpan.FromSeconds(2));
        // ... but its 408 waits in the host's proxy behind the body, and the host answers when its own limit fails the copy.
        response.AssertBareHostAnswer(500);
        Assert.InRange(answered, HostBodyGrace - TimeSpan.FromMilliseconds(500), HostBodyGrace + TimeSpan.FromSeconds(5));
        await AssertHostFailureAsync(mark, "login", "Failed to proxy request", "MinRequestBodyDataRate");
        // One line from the worker, at Information, without a stack trace.
        Assert.Equal(["info"], WorkerRecordLevels(mark, "login"));
        var line = Assert.Single(Since(mark), e => e.Category == typeof(RequestBody).FullName);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal("408", line.State["Status"]);
        Assert.Equal("arrived too slowly", line.State["Reason"]);
        Assert.DoesNotContain("   at ", line.Message, StringComparison.Ordinal);
    }
}
