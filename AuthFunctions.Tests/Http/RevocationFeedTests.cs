using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Auth;
using AuthFunctions.Storage;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using AuthFunctions.Sessions;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// The revocation feed (<c>Auth__RevocationMode=feed</c>, the default) across instances: a revocation made on
/// one instance is refused on another within two poll intervals, a fresh instance misses nothing from before
/// it started, and protected calls read no storage in steady state.
/// </summary>
public sealed class RevocationFeedTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int PollMilliseconds = 1000; // the default: also keeps scheduling noise on a busy test machine small beside the bound
    private static readonly TimeSpan TwoPolls = TimeSpan.FromMilliseconds(2 * PollMilliseconds);
    private const int ClockSkewSeconds = 30; // Auth__ClockSkewSeconds' default

    private static Dictionary<string, string?> FeedSettings => new()
    {
        ["Auth:RevocationPollMilliseconds"] = PollMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    protected override IDictionary<string, string?>? Settings => FeedSettings;

    /// <summary>Another instance on the same tables whose feed is read and fresh, so it decides from its map alone.</summary>
    private async Task<TestApp> OtherInstanceInFeedModeAsync()
    {
        var other = await App.StartAnotherInstanceAsync(FeedSettings);
        await other.CoveredAsync();
        return other;
    }

    [Theory]
    [InlineData("all")]
    [InlineData("session")]
    public async Task LogoutOnOneInstanceIsRefusedOnAnotherWithinTwoPolls(string scope)
    {
        var (_, tokens) = await App.NewUserAsync();
        await using var other = await OtherInstanceInFeedModeAsync();
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", tokens.Access)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync($"/api/logout?scope={scope}", tokens.Access)).StatusCode);

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tokens.Access)); // at once where it was made
        await other.RefusedWithinAsync(tokens.Access, TwoPolls);
    }

    [Fact]
    public async Task LogoutOfTheOthersOnOneInstanceIsRefusedOnAnotherAndTheCallersSessionSurvives()
    {
        var (email, laptop) = await App.NewUserAsync();
        var phone = await App.LoginAsync(email);
        await using var other = await OtherInstanceInFeedModeAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout?scope=others", laptop.Access)).StatusCode);

        await other.RefusedWithinAsync(phone.Access, TwoPolls);
        await other.NextPollAsync();
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", laptop.Access)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", laptop.Access)).StatusCode);
    }

    [Fact]
    public async Task PasswordChangeOnOneInstanceIsRefusedOnAnotherAndTheCallersSessionSurvives()
    {
        var (email, laptop) = await App.NewUserAsync();
        var phone = await App.LoginAsync(email);
        await using var other = await OtherInstanceInFeedModeAsync();

        var changed = await App.PostAsync("/api/password", laptop.Access, new { current_password = TestApp.Password, new_password = "a brand new passphrase" });
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);

        await other.RefusedWithinAsync(phone.Access, TwoPolls);
        await other.NextPollAsync();
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", laptop.Access)).StatusCode);
        // Its next refresh carries it into the new epoch; those tokens work everywhere too.
        var refreshed = await App.RefreshAsync(laptop.Refresh);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        string access = (await refreshed.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", access)).StatusCode);
    }

    [Fact]
    public async Task SessionDeletionOnOneInstanceIsRefusedOnAnother()
    {
        var (email, laptop) = await App.NewUserAsync();
        var phone = await App.LoginAsync(email);
        await using var other = await OtherInstanceInFeedModeAsync();
        string phoneSession = TokenForge.Payload(phone.Access)["sid"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NoContent, (await App.SendAsync(HttpMethod.Delete, $"/api/sessions/{phoneSession}", laptop.Access)).StatusCode);

        await other.RefusedWithinAsync(phone.Access, TwoPolls);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", laptop.Access)).StatusCode);
    }

    [Fact]
    public async Task RefreshTokenReuseOnOneInstanceIsRefusedOnAnother()
    {
        var (_, login) = await App.NewUserAsync();
        await using var other = await OtherInstanceInFeedModeAsync();
        var rotated = await App.RefreshAsync(login.Refresh);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        string access = (await rotated.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", access)).StatusCode);
        App.Clock.Advance(TimeSpan.FromSeconds(6)); // past the refresh grace window

        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(login.Refresh), HttpStatusCode.Unauthorized);

        await other.RefusedWithinAsync(access, TwoPolls);
    }

    [Fact]
    public async Task AccountDeletionOnOneInstanceIsRefusedOnAnotherWithinTwoPolls()
    {
        // Account deletion ends every session of the user.
        var (email, first) = await App.NewUserAsync();
        var second = await App.LoginAsync(email);
        await using var other = await OtherInstanceInFeedModeAsync();
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", second.Access)).StatusCode);

        var deleted = await App.SendAsync(HttpMethod.Delete, "/api/me", first.Access, JsonContent.Create(new { password = TestApp.Password }));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var answered = Stopwatch.StartNew();

        await other.RefusedWithinAsync(first.Access, TwoPolls, answered);
        await other.RefusedWithinAsync(second.Access, TwoPolls, answered);
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(second.Refresh), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task PasswordResetOnOneInstanceIsRefusedOnAnotherWithinTwoPolls()
    {
        var (email, laptop) = await App.NewUserAsync();
        var phone = await App.LoginAsync(email);
        await using var other = await OtherInstanceInFeedModeAsync();
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", phone.Access)).StatusCode);
        var maildev = await MailDevServer.Shared;
        await maildev.WaitForMessageAsync(email); // the verification email comes first
        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/password/forgot", null, new { email })).StatusCode);
        string link = (await maildev.WaitForMessageAsync(email, count: 2)).LinkToken("reset-password");

        var reset = await App.PostAsync("/api/password/reset", null, new { token = link, new_password = "a passphrase reset by email" });
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        var answered = Stopwatch.StartNew();

        await other.RefusedWithinAsync(laptop.Access, TwoPolls, answered);
        await other.RefusedWithinAsync(phone.Access, TwoPolls, answered);
        await ProblemAssert.IsProblemAsync(await other.RefreshAsync(phone.Refresh), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AFreshInstanceRefusesATokenLoggedOutBeforeItStarted()
    {
        var (_, tokens) = await App.NewUserAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout?scope=session", tokens.Access)).StatusCode);

        // A long interval: its first read happens at start, and no other read happens during the test.
        await using var fresh = await App.StartAnotherInstanceAsync(RevocationFeedSteadyStateTests.OnePollSettings);

        // Before its first read it reads storage per request; after, its map holds what happened before it started.
        await ProblemAssert.IsInvalidTokenAsync(await fresh.GetAsync("/api/protected", tokens.Access));
        await fresh.CoveredAsync();
        using var requests = new AppCounterRecorder(fresh, StorageRequestCounter.RequestsInstrument);
        await ProblemAssert.IsInvalidTokenAsync(await fresh.GetAsync("/api/protected", tokens.Access));
        Assert.Equal(0, requests.Count);
    }

    [Fact]
    public async Task RevocationsAreKeptUntilTheLastTokenTheyRefuseHasExpiredThenForgotten()
    {
        // An instance of its own: the class's instance holds the other tests' revocations, and this one moves its clock far.
        await using var app = await TestApp.StartAsync(FeedSettings);
        var (_, tokens) = await app.NewUserAsync();
        var before = app.Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.NoContent, (await app.PostAsync("/api/logout", tokens.Access)).StatusCode);
        var entryLifetime = (await app.FeedAsync()).EntryLifetime;
        Assert.Equal(1, (await app.FeedAsync()).Count);

        // The longest-lived token the revocation refuses: one a refresh racing it issued at the end of the read overlap,
        // accepted by its expiry until exp + skew = the entry's end. Signed with the app's key, so only the map refuses it.
        var payload = TokenForge.Payload(tokens.Access);
        long lifetime = payload["exp"]!.GetValue<long>() - payload["iat"]!.GetValue<long>();
        long expires = (before + entryLifetime).ToUnixTimeSeconds() - ClockSkewSeconds;
        string latest = TokenForge.Resign(tokens.Access, app.SigningKey, claims =>
        {
            claims["exp"] = expires;
            claims["iat"] = expires - lifetime;
            claims["nbf"] = expires - lifetime;
        });

        app.Clock.Advance(entryLifetime - TimeSpan.FromSeconds(2));
        await app.NextPollAsync();
        Assert.Equal(1, (await app.FeedAsync()).Count);
        using (var requests = new AppCounterRecorder(app, StorageRequestCounter.RequestsInstrument))
        {
            await ProblemAssert.IsInvalidTokenAsync(await app.GetAsync("/api/protected", latest)); // still valid: refused by the map alone
            Assert.Equal(0, requests.Count);
        }

        app.Clock.Advance(TimeSpan.FromSeconds(3));
        await app.NextPollAsync();
        Assert.Equal(0, (await app.FeedAsync()).Count);
        await ProblemAssert.IsInvalidTokenAsync(await app.GetAsync("/api/protected", latest)); // expired now
    }

    [Fact]
    public async Task EveryRevocationAppendsOneFeedRowInATimeBucket()
    {
        var (email, tokens) = await App.NewUserAsync();
        var other = await App.LoginAsync(email);
        await App.PostAsync("/api/logout?scope=session", other.Access);
        App.Clock.Advance(TimeSpan.FromSeconds(1));
        await App.PostAsync("/api/logout", tokens.Access);

        // The class's tests share one instance and its tables: this user's rows only.
        string userId = (string)TokenForge.Payload(tokens.Access)["sub"]!;
        var rows = await App.Table("revocations").QueryAsync<TableEntity>(row => row.GetString("UserId") == userId).ToListAsync();

        Assert.Equal(["Session", "Epoch"], rows.OrderBy(r => r.RowKey, StringComparer.Ordinal).Select(r => r.GetString("Kind")));
        Assert.All(rows, row =>
        {
            var at = new DateTime(long.Parse(row.RowKey[..19], System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);
            Assert.Equal(at.ToString("yyyyMMddHHmm", System.Globalization.CultureInfo.InvariantCulture), row.PartitionKey);
        });
    }
}

/// <summary>Without the epoch claim (tokens issued before it existed) the check reads storage, in feed mode too.</summary>
public sealed class RevocationFeedFallbackTests(AppFixture fixture) : AppTestBase(fixture)
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Auth:RevocationPollMilliseconds"] = "100" };

    [Fact]
    public async Task ATokenWithoutTheEpochClaimIsCheckedAgainstStorage()
    {
        var (_, tokens) = await App.NewUserAsync();
        string old = TokenForge.Resign(tokens.Access, App.SigningKey, payload => payload.Remove("sep"));
        await App.CoveredAsync();

        // The users table only: the poller reads the revocations table meanwhile.
        using var requests = new AppCounterRecorder(App, StorageRequestCounter.RequestsInstrument, (StorageRequestCounter.TableTag, "users"));
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", old)).StatusCode);
        Assert.Equal(1, requests.Count); // the session's state, in one query

        // Deleted behind the feed's back: only a storage read can know.
        string userId = TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();
        await App.Table("users").DeleteEntityAsync(userId, "session-" + TokenForge.Payload(tokens.Access)["sid"]!.GetValue<string>());
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", old));
    }

    [Fact]
    public async Task ReadModeReadsStorageOnEveryProtectedCall()
    {
        await using var reading = await App.StartAnotherInstanceAsync(new Dictionary<string, string?> { ["Auth:RevocationMode"] = "read" });
        var (email, tokens) = await reading.NewUserAsync();
        // The registration's verification email is composed after the answer (its link and slot are storage writes):
        // once it has arrived, every request counted below is a protected call's.
        await (await MailDevServer.Shared).WaitForMessageAsync(email);

        using var requests = new AppCounterRecorder(reading, StorageRequestCounter.RequestsInstrument);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await reading.GetAsync("/api/protected", tokens.Access)).StatusCode);
        }
        Assert.Equal(5, requests.Count);
        Assert.False((await reading.FeedAsync()).Covered); // no poller in read mode
    }
}

