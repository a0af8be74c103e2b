using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class RefreshTests(AppFixture fixture) : AppTestBase(fixture)
{
    private async Task<TokenPair> RefreshOkAsync(string refreshToken)
    {
        var json = await ProblemAssert.JsonAsync(await App.RefreshAsync(refreshToken), HttpStatusCode.OK);
        return new TokenPair(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    [Fact]
    public async Task RefreshRotatesToANewWorkingPair()
    {
        var (_, login) = await App.NewUserAsync();

        var response = await App.RefreshAsync(login.Refresh);
        var json = await ProblemAssert.JsonAsync(response, HttpStatusCode.OK);
        var refreshed = new TokenPair(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);

        Assert.NotEqual(login.Refresh, refreshed.Refresh);
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal(TokenForge.Payload(login.Access)["sid"]!.GetValue<string>(), TokenForge.Payload(refreshed.Access)["sid"]!.GetValue<string>());
        foreach (var token in new[] { login.Access, refreshed.Access })
        {
            // A password sign-in (RFC 8176 "pwd", one factor), kept by refresh.
            Assert.Equal("[\"pwd\"]", TokenForge.Payload(token)["amr"]!.ToJsonString());
            Assert.Equal("aal1", (string?)TokenForge.Payload(token)["acr"]);
        }
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", refreshed.Access)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", login.Access)).StatusCode);
        await RefreshOkAsync(refreshed.Refresh);
    }

    [Fact]
    public async Task ReusingASpentTokenRevokesTheWholeSession()
    {
        var (_, login) = await App.NewUserAsync();
        var second = await RefreshOkAsync(login.Refresh);
        App.Clock.Advance(TimeSpan.FromSeconds(6)); // past the grace window

        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(login.Refresh), HttpStatusCode.Unauthorized);

        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(second.Refresh), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", second.Access));
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", login.Access));
        Assert.Contains(App.Logs.Entries, e => e.EventId.Name == "RefreshTokenReuse");
    }

    [Fact]
    public async Task ReusingAnOlderSpentTokenAlsoRevokes()
    {
        var (_, login) = await App.NewUserAsync();
        var second = await RefreshOkAsync(login.Refresh);
        var third = await RefreshOkAsync(second.Refresh);
        App.Clock.Advance(TimeSpan.FromSeconds(6));

        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(login.Refresh), HttpStatusCode.Unauthorized);

        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(third.Refresh), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task WithinTheGraceWindowTheSpentTokenGetsTheSameNewPair()
    {
        var (_, login) = await App.NewUserAsync();
        var first = await RefreshOkAsync(login.Refresh);
        App.Clock.Advance(TimeSpan.FromSeconds(2));

        var second = await RefreshOkAsync(login.Refresh);

        Assert.Equal(first.Refresh, second.Refresh);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", second.Access)).StatusCode);
        await RefreshOkAsync(first.Refresh);
    }

    [Fact]
    public async Task ConcurrentRefreshesOfOneTokenAllGetTheSamePairAndNoSecondWinner()
    {
        var (_, login) = await App.NewUserAsync();
        await using var other = await App.StartAnotherInstanceAsync();
        using var conflicts = new WriteConflictRecorder(App, other);

        var race = await Race.RunAsync(Enumerable.Range(0, 8).Select(i =>
            Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/refresh", new { refresh_token = login.Refresh })));
        var responses = race.Responses;

        // Refreshes that read the session before it rotated had their rotation refused: one after another never are.
        Assert.True(conflicts.Count > 0, $"The refreshes never collided in storage (at most {race.MaxInFlight} in flight).");
        var bodies = await Task.WhenAll(responses.Select(r => ProblemAssert.JsonAsync(r, HttpStatusCode.OK)));
        var refreshTokens = bodies.Select(b => b.GetProperty("refresh_token").GetString()).Distinct().ToList();
        Assert.Single(refreshTokens);
        await RefreshOkAsync(refreshTokens[0]!);
    }

    [Fact]
    public async Task RefreshTokenExpiresAfterTheConfiguredDays()
    {
        var (_, login) = await App.NewUserAsync();
        App.Clock.Advance(TimeSpan.FromDays(30) + TimeSpan.FromSeconds(1));

        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(login.Refresh), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RefreshTokenWorksUntilItsLastDay()
    {
        var (_, login) = await App.NewUserAsync();
        App.Clock.Advance(TimeSpan.FromDays(29));
        await RefreshOkAsync(login.Refresh);
    }

    [Fact]
    public async Task GuessedTokenForARealSessionIsRefusedWithoutEndingIt()
    {
        var (_, login) = await App.NewUserAsync();
        var parts = login.Refresh.Split('.');
        string guessed = $"{parts[0]}.{parts[1]}.{new string('A', 43)}";

        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(guessed), HttpStatusCode.Unauthorized);

        await RefreshOkAsync(login.Refresh);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"refresh_token\":\"\"}")]
    [InlineData("{\"refresh_token\":null}")]
    public async Task ABodyWithoutARefreshTokenIsABadRequestNamingIt(string json)
    {
        var response = await App.Client.PostAsync("/api/refresh", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("refresh_token is required.", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("a.b.c")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30.ZmFrZQ")]
    public async Task MalformedRefreshTokensAreRefused(string token)
    {
        var response = await App.Client.PostAsJsonAsync("/api/refresh", new { refresh_token = token });
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(response, response.StatusCode);
    }

    [Fact]
    public async Task AccessTokenIsNotARefreshToken()
    {
        var (_, login) = await App.NewUserAsync();
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(login.Access), HttpStatusCode.Unauthorized);
    }
}
