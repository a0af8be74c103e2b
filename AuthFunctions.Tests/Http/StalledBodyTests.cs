using AuthFunctions.Http;
using AuthFunctions.Hosting;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// Clients whose request body never arrives in full (slow senders, a body shorter than its
/// Content-Length, connections that vanish): a 408 or 400 Problem Details while an answer is still
/// possible, and one log line without a stack trace, never an error.
/// </summary>
public sealed class StalledBodyTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const string Partial = "{\"email\":";

    private static string Head(string path) =>
        $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";

    private async Task<RawHttp> StartBodyAsync(string path)
    {
        var raw = await RawHttp.ConnectAsync(App.BaseAddress);
        await raw.WriteAsync(Head(path) + Partial);
        return raw;
    }

    private List<CapturedLog> BodyLogs() =>
        App.Logs.Entries.Where(e => e.Category == typeof(RequestBody).FullName).ToList();

    private void AssertNoErrorAndNoStackTrace()
    {
        Assert.DoesNotContain(App.Logs.Entries, e => e.Level >= LogLevel.Error);
        Assert.DoesNotContain(App.Logs.Entries, e => e.Exception is not null);
    }

    private async Task<CapturedLog> SingleBodyLogAsync()
    {
        for (int i = 0; i < 100 && BodyLogs().Count == 0; i++)
        {
            await Task.Delay(50);
        }
        var entry = Assert.Single(BodyLogs());
        Assert.InRange(entry.Level, LogLevel.Information, LogLevel.Warning);
        Assert.Null(entry.Exception);
        return entry;
    }

    [Theory]
    [InlineData("/api/login")]
    [InlineData("/api/register")]
    public async Task ABodyThatStallsGets408WithinSeconds(string path)
    {
        await using var raw = await StartBodyAsync(path);

        var response = await raw.ReadResponseAsync(TimeSpan.FromSeconds(20));

        response.AssertProblem(408);
        Assert.True(response.Elapsed < TimeSpan.FromSeconds(10), $"answered after {response.Elapsed}");
        await SingleBodyLogAsync();
        AssertNoErrorAndNoStackTrace();
    }

    [Fact]
    public async Task ABodyCutShortByTheClientIsOneLogLineAndNoError()
    {
        await using var raw = await StartBodyAsync("/api/login");

        // Kestrel takes the client's FIN as the end of the connection, so no answer can be sent.
        raw.EndSending();
        var response = await raw.ReadResponseOrCloseAsync(TimeSpan.FromSeconds(20));

        response?.AssertProblem(400);
        await SingleBodyLogAsync();
        AssertNoErrorAndNoStackTrace();
    }

    [Fact]
    public async Task AClientThatResetsMidBodyIsOneLogLineAndNoError()
    {
        var raw = await StartBodyAsync("/api/login");
        await Task.Delay(200);

        raw.Reset();
        await raw.DisposeAsync();

        await SingleBodyLogAsync();
        AssertNoErrorAndNoStackTrace();
        // The app still serves.
        Assert.Equal(401, (await RawHttp.SendAsync(App.BaseAddress, "POST", "/api/login", "{\"email\":\"a@example.com\",\"password\":\"whatever123\"}")).Status);
    }
}
