using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class ConcurrencyTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task TwentySimultaneousLoginsEachGetTheirOwnWorkingSession()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);

        var sessions = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => App.LoginAsync(email)));

        Assert.Equal(20, sessions.Select(s => TokenForge.Payload(s.Access)["sid"]!.GetValue<string>()).Distinct().Count());
        var checks = await Task.WhenAll(sessions.Select(s => App.GetAsync("/api/protected", s.Access)));
        Assert.All(checks, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var list = await ProblemAssert.JsonAsync(await App.GetAsync("/api/sessions", sessions[0].Access), HttpStatusCode.OK);
        Assert.Equal(20, list.GetProperty("sessions").GetArrayLength());
    }

    [Fact]
    public async Task TwentySimultaneousRefreshesOfDifferentSessionsAllRotateOnce()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        var sessions = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => App.LoginAsync(email)));

        var refreshed = await Task.WhenAll(sessions.Select(s => App.RefreshAsync(s.Refresh)));

        var bodies = await Task.WhenAll(refreshed.Select(r => ProblemAssert.JsonAsync(r, HttpStatusCode.OK)));
        var next = bodies.Select(b => b.GetProperty("refresh_token").GetString()!).ToList();
        Assert.Equal(20, next.Distinct().Count());
        var again = await Task.WhenAll(next.Select(App.RefreshAsync));
        Assert.All(again, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Fact]
    public async Task LogoutRacingLoginsLeavesNoSessionFromBeforeIt()
    {
        var (email, first) = await App.NewUserAsync();
        var before = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => App.LoginAsync(email)));

        var logout = App.PostAsync("/api/logout", first.Access);
        var during = Task.WhenAll(Enumerable.Range(0, 10).Select(_ => App.LoginAsync(email)));
        Assert.Equal(HttpStatusCode.NoContent, (await logout).StatusCode);
        await during;
        var after = await App.LoginAsync(email);

        foreach (var old in before.Append(first))
        {
            await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", old.Access));
        }
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", after.Access)).StatusCode);
    }
}
