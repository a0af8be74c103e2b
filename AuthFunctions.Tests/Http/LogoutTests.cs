using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>Logout in the default feed mode; <see cref="LogoutInReadModeTests"/> runs every test again with a storage read per call.</summary>
public class LogoutTests(AppFixture fixture) : AppTestBase(fixture)
{
    protected const int PollMilliseconds = 500;

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Auth:RevocationPollMilliseconds"] = PollMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task LogoutRevokesEveryTokenIssuedBeforeIt()
    {
        var (email, first) = await App.NewUserAsync();
        var second = await App.LoginAsync(email);

        var response = await App.PostAsync("/api/logout", first.Access);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", first.Access));
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", second.Access));
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(first.Refresh), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(second.Refresh), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task LoginInTheSameSecondAsLogoutGetsWorkingTokens()
    {
        // The clock does not move at all between logout and login: no second boundary can help.
        var (email, before) = await App.NewUserAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout", before.Access)).StatusCode);

        var after = await App.LoginAsync(email);

        Assert.Equal(TokenForge.Payload(before.Access)["iat"]!.GetValue<long>(), TokenForge.Payload(after.Access)["iat"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", after.Access)).StatusCode);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", before.Access));
    }

    [Fact]
    public async Task LogoutLeavesOtherUsersAlone()
    {
        var (_, alice) = await App.NewUserAsync("alice");
        var (_, bob) = await App.NewUserAsync("bob");

        await App.PostAsync("/api/logout", alice.Access);

        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", bob.Access)).StatusCode);
    }

    [Fact]
    public async Task LogoutIsSeenByEveryInstance()
    {
        // A second app instance over the same tables: the revocation lives in storage (and its feed), not in memory.
        var (_, tokens) = await App.NewUserAsync();
        await using var other = await App.StartAnotherInstanceAsync(Settings);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", tokens.Access)).StatusCode);

        await App.PostAsync("/api/logout", tokens.Access);

        // Within two poll intervals (read mode: at once).
        await other.RefusedWithinAsync(tokens.Access, TimeSpan.FromMilliseconds(2 * PollMilliseconds));
    }

    [Fact]
    public async Task ScopeSessionEndsOnlyTheCurrentSession()
    {
        var (email, laptop) = await App.NewUserAsync();
        var phone = await App.LoginAsync(email);

        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout?scope=session", laptop.Access)).StatusCode);

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", laptop.Access));
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(laptop.Refresh), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", phone.Access)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.RefreshAsync(phone.Refresh)).StatusCode);
    }

    [Fact]
    public async Task ScopeOthersKeepsOnlyTheCurrentSession()
    {
        var (email, laptop) = await App.NewUserAsync();
        var phone = await App.LoginAsync(email);
        var tablet = await App.LoginAsync(email);

        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout?scope=others", laptop.Access)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", laptop.Access)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.RefreshAsync(laptop.Refresh)).StatusCode);
        foreach (var ended in new[] { phone, tablet })
        {
            await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", ended.Access));
            await ProblemAssert.IsProblemAsync(await App.RefreshAsync(ended.Refresh), HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task UnknownScopeIsBadRequestAndEndsNothing()
    {
        var (_, tokens) = await App.NewUserAsync();
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/logout?scope=everything", tokens.Access), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);
    }

    [Fact]
    public async Task LogoutWithoutTokenIsRefused() =>
        await ProblemAssert.IsInvalidTokenAsync(await App.PostAsync("/api/logout", null));
}

/// <summary>Every logout test again with <c>Auth__RevocationMode=read</c>: the per-request storage read.</summary>
public sealed class LogoutInReadModeTests(AppFixture fixture) : LogoutTests(fixture)
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Auth:RevocationMode"] = "read" };
}
