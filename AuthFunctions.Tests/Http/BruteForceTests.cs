using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>Per-account throttling of password guesses, held in storage across instances.</summary>
public sealed class BruteForceTests(AppFixture fixture) : AppTestBase(fixture)
{
    private static Task<HttpResponseMessage> LoginAsync(TestApp app, string email, string password) =>
        app.PostAsync("/api/login", null, new { email, password });

    private async Task FailAsync(string email, int times)
    {
        for (int i = 0; i < times; i++)
        {
            await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, "wrong password " + i), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task AfterFiveFailuresTheAccountWaitsWithRetryAfterEvenForTheRightPassword()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        await FailAsync(email, 5); // the 5th check starts a 1 s delay: at most FreeAttempts checks before delays

        var locked = await LoginAsync(App, email, TestApp.Password);

        await ProblemAssert.IsProblemAsync(locked, HttpStatusCode.TooManyRequests);
        Assert.Equal("1", locked.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task DelaysGrowAndTheRightPasswordWorksOnceTheDelayPasses()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        await FailAsync(email, 5);
        App.Clock.Advance(TimeSpan.FromSeconds(1));
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, "wrong 6"), HttpStatusCode.Unauthorized);
        var second = await LoginAsync(App, email, TestApp.Password);
        Assert.Equal("2", second.Headers.GetValues("Retry-After").Single());
        App.Clock.Advance(TimeSpan.FromSeconds(2));
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, "wrong 7"), HttpStatusCode.Unauthorized);
        Assert.Equal("4", (await LoginAsync(App, email, TestApp.Password)).Headers.GetValues("Retry-After").Single());

        App.Clock.Advance(TimeSpan.FromSeconds(4));
        await App.LoginAsync(email);

        // Success resets: four more failures are free again, and the right password still works.
        await FailAsync(email, 4);
        await App.LoginAsync(email);
    }

    [Fact]
    public async Task DelayIsCappedSoTheOwnerIsNeverLockedOutForever()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        for (int i = 0; i < 20; i++)
        {
            await LoginAsync(App, email, "wrong " + i);
            App.Clock.Advance(TimeSpan.FromMinutes(16));
        }
        await FailAsync(email, 1);
        var locked = await LoginAsync(App, email, TestApp.Password);
        Assert.Equal("900", locked.Headers.GetValues("Retry-After").Single());

        App.Clock.Advance(TimeSpan.FromSeconds(900));
        await App.LoginAsync(email);
    }

    [Fact]
    public async Task AtMostOneHundredFailuresPerHour()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Throttle:FreeAttempts"] = "20", ["Throttle:MaxDelaySeconds"] = "1" });
        string email = TestApp.UniqueEmail();
        await app.RegisterAsync(email);
        var start = app.Clock.GetUtcNow();
        for (int i = 0; i < 100; i++)
        {
            var response = await LoginAsync(app, email, "wrong " + i);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            app.Clock.Advance(TimeSpan.FromSeconds(2)); // past every short delay
        }

        var refused = await LoginAsync(app, email, TestApp.Password);

        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
        int retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 3000, 3600);
        app.Clock.Advance(start + TimeSpan.FromHours(1) - app.Clock.GetUtcNow());
        await app.LoginAsync(email);
    }

    [Fact]
    public async Task UnknownEmailsAreThrottledTheSameWaySoA429RevealsNothing()
    {
        string unknown = TestApp.UniqueEmail("nobody");
        await FailAsync(unknown, 5);
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, unknown, "anything at all"), HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task ThrottleHoldsAcrossInstances()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        await FailAsync(email, 5);
        await using var other = await App.StartAnotherInstanceAsync();

        await ProblemAssert.IsProblemAsync(await LoginAsync(other, email, TestApp.Password), HttpStatusCode.TooManyRequests);
    }

    /// <summary>
    /// Five wrong passwords at once: each reserved its check with a conditional write on the one counter row, so the
    /// reservations collided (write conflicts, which one-after-another guesses never cause) and still all five counted.
    /// </summary>
    [Fact]
    public async Task ConcurrentFailuresAreAllCounted()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        using var conflicts = new WriteConflictRecorder(App);

        var race = await Race.RunAsync(Enumerable.Range(0, 5).Select(i => Racer.Post(App.BaseAddress, "/api/login", new { email, password = "wrong " + i })));

        Assert.True(conflicts.Count > 0, $"The guesses never collided in storage (at most {race.MaxInFlight} in flight).");
        Assert.All(race.Responses, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, TestApp.Password), HttpStatusCode.TooManyRequests);
    }

    /// <summary>
    /// The attack that beat the old check-then-record throttle: a burst of concurrent guesses across two
    /// instances. Every check is reserved before hashing, so exactly FreeAttempts passwords are checked
    /// (counted by the bcrypt metric), every other guess is 429, and the right password right after is refused too.
    /// </summary>
    [Fact]
    public async Task ABurstOfConcurrentGuessesAcrossTwoInstancesGetsAtMostFreeAttemptsChecks()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        await using var other = await App.StartAnotherInstanceAsync();
        using var onFirst = new PasswordVerificationRecorder(App);
        using var onSecond = new PasswordVerificationRecorder(other);
        using var conflicts = new WriteConflictRecorder(App, other);

        var race = await Race.RunAsync(Enumerable.Range(0, 39).Select(i =>
            Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/login", new { email, password = "wrong guess " + i })));
        var burst = race.Responses;

        // Guesses sent one after another would give the same counts; these collided on the counter row.
        Assert.True(conflicts.Count > 0, $"The guesses never collided in storage (at most {race.MaxInFlight} in flight).");
        int checks = onFirst.TakeCosts().Length + onSecond.TakeCosts().Length;
        Assert.Equal(5, checks);
        Assert.Equal(5, burst.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Equal(34, burst.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.All(burst.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests), r => Assert.True(r.Headers.Contains("Retry-After")));
        await ProblemAssert.IsProblemAsync(await LoginAsync(other, email, TestApp.Password), HttpStatusCode.TooManyRequests);
        Assert.Empty(onSecond.TakeCosts());
    }

    [Fact]
    public async Task PasswordChangeGuessesAreThrottledLikeLoginInTheSessionsOwnPool()
    {
        var (email, tokens) = await App.NewUserAsync();
        for (int i = 0; i < 5; i++)
        {
            await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/password", tokens.Access, new { current_password = "guess " + i, new_password = "new passphrase!" }), HttpStatusCode.Unauthorized);
        }

        var locked = await App.PostAsync("/api/password", tokens.Access, new { current_password = TestApp.Password, new_password = "new passphrase!" });

        await ProblemAssert.IsProblemAsync(locked, HttpStatusCode.TooManyRequests);
        // Guesses made with one session's token do not lock the owner's logins (or other sessions) out.
        await App.LoginAsync(email);
    }
}

/// <summary>
/// Per-client rate limits through the real host, with real clients at different source addresses (<see cref="LoopbackClient"/>):
/// the client is the TCP peer the host saw, which the host forwards in <c>X-Forwarded-For</c> in place of anything the
/// client sent there, and the worker trusts no other header for it. So a client cannot dodge its limit, nor spend another
/// client's, nor put a false address in the logs, by writing an address of its choice into <c>X-Forwarded-For</c> or any
/// of the other client-address headers (<see cref="LoopbackClient.Claiming"/>).
/// </summary>
public sealed class RateLimitTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int Permits = 3;

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["RateLimit:PermitsPerMinute"] = "3" };

    /// <summary>A login to an unknown email: 401 within the client's budget (a new email each time, so the per-account throttle never answers).</summary>
    private static Task<HttpResponseMessage> BadLoginAsync(LoopbackClient client, string? claimedAddress = null) =>
        client.PostAsync("/api/login", new { email = TestApp.UniqueEmail("nobody"), password = "whatever123" },
            headers: claimedAddress is null ? null : LoopbackClient.Claiming(claimedAddress));

    [Fact]
    public async Task EachClientGetsItsOwnBudgetPerFunction()
    {
        using var first = LoopbackClient.Create(App.BaseAddress);
        using var second = LoopbackClient.Create(App.BaseAddress);
        for (int i = 0; i < Permits; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await BadLoginAsync(first)).StatusCode);
        }

        var limited = await BadLoginAsync(first);

        await ProblemAssert.IsProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 60);
        for (int i = 0; i < Permits; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await BadLoginAsync(second)).StatusCode);
        }
        await ProblemAssert.IsProblemAsync(await BadLoginAsync(second), HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.Created, (await first.PostAsync("/api/register", new { email = TestApp.UniqueEmail(), password = TestApp.Password })).StatusCode);
    }

    [Fact]
    public async Task AnAddressTheClientWritesDoesNotGiveItAnotherBudget()
    {
        using var spoofer = LoopbackClient.Create(App.BaseAddress);
        using var bystander = LoopbackClient.Create(App.BaseAddress);
        // Every request claims another address (one the client made up, a chain, another real client's); all are one
        // client's, so the budget runs out after Permits requests as if no header had been sent.
        string[] claims = ["203.0.113.7", "198.51.100.9, 203.0.113.8", bystander.Address.ToString()];
        foreach (string claim in claims)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await BadLoginAsync(spoofer, claim)).StatusCode);
        }

        foreach (string claim in (string[])["203.0.113.99", "2001:db8::1", "::ffff:192.0.2.1", "unknown"])
        {
            await ProblemAssert.IsProblemAsync(await BadLoginAsync(spoofer, claim), HttpStatusCode.TooManyRequests);
        }
        await ProblemAssert.IsProblemAsync(await BadLoginAsync(spoofer), HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task AClientCannotSpendAnotherClientsBudgetByClaimingItsAddress()
    {
        using var attacker = LoopbackClient.Create(App.BaseAddress);
        using var victim = LoopbackClient.Create(App.BaseAddress);
        for (int i = 0; i < Permits * 2; i++)
        {
            await BadLoginAsync(attacker, victim.Address.ToString());
        }
        await ProblemAssert.IsProblemAsync(await BadLoginAsync(attacker, victim.Address.ToString()), HttpStatusCode.TooManyRequests);

        for (int i = 0; i < Permits; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await BadLoginAsync(victim)).StatusCode);
        }
    }

    [Fact]
    public async Task TheLogsRecordTheAddressTheHostSawNotTheOneTheClientWrote()
    {
        using var client = LoopbackClient.Create(App.BaseAddress);
        string email = TestApp.UniqueEmail();
        var spoofed = LoopbackClient.Claiming("203.0.113.7");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/register", new { email, password = TestApp.Password }, headers: spoofed)).StatusCode);

        var tokens = await client.LoginAsync(email, headers: spoofed);

        string userId = (string)TokenForge.Payload(tokens.Access)["sub"]!;
        var registered = await WaitForEventAsync(1001, userId);
        var loggedIn = await WaitForEventAsync(1002, userId);
        Assert.Equal(client.Address.ToString(), registered.State["ClientAddress"]);
        Assert.Equal(client.Address.ToString(), loggedIn.State["ClientAddress"]);
        Assert.DoesNotContain(App.Logs.Entries, e => e.AllText.Contains("203.0.113.7", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProtectedReadsAreNotRateLimited()
    {
        using var client = LoopbackClient.Create(App.BaseAddress);
        string email = TestApp.UniqueEmail();
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/register", new { email, password = TestApp.Password })).StatusCode);
        var tokens = await client.LoginAsync(email);
        for (int i = 0; i < Permits * 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/protected", tokens.Access)).StatusCode);
        }
    }

    /// <summary>The worker's record of <paramref name="eventId"/> for the user (its log reaches the host's console a little later).</summary>
    private async Task<CapturedLog> WaitForEventAsync(int eventId, string userId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var entry = App.Logs.Entries.FirstOrDefault(e => e.EventId.Id == eventId && e.State.GetValueOrDefault("UserId") == userId);
            if (entry is not null)
            {
                return entry;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no event {eventId} for user {userId} in the host's log");
            await Task.Delay(50);
        }
    }
}
