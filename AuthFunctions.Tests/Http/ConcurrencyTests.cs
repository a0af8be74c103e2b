using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class ConcurrencyTests(AppFixture fixture) : AppTestBase(fixture)
{
    private static async Task<TokenPair> TokensAsync(HttpResponseMessage response)
    {
        var json = await ProblemAssert.JsonAsync(response, HttpStatusCode.OK);
        return new TokenPair(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    [Fact]
    public async Task TwentySimultaneousLoginsEachGetTheirOwnWorkingSession()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);

        var race = await Race.RunAsync(Enumerable.Range(0, 20).Select(_ =>
            Racer.Post(App.BaseAddress, "/api/login", new { email, password = TestApp.Password })));

        Assert.True(race.MaxInFlight > 1, $"The logins did not overlap (at most {race.MaxInFlight} in flight).");
        var sessions = await Task.WhenAll(race.Responses.Select(TokensAsync));
        Assert.Equal(20, sessions.Select(s => TokenForge.Payload(s.Access)["sid"]!.GetValue<string>()).Distinct().Count());
        var checks = await Task.WhenAll(sessions.Select(s => App.GetAsync("/api/protected", s.Access)));
        Assert.All(checks, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var list = await ProblemAssert.JsonAsync(await App.GetAsync("/api/sessions", sessions[0].Access), HttpStatusCode.OK);
        Assert.Equal(20, list.GetProperty("sessions").GetArrayLength());
    }

    /// <summary>Twenty sessions of one user refreshed at once, half on each of two instances over the same tables.</summary>
    [Fact]
    public async Task TwentySimultaneousRefreshesOfDifferentSessionsAllRotateOnce()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        var sessions = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => App.LoginAsync(email)));
        await using var other = await App.StartAnotherInstanceAsync();

        var race = await Race.RunAsync(sessions.Select((s, i) =>
            Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/refresh", new { refresh_token = s.Refresh })));

        Assert.True(race.MaxInFlight > 1, $"The refreshes did not overlap (at most {race.MaxInFlight} in flight).");
        var bodies = await Task.WhenAll(race.Responses.Select(r => ProblemAssert.JsonAsync(r, HttpStatusCode.OK)));
        var next = bodies.Select(b => b.GetProperty("refresh_token").GetString()!).ToList();
        Assert.Equal(20, next.Distinct().Count());
        var again = await Task.WhenAll(next.Select((token, i) => (i % 2 == 0 ? other : App).RefreshAsync(token)));
        Assert.All(again, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    /// <summary>
    /// A logout on one instance racing logins on another: a login answered before the logout was sent is refused
    /// afterwards, a login sent after the logout was answered keeps working, and at least one login was in flight with
    /// the logout (so the race was run). A login overlapping it may land on either side, but all of its tokens agree.
    /// </summary>
    [Fact]
    public async Task LogoutRacingLoginsLeavesNoSessionFromBeforeIt()
    {
        var (email, first) = await App.NewUserAsync();
        await using var other = await App.StartAnotherInstanceAsync();
        var before = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => App.LoginAsync(email)));

        var racers = Enumerable.Range(0, 16).Select(i => Racer.Post((i % 2 == 0 ? other : App).BaseAddress, "/api/login", new { email, password = TestApp.Password }))
            .Prepend(Racer.Post(App.BaseAddress, "/api/logout", null, first.Access));
        var race = await Race.RunAsync(racers);

        var logout = race.Entries[0];
        Assert.Equal(HttpStatusCode.NoContent, logout.Response.StatusCode);
        var during = race.Entries.Skip(1).ToList();
        Assert.True(during.Any(l => l.Overlaps(logout)), "No login was in flight while the logout was.");
        var after = await App.LoginAsync(email);
        // The other instance learns of the logout from the revocation feed (within two polls): wait for a poll that
        // started after it, so both instances judge every token on the same facts.
        await other.NextPollAsync();

        foreach (var old in before.Append(first))
        {
            await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", old.Access));
        }
        foreach (var login in during)
        {
            var tokens = await TokensAsync(login.Response);
            var check = await other.GetAsync("/api/protected", tokens.Access);
            if (login.Received < logout.Sent)
            {
                await ProblemAssert.IsInvalidTokenAsync(check);
            }
            else if (login.Sent > logout.Received)
            {
                Assert.Equal(HttpStatusCode.OK, check.StatusCode);
            }
            else
            {
                Assert.True(check.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized, check.StatusCode.ToString());
                var again = await App.GetAsync("/api/protected", tokens.Access);
                Assert.Equal(check.StatusCode, again.StatusCode);
            }
        }
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", after.Access)).StatusCode);
    }
}
