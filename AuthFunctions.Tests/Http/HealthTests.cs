using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class HealthTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task HealthyWhenStorageAnswers()
    {
        var json = await ProblemAssert.JsonAsync(await App.Client.GetAsync("/api/health"), HttpStatusCode.OK);
        Assert.Equal("healthy", json.GetProperty("status").GetString());
        Assert.Equal("reachable", json.GetProperty("storage").GetString());
    }

    [Fact]
    public async Task HeadIsHealthyWithNoBodyOnTheWire()
    {
        // Raw HTTP/1.1, because HttpClient never reads a HEAD response's body: the bytes after the
        // headers are what a probe would receive.
        using var socket = new TcpClient();
        await socket.ConnectAsync(App.BaseAddress.Host, App.BaseAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"HEAD /api/health HTTP/1.1\r\nHost: {App.BaseAddress.Authority}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        string response = await reader.ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        int end = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(end > 0, response);
        Assert.Equal("", response[(end + 4)..]);
    }

    [Fact]
    public async Task ReadinessProbeAtRootAnswers() =>
        Assert.Equal(HttpStatusCode.OK, (await App.Client.GetAsync("/")).StatusCode);

    /// <summary>
    /// The host routes by the functions' metadata: a path no function declares gets its own empty 404 (not Problem
    /// Details), whatever the method, and nothing is invoked (the host logs "Executing 'Functions.name'" for every
    /// invocation, in order; a control request to openapi bounds the wait).
    /// </summary>
    [Fact]
    public async Task AnUnknownRouteGetsTheHostsEmpty404AndNoInvocation()
    {
        var mark = (Records: App.Logs.Entries.Count, Text: App.Logs.AllText.Length);

        foreach (var (method, path) in new[] { ("GET", "/api/nothing-here"), ("POST", "/api/nothing-here"), ("GET", "/nothing-here") })
        {
            (await RawHttp.SendAsync(App.BaseAddress, method, path)).AssertBareHostAnswer(404);
        }

        Assert.Equal(200, (await RawHttp.SendAsync(App.BaseAddress, "GET", "/api/openapi.json")).Status);
        for (int i = 0; i < 200 && !App.Logs.AllText[mark.Text..].Contains("Executed 'Functions.openapi'", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }
        var invoked = App.Logs.Entries.Skip(mark.Records).Where(e => e.Message.StartsWith("Executing 'Functions.", StringComparison.Ordinal)).ToList();
        Assert.StartsWith("Executing 'Functions.openapi'", Assert.Single(invoked).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StorageDownIs503WithRetryAfterLikeEveryOtherFunction()
    {
        // Never started: nothing listens on its port.
        await using var azurite = new AzuriteServer(location: null);
        await using var app = await TestApp.StartAsync(azurite: azurite);

        var response = await app.Client.GetAsync("/api/health");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("5", response.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task ConcurrentCallersShareOneStorageProbe()
    {
        await App.WarmedUpAsync();
        // The class's other tests may have left an answer in the cache, which only the app's clock ages.
        App.Clock.Advance(AuthFunctions.Health.HealthCache.Lifetime);
        // The users table only: the revocation poller reads its own table on its own schedule.
        using var storage = new AppCounterRecorder(App, AuthFunctions.Storage.StorageRequestCounter.RequestsInstrument, (AuthFunctions.Storage.StorageRequestCounter.TableTag, "users"));

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => App.Client.GetAsync("/api/health")));
        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.OK, answer.StatusCode));
        Assert.Equal(1, storage.Count);

        // Within the cache's lifetime, no new probe; after it, one.
        App.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await App.Client.GetAsync("/api/health")).StatusCode);
        Assert.Equal(1, storage.Count);
        App.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.OK, (await App.Client.GetAsync("/api/health")).StatusCode);
        Assert.Equal(2, storage.Count);
    }
}

/// <summary>Storage outages: 503 Problem Details within seconds from every function, then recovery without a restart.</summary>
public sealed class StorageOutageTests : IAsyncLifetime
{
    private readonly string _location = Path.Combine(Path.GetTempPath(), "authfunctions-outage-" + Guid.NewGuid().ToString("N"));
    private AzuriteServer _azurite = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _azurite = new AzuriteServer(_location);
        await _azurite.StartAsync();
        // A short poll: protected calls stop trusting the revocation feed 0.2 s (two polls) after its last read.
        _app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:RevocationPollMilliseconds"] = "100",
        }, _azurite);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _azurite.DisposeAsync();
        Directory.Delete(_location, recursive: true);
    }

    [Fact]
    public async Task HealthCachesItsAnswerForTwoSeconds()
    {
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.GetAsync("/api/health")).StatusCode);
        await _azurite.StopAsync();

        Assert.Equal(HttpStatusCode.OK, (await _app.Client.GetAsync("/api/health")).StatusCode);
        _app.Clock.Advance(TimeSpan.FromSeconds(2));
        await ProblemAssert.IsProblemAsync(await _app.Client.GetAsync("/api/health"), HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task OutageGivesFast503sAndTheServiceRecoversWithItsData()
    {
        var (email, tokens) = await _app.NewUserAsync();
        await _azurite.StopAsync();
        // Fail closed: once the feed is stale, protected calls read storage again, and so fail like the rest.
        var stale = Stopwatch.StartNew();
        while ((await _app.GetAsync("/api/protected", tokens.Access)).StatusCode == HttpStatusCode.OK)
        {
            Assert.True(stale.Elapsed < TimeSpan.FromSeconds(10), "protected kept answering from a stale revocation feed");
            await Task.Delay(50);
        }

        var calls = new (string Name, Func<Task<HttpResponseMessage>> Call)[]
        {
            ("health", () => _app.Client.GetAsync("/api/health")),
            ("register", () => _app.RegisterAsync(TestApp.UniqueEmail())),
            ("login", () => _app.PostAsync("/api/login", null, new { email, password = TestApp.Password })),
            ("protected", () => _app.GetAsync("/api/protected", tokens.Access)),
            ("me", () => _app.GetAsync("/api/me", tokens.Access)),
            ("refresh", () => _app.RefreshAsync(tokens.Refresh)),
            ("logout", () => _app.PostAsync("/api/logout", tokens.Access)),
        };
        foreach (var (name, call) in calls)
        {
            var watch = Stopwatch.StartNew();
            var response = await call();
            watch.Stop();
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"{name} took {watch.Elapsed}");
            Assert.Equal("5", response.Headers.RetryAfter?.ToString());
            Assert.Contains("unavailable", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        }

        await _azurite.StartAsync();

        // health answers from its per-instance cache for up to 2 s, the outage included.
        await ProblemAssert.IsProblemAsync(await _app.Client.GetAsync("/api/health"), HttpStatusCode.ServiceUnavailable);
        _app.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.GetAsync("/api/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.GetAsync("/api/protected", tokens.Access)).StatusCode);
        await _app.LoginAsync(email);
    }
}
