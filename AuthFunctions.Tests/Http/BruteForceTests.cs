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

    [Fact]
    public async Task ConcurrentFailuresAreAllCounted()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);

        await Task.WhenAll(Enumerable.Range(0, 5).Select(i => LoginAsync(App, email, "wrong " + i)));

        await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, TestApp.Password), HttpStatusCode.TooManyRequests);
    }

    /// <summary>
    /// The attack that beat the old check-then-record throttle: a burst of concurrent guesses across two
    /// instances. Every check is reserved before hashing, so exactly FreeAttempts passwords are checked
    /// (counted by the bcrypt metric), every other guess is 429, and the right password right after is refused too.
    /// </summary>
    [Fact(Skip = "Reads the worker's in-process state (metrics or the revocation feed), which runs in the host's worker process since the isolated-worker move; needs an outside probe (issue 20 note).")]
    public async Task ABurstOfConcurrentGuessesAcrossTwoInstancesGetsAtMostFreeAttemptsChecks()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        await using var other = await App.StartAnotherInstanceAsync();
        using var onFirst = new PasswordVerificationRecorder(App.Services);
        using var onSecond = new PasswordVerificationRecorder(other.Services);

        var burst = await Task.WhenAll(Enumerable.Range(0, 39).Select(i => LoginAsync(i % 2 == 0 ? App : other, email, "wrong guess " + i)));

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

/// <summary>Per-client rate limits, with the client address taken from the host's X-Forwarded-For.</summary>
public sealed class RateLimitTests(AppFixture fixture) : AppTestBase(fixture)
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["RateLimit:PermitsPerMinute"] = "3" };

    private async Task<HttpResponseMessage> LoginFromAsync(string? forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/login") { Content = System.Net.Http.Json.JsonContent.Create(new { email = "x@example.com", password = "whatever123" }) };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }
        return await App.Client.SendAsync(request);
    }

    [Fact]
    public async Task EachClientGetsItsOwnBudgetPerFunction()
    {
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFromAsync("203.0.113.7")).StatusCode);
        }

        var limited = await LoginFromAsync("203.0.113.7");

        await ProblemAssert.IsProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 60);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFromAsync("198.51.100.9")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await App.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/register")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { email = TestApp.UniqueEmail(), password = TestApp.Password }),
            Headers = { { "X-Forwarded-For", "203.0.113.7" } },
        })).StatusCode);
    }

    [Fact]
    public async Task ProtectedReadsAreNotRateLimited()
    {
        var (_, tokens) = await App.NewUserAsync();
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);
        }
    }
}
