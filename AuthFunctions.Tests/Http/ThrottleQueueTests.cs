using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;
using AuthFunctions.Throttling;
using AuthFunctions.Users;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// README (Hardening, Per-account throttle): "A request that finds the free attempts all in flight waits up to 3 s for
/// them to settle (so concurrent correct logins are served), then gets 429." Checks in flight are held here as another
/// instance's would be: tickets written into the account's pool through the product's own <see cref="ThrottleStore"/>
/// (the worker's services built in this process over the same tables), which the test then settles or not.
/// </summary>
public sealed class ThrottleQueueTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int FreeAttempts = 2;
    private static readonly TimeSpan QueueWait = TimeSpan.FromSeconds(3);

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Throttle:FreeAttempts"] = FreeAttempts.ToString(CultureInfo.InvariantCulture),
        ["Throttle:BaseDelaySeconds"] = "60",
    };

    /// <summary>Fills the account's shared pool with <see cref="FreeAttempts"/> checks in flight (live for 30 s by the app's clock).</summary>
    private async Task<ServicesHost> HoldChecksInFlightAsync(string email)
    {
        var services = ServicesHost.Build("Testing", App.Settings.ToDictionary());
        var store = services.Services.GetRequiredService<ThrottleStore>();
        var now = App.Clock.GetUtcNow();
        var tickets = Enumerable.Range(0, FreeAttempts).Select(i => new ThrottleTicket("held-" + i, now + TimeSpan.FromSeconds(30))).ToList();
        var (empty, version) = await store.GetAsync(email, LoginThrottle.UntrustedPool, now, CancellationToken.None);
        Assert.True(await store.TryWriteAsync(email, LoginThrottle.UntrustedPool, empty with { Tickets = tickets }, version, CancellationToken.None));
        return services;
    }

    private async Task<(HttpResponseMessage Response, TimeSpan Took)> TimedLoginAsync(string email)
    {
        var watch = Stopwatch.StartNew();
        var response = await App.Client.PostAsJsonAsync("/api/login", new { email, password = TestApp.Password });
        return (response, watch.Elapsed);
    }

    [Fact]
    public async Task ALoginFindingEveryFreeAttemptInFlightWaitsThreeSecondsThenGets429()
    {
        string email = TestApp.UniqueEmail();
        Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(email)).StatusCode);
        await using var services = await HoldChecksInFlightAsync(email);

        var (response, took) = await TimedLoginAsync(email);

        // The right password, refused unchecked once the wait ran out: not before 3 s, and not much after.
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.TooManyRequests);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        Assert.True(took >= QueueWait, $"answered after {took.TotalMilliseconds:F0} ms");
        Assert.True(took < QueueWait + TimeSpan.FromSeconds(4), $"answered after {took.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task ALoginWaitingForAChecksPlaceIsServedWhenOneSettles()
    {
        string email = TestApp.UniqueEmail();
        Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(email)).StatusCode);
        await using var services = await HoldChecksInFlightAsync(email);
        var store = services.Services.GetRequiredService<ThrottleStore>();

        var login = TimedLoginAsync(email);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(login.IsCompleted, "the login did not wait for a place");
        // One held check settles (its ticket is taken out, as a success or failure does).
        var now = App.Clock.GetUtcNow();
        while (true)
        {
            var (pool, version) = await store.GetAsync(email, LoginThrottle.UntrustedPool, now, CancellationToken.None);
            if (await store.TryWriteAsync(email, LoginThrottle.UntrustedPool, pool with { Tickets = [.. pool.Tickets.Where(t => t.Id != "held-0")] }, version, CancellationToken.None))
            {
                break;
            }
        }
        var (response, took) = await login;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(took >= TimeSpan.FromSeconds(1) && took < QueueWait, $"answered after {took.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task ConcurrentCorrectLoginsBeyondTheFreeAttemptsAreAllServed()
    {
        var (email, _) = await App.NewUserAsync();
        const int Logins = FreeAttempts * 5;

        var race = await Race.RunAsync(Enumerable.Range(0, Logins).Select(_ => Racer.Post(App.BaseAddress, "/api/login", new { email, password = TestApp.Password })));

        Assert.All(race.Responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        // More were in flight at once than the pool admits checks: the others waited for a place rather than getting 429.
        Assert.True(race.MaxInFlight > FreeAttempts, $"at most {race.MaxInFlight} logins were in flight together");
    }
}