/// <summary>One read of the feed at start and none after it: every storage request during the test is a protected call's.</summary>
public sealed class RevocationFeedSteadyStateTests(AppFixture fixture) : AppTestBase(fixture)
{
    internal static Dictionary<string, string?> OnePollSettings => new()
    {
        ["Auth:RevocationPollMilliseconds"] = "60000",
    };

    protected override IDictionary<string, string?>? Settings => OnePollSettings;

    [Fact]
    public async Task SteadyStateProtectedCallsMakeNoStorageRequests()
    {
        var (_, tokens) = await App.NewUserAsync();
        var (_, ended) = await App.NewUserAsync("ended");
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout", ended.Access)).StatusCode);
        await App.CoveredAsync();

        const int calls = 50;
        using var requests = new AppCounterRecorder(App, StorageRequestCounter.RequestsInstrument);
        for (int i = 0; i < calls; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);
            await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", ended.Access));
        }

        Assert.Equal(0, requests.Count);
    }

    [Fact]
    public async Task TheCounterSeesEveryStorageRequest()
    {
        var (_, tokens) = await App.NewUserAsync();
        await App.CoveredAsync();
        using var requests = new AppCounterRecorder(App, StorageRequestCounter.RequestsInstrument);

        // Three reads of the user's partition: the profile, the second factor's rows, the linked identities.
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/me", tokens.Access)).StatusCode);

        Assert.Equal(3, requests.Count);
    }

    [Fact]
    public async Task AFullMapFallsBackToStorageReadsInsteadOfDroppingRevocations()
    {
        // An instance of its own (own tables, so nothing else is in its map) whose map holds two entries.
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>(OnePollSettings) { ["Auth:RevocationMaxEntries"] = "2" });
        var (_, live) = await app.NewUserAsync();
        await app.CoveredAsync();
        var ended = new List<TokenPair>();
        for (int i = 0; i < 3; i++)
        {
            var (_, tokens) = await app.NewUserAsync("ended");
            Assert.Equal(HttpStatusCode.NoContent, (await app.PostAsync("/api/logout?scope=session", tokens.Access)).StatusCode);
            ended.Add(tokens);
        }

        Assert.Equal(2, (await app.FeedAsync()).Count);
        Assert.Contains(app.Logs.Entries, e => e.EventId.Name == "RevocationFeedOverflow");
        using var requests = new AppCounterRecorder(app, StorageRequestCounter.RequestsInstrument);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/api/protected", live.Access)).StatusCode);
        Assert.Equal(1, requests.Count);
        foreach (var tokens in ended)
        {
            await ProblemAssert.IsInvalidTokenAsync(await app.GetAsync("/api/protected", tokens.Access));
        }
    }
}
