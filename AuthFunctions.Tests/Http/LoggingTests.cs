using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class LoggingTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task AFullFlowLogsEveryAuthEventAndNoSecret()
    {
        const string newPassword = "a fresh passphrase 42";
        string email = TestApp.UniqueEmail("logged");
        await App.RegisterAsync(email);
        await App.PostAsync("/api/login", null, new { email, password = "wrong password 123" });
        var login = await App.LoginAsync(email);
        await App.GetAsync("/api/protected", login.Access);
        var refreshed = await ProblemAssert.JsonAsync(await App.RefreshAsync(login.Refresh), HttpStatusCode.OK);
        string rotatedRefresh = refreshed.GetProperty("refresh_token").GetString()!;
        string rotatedAccess = refreshed.GetProperty("access_token").GetString()!;
        App.Clock.Advance(TimeSpan.FromSeconds(10));
        await App.RefreshAsync(login.Refresh); // reuse of a spent token
        var second = await App.LoginAsync(email);
        await App.PostAsync("/api/password", second.Access, new { current_password = TestApp.Password, new_password = newPassword });
        await App.PostAsync("/api/logout", second.Access);

        // The worker's records reach the host's log after the answers: wait for the last request's (bounded).
        string loggedOut = (string)TokenForge.Payload(second.Access)["sub"]!;
        await App.Logs.WaitForAsync(e => e.EventId.Id == 1004 && e.State.GetValueOrDefault("UserId") == loggedOut);
        var entries = App.Logs.Entries.ToList();
        // The parsed records and the host's console exactly as printed (the worker's lines included).
        string everything = string.Join("\n", entries.Select(e => e.AllText)) + "\n" + App.Logs.AllText;
        // The signing key in every form a log could carry it: raw base64, and each line of its PEM (a PEM-wrapped key
        // would not contain the one-line base64 string).
        var keyForms = new[] { Convert.ToBase64String(App.SigningKey) }
            .Concat(App.SigningKeyPems.SelectMany(pem => pem.Split('\n')).Where(line => line.Length >= 16 && !line.StartsWith("-----", StringComparison.Ordinal)))
            .ToList();
        Assert.True(keyForms.Count > 1, "the instance runs with a PEM key, so its lines are checked too");
        var secrets = new[]
        {
            TestApp.Password, newPassword, "wrong password 123",
            login.Access, login.Refresh, rotatedRefresh, rotatedAccess, second.Access, second.Refresh,
            login.Access.Split('.')[2], login.Refresh.Split('.')[2], rotatedRefresh.Split('.')[2],
            "$2b$", email,
        }.Concat(keyForms);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }

        string userId = (string)TokenForge.Payload(login.Access)["sub"]!;
        // Registered, login succeeded, login failed, logged out, refresh, password changed: each with user id and client address.
        foreach (var eventId in new[] { 1001, 1002, 1003, 1004, 1005, 1006 })
        {
            var entry = entries.FirstOrDefault(e => e.EventId.Id == eventId && e.State.GetValueOrDefault("UserId") == userId);
            Assert.True(entry is not null, $"no event {eventId} for the user");
            Assert.Equal("127.0.0.1", entry.State["ClientAddress"]);
        }
        Assert.Contains(entries, e => e.EventId.Name == "RefreshTokenReuse" && e.State.GetValueOrDefault("UserId") == userId);
    }

    /// <summary>Distinct values that must never appear in a log, in a query, a header and a body.</summary>
    private sealed record Markers(string Query, string Header, string Bearer, string Password)
    {
        public static Markers New() => new("qmark" + Guid.NewGuid().ToString("N"), "hmark" + Guid.NewGuid().ToString("N"),
            "bmark" + Guid.NewGuid().ToString("N"), "pmark " + Guid.NewGuid().ToString("N"));

        public IEnumerable<string> All => [Query, Header, Bearer, Password];
    }

    private static async Task SendMarkedRequestsAsync(TestApp app, Markers markers)
    {
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/protected?access_token={markers.Query}"))
        {
            request.Headers.Add("X-Request-Note", markers.Header);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", markers.Bearer);
            await app.Client.SendAsync(request);
        }
        await app.Client.GetAsync($"/api/health?token={markers.Query}");
        await app.PostAsync($"/api/login?email={markers.Query}", null, new { email = TestApp.UniqueEmail(), password = markers.Password });
        // Request lines Kestrel refuses (a NUL byte, a stray word), whose target carries the query.
        await RawHttp.SendAsync(app.BaseAddress, "GET", $"/api/protected?access_token={markers.Query}\0");
        await RawHttp.SendAsync(app.BaseAddress, "GET", $"/api/protected?access_token={markers.Query} junk");
    }

    private static void AssertNoMarkerLogged(TestApp app, Markers markers)
    {
        string everything = string.Join("\n", app.Logs.Entries.Select(e => e.AllText));
        foreach (string marker in markers.All)
        {
            Assert.DoesNotContain(marker, everything, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NoQueryHeaderValueOrBodyReachesTheLogAtInformation()
    {
        var markers = Markers.New();

        await SendMarkedRequestsAsync(App, markers);

        AssertNoMarkerLogged(App, markers);
        Assert.Contains(App.Logs.Entries, e => e.Category.StartsWith("AuthFunctions.", StringComparison.Ordinal) && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task WithDefaultSettingsTheFrameworkRequestLogIsOffAndAuthEventsAreOn()
    {
        // No Logging settings at all, as in production.
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = null });

        var (_, tokens) = await app.NewUserAsync();
        await app.GetAsync("/api/protected", tokens.Access);

        Assert.DoesNotContain(app.Logs.Entries, e => e.Category.StartsWith("Microsoft.", StringComparison.Ordinal) && e.Level < LogLevel.Warning);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Category == "Microsoft.AspNetCore.Hosting.Diagnostics");
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 1001 && e.Level == LogLevel.Information);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 1002 && e.Level == LogLevel.Information);
    }

    [Fact]
    public async Task AnOperatorTurningEveryLogUpStillGetsNoQuery()
    {
        string provider = typeof(CapturedLogs).FullName!;
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics*"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore.Server.Kestrel.BadRequests"] = "Trace",
            [$"Logging:{provider}:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Trace",
            [$"Logging:{provider}:LogLevel:Microsoft.AspNetCore.Server.Kestrel"] = "Trace",
        });
        var markers = Markers.New();

        await SendMarkedRequestsAsync(app, markers);

        AssertNoMarkerLogged(app, markers);
        // The rest of the framework's logging did turn up.
        Assert.Contains(app.Logs.Entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Routing", StringComparison.Ordinal) && e.Level <= LogLevel.Debug);
    }

    [Fact]
    public async Task WithThePackagesHostJsonTheHostLogsNoInvocationLinesAndTheAuthEventsStillArrive()
    {
        // The other tests raise the host's Function category to Information to see its invocation records; here host.json decides,
        // as on Azure: "Function" at Warning (no "Executing"/"Executed" pair per call), "Function.*.User" (the worker's records) at Information.
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["AzureFunctionsJobHost:logging:logLevel:Function"] = null });

        var (_, tokens) = await app.NewUserAsync();
        await app.GetAsync("/api/protected", tokens.Access);
        string userId = (string)TokenForge.Payload(tokens.Access)["sub"]!;
        await app.Logs.WaitForAsync(e => e.EventId.Id == 1002 && e.State.GetValueOrDefault("UserId") == userId);

        Assert.Contains(app.Logs.Entries, e => e.EventId.Id == 1001 && e.Level == LogLevel.Information);
        Assert.DoesNotContain("Executing 'Functions.", app.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("Executed 'Functions.", app.Logs.AllText, StringComparison.Ordinal);
    }
}
