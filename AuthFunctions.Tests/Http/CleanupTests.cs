using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// The <c>cleanup</c> timer function, run by the real Functions host through its admin API (as an operator runs a timer
/// now); the class's schedule (<c>Cleanup:Schedule</c>, once a year) never fires during a test. The host and its tables
/// are shared by the class's tests, so each test looks only at its own users' rows.
/// </summary>
public sealed class CleanupTests(AppFixture fixture) : AppTestBase(fixture)
{
    /// <summary>Delays of a minute and more after the 5 free attempts, so that one can outlast its hour's window (the throttle test).</summary>
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Throttle:FreeAttempts"] = "5",
        ["Throttle:BaseDelaySeconds"] = "60",
        ["Throttle:MaxDelaySeconds"] = "900",
    };

    private Task<FunctionRun> RunCleanupAsync() => App.RunFunctionAsync("cleanup");

    private static string UserId(TokenPair tokens) => TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();

    /// <summary>The RowKeys of one user's partition of the <c>users</c> table (profile, sessions, email links).</summary>
    private async Task<List<string>> UserRowKeysAsync(string userId) =>
        await App.Table("users").QueryAsync<TableEntity>(e => e.PartitionKey == userId, select: ["RowKey"]).Select(e => e.RowKey).ToListAsync();

    private async Task<List<string>> ThrottleRowsAsync(params string[] emails) =>
        await App.Table("emails").QueryAsync<TableEntity>(e => e.RowKey == "throttle").Select(e => e.PartitionKey).Where(email => emails.Contains(email)).ToListAsync();

    private async Task<List<string>> FeedRowKindsAsync(string userId) =>
        await App.Table("revocations").QueryAsync<TableEntity>(e => e.GetString("UserId") == userId).Select(e => e.GetString("Kind") ?? "").ToListAsync();

    [Fact]
    public async Task ExpiredSessionsAreDeletedAndLiveOnesStay()
    {
        var (email, old) = await App.NewUserAsync();
        string userId = UserId(old);
        App.Clock.Advance(TimeSpan.FromDays(20));
        var recent = await App.LoginAsync(email);
        App.Clock.Advance(TimeSpan.FromDays(11)); // the first session's 30-day refresh token has expired
        Assert.Equal(2, (await UserRowKeysAsync(userId)).Count(k => k.StartsWith("session-", StringComparison.Ordinal)));

        await RunCleanupAsync();

        var sessions = (await UserRowKeysAsync(userId)).Where(k => k.StartsWith("session-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["session-" + TokenForge.Payload(recent.Access)["sid"]!.GetValue<string>()], sessions);
        Assert.Equal(HttpStatusCode.OK, (await App.RefreshAsync(recent.Refresh)).StatusCode);
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(old.Refresh), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ExpiredEmailLinksAreDeletedAndLiveOnesStay()
    {
        var (email, tokens) = await App.NewUserAsync();
        string userId = UserId(tokens);
        await (await MailDevServer.Shared).WaitForMessageAsync(email); // the verification link (24 h)
        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/password/forgot", null, new { email })).StatusCode);
        await (await MailDevServer.Shared).WaitForMessageAsync(email, count: 2); // the reset link (30 min)
        Assert.Equal(2, (await UserRowKeysAsync(userId)).Count(k => k.StartsWith("link-", StringComparison.Ordinal)));
        App.Clock.Advance(TimeSpan.FromHours(1));

        await RunCleanupAsync();

        Assert.Equal(["link-verify-email"], (await UserRowKeysAsync(userId)).Where(k => k.StartsWith("link-", StringComparison.Ordinal)));
    }

    /// <summary>
    /// A counter goes only when it has nothing left to enforce: <c>idle</c> (its hour's window is over, no delay) goes;
    /// <c>recent</c> (a failure within the hour: the NIST count) and <c>locked</c> (a delay in force, window fresh) stay; so
    /// does <c>held</c>, whose window is over but whose delay, started near the window's end, still runs.
    /// </summary>
    [Fact]
    public async Task ThrottleRowsAreDeletedOnlyWhenTheyHaveNothingLeftToEnforce()
    {
        string idle = TestApp.UniqueEmail("idle");
        string held = TestApp.UniqueEmail("held");
        string locked = TestApp.UniqueEmail("locked");
        string recent = TestApp.UniqueEmail("recent");
        await FailLoginAsync(idle);
        await FailLoginAsync(held); // held's window starts here
        App.Clock.Advance(TimeSpan.FromMinutes(50));
        for (int i = 0; i < 4; i++)
        {
            await FailLoginAsync(held); // the 5th failure starts a delay of 60 s, doubled by each further one
        }
        foreach (int seconds in new[] { 60, 120, 240 })
        {
            App.Clock.Advance(TimeSpan.FromSeconds(seconds + 1));
            await FailLoginAsync(held);
        }
        // held: window over at +60:00, delay of 480 s until +65:03. Now +61:03.
        App.Clock.Advance(TimeSpan.FromMinutes(4));
        for (int i = 0; i < 5; i++)
        {
            await FailLoginAsync(locked);
        }
        await FailLoginAsync(recent);
        Assert.Equal([held, idle, locked, recent], (await ThrottleRowsAsync(idle, held, locked, recent)).Order());

        await RunCleanupAsync();

        Assert.Equal([held, locked, recent], (await ThrottleRowsAsync(idle, held, locked, recent)).Order());
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/login", null, new { email = locked, password = "again" }), HttpStatusCode.TooManyRequests);
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/login", null, new { email = held, password = "again" }), HttpStatusCode.TooManyRequests);
    }

    /// <summary>A wrong password that the throttle lets through to the check (401, not 429): one failure counted.</summary>
    private async Task FailLoginAsync(string email)
    {
        var response = await App.PostAsync("/api/login", null, new { email, password = "wrong password" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task LogoutEverywhereDeletesTheEndedSessionsRows()
    {
        var (email, first) = await App.NewUserAsync();
        string userId = UserId(first);
        await App.LoginAsync(email);
        var current = await App.LoginAsync(email);
        Assert.Equal(3, (await UserRowKeysAsync(userId)).Count(k => k.StartsWith("session-", StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout?scope=others", current.Access)).StatusCode);
        Assert.Single(await UserRowKeysAsync(userId), k => k.StartsWith("session-", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout", current.Access)).StatusCode);
        Assert.DoesNotContain(await UserRowKeysAsync(userId), k => k.StartsWith("session-", StringComparison.Ordinal));
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(first.Refresh), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RevocationFeedRowsAreDeletedOnceNoAccessTokenTheyRefuseCanBeLive()
    {
        var (email, old) = await App.NewUserAsync();
        string userId = UserId(old);
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout", old.Access)).StatusCode);
        App.Clock.Advance(TimeSpan.FromMinutes(10));
        var recent = await App.LoginAsync(email);
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout?scope=session", recent.Access)).StatusCode);
        var kinds = await FeedRowKindsAsync(userId);
        Assert.Equal(2, kinds.Count);
        Assert.Contains("Session", kinds);
        // The first row is now older than an access token's life plus the margin (and the minute it is filed under); the second is not.
        var keep = await FeedEntryLifetimeAsync() + AuthFunctions.Maintenance.CleanupService.FeedMargin;
        App.Clock.Advance(keep - TimeSpan.FromMinutes(10) + TimeSpan.FromMinutes(2));

        var run = await RunCleanupAsync();

        Assert.Equal(["Session"], await FeedRowKindsAsync(userId));
        // Other tests' older rows may go in the same run: the report counts at least this user's one.
        var deleted = Regex.Match(run.Log, @"cleanup: deleted .*?(\d+) old revocation feed rows");
        Assert.True(deleted.Success, run.Log);
        Assert.True(int.Parse(deleted.Groups[1].Value, CultureInfo.InvariantCulture) >= 1, run.Log);
    }

    /// <summary>
    /// <see cref="AuthFunctions.Tokens.RevocationFeed.EntryLifetime"/> as the worker computes it from this instance's
    /// settings: the worker's own service registrations over the same settings, built (not started) in this process.
    /// </summary>
    private async Task<TimeSpan> FeedEntryLifetimeAsync()
    {
        await using var services = ServicesHost.Build("Testing", App.Settings.ToDictionary());
        return services.Services.GetRequiredService<AuthFunctions.Tokens.RevocationFeed>().EntryLifetime;
    }
}

/// <summary>
/// The <c>cleanup</c> timer firing on its own schedule under the real host: every 2 seconds here. The host id is this
/// instance's own: every test host runs the same script root on one machine, so by default they share one host id in
/// the run's Azurite and with it the timer's listener lock (a blob lease): a host of another class holding it would
/// keep this one's timer from ever firing.
/// </summary>
public sealed class ScheduledCleanupTests(AppFixture fixture) : AppTestBase(fixture)
{
    private static readonly string HostId = "cleanup-" + Guid.NewGuid().ToString("N")[..16];

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Cleanup:Schedule"] = "*/2 * * * * *",
        ["AzureFunctionsWebHost:hostid"] = HostId,
    };

    [Fact]
    public async Task TheTimerDeletesExpiredSessionsOnItsSchedule()
    {
        var (email, old) = await App.NewUserAsync();
        string userId = TokenForge.Payload(old.Access)["sub"]!.GetValue<string>();
        string oldSession = "session-" + TokenForge.Payload(old.Access)["sid"]!.GetValue<string>();
        Assert.Contains(oldSession, await SessionRowsAsync(userId));
        int mark = App.Logs.AllText.Length;
        App.Clock.Advance(TimeSpan.FromDays(31)); // the session's 30-day refresh token has expired
        var recent = await App.LoginAsync(email);
        string recentSession = "session-" + TokenForge.Payload(recent.Access)["sid"]!.GetValue<string>();

        var deadline = Stopwatch.StartNew();
        List<string> sessions;
        while ((sessions = await SessionRowsAsync(userId)).Contains(oldSession))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30),
                $"The expired session is still there after {deadline.Elapsed.TotalSeconds:F0} s:\n{App.Logs.Tail(40)}");
            await Task.Delay(200);
        }

        Assert.Equal([recentSession], sessions);
        // The timer did it: a run it started reported the deletion, and nothing ran the function through the admin API.
        var run = await App.WaitForRunAsync("cleanup", mark, IsTimerRun);
        Assert.True(run.Succeeded, run.Log);
        // A whole later run leaves the live session.
        var later = await App.WaitForRunAsync("cleanup", App.Logs.AllText.Length, IsTimerRun);
        Assert.True(later.Succeeded, later.Log);
        Assert.Equal([recentSession], await SessionRowsAsync(userId));
        string since = App.Logs.AllText[mark..];
        Assert.Matches(@"cleanup: deleted [1-9]\d* expired sessions", since);
        Assert.DoesNotContain($"Executing 'Functions.cleanup' (Reason='{HostAdmin.AdminApiReason}'", since, StringComparison.Ordinal);
    }

    private static bool IsTimerRun(string reason) => reason.StartsWith("Timer fired at ", StringComparison.Ordinal);

    private async Task<List<string>> SessionRowsAsync(string userId) =>
        await App.Table("users").QueryAsync<TableEntity>(e => e.PartitionKey == userId, select: ["RowKey"])
            .Select(e => e.RowKey).Where(k => k.StartsWith("session-", StringComparison.Ordinal)).ToListAsync();
}
