using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class HealthTests : AppTestBase
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

    [Fact]
    public async Task UnknownRouteIsProblemDetails() =>
        await ProblemAssert.IsProblemAsync(await App.Client.GetAsync("/api/nothing-here"), HttpStatusCode.NotFound);
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
        // A short staleness bound: protected calls stop trusting the revocation feed a second after its last read.
        _app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:RevocationPollMilliseconds"] = "100",
            ["Auth:RevocationMaxStalenessSeconds"] = "1",
        }, _azurite);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _azurite.DisposeAsync();
        Directory.Delete(_location, recursive: true);
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
            Assert.Contains("unavailable", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        }

        await _azurite.StartAsync();

        Assert.Equal(HttpStatusCode.OK, (await _app.Client.GetAsync("/api/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.GetAsync("/api/protected", tokens.Access)).StatusCode);
        await _app.LoginAsync(email);
    }
}
