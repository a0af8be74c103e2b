using System.Net;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// The second factor's one-time guarantees under requests released together on two instances over one storage: one
/// TOTP code (one time step) signs in once, one recovery code once, one mfa_token once, and a burst of wrong codes gets
/// at most the code pool's free attempts checked.
/// </summary>
public sealed class MfaRaceTests(AppFixture fixture, ITestOutputHelper output) : AppTestBase(fixture)
{
    private static async Task<int> CountAsync(RaceResult race, HttpStatusCode status) =>
        await Task.FromResult(race.Responses.Count(r => r.StatusCode == status));

    private void Report(string name, RaceResult race) =>
        output.WriteLine($"{name}: {string.Join(", ", race.Responses.GroupBy(r => (int)r.StatusCode).Select(g => $"{g.Count()}×{g.Key}"))}, at most {race.MaxInFlight} in flight");

    [Fact]
    public async Task OneCodeOnTwoInstancesSignsInOnce()
    {
        var user = await App.NewMfaUserAsync("race-code");
        await using var other = await App.StartAnotherInstanceAsync();
        string code = await App.CodeNowAsync(user);
        var race = await Race.RunAsync(Enumerable.Range(0, 4).Select(i =>
            Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/login", new { email = user.Email, password = TestApp.Password, totp_code = code })));
        Report("one code", race);
        Assert.True(race.MaxInFlight > 1, $"The requests did not overlap (at most {race.MaxInFlight} in flight).");
        Assert.Equal(1, await CountAsync(race, HttpStatusCode.OK));
        Assert.Equal(3, await CountAsync(race, HttpStatusCode.Unauthorized));
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task OneRecoveryCodeOnTwoInstancesSignsInOnce()
    {
        var user = await App.NewMfaUserAsync("race-recovery");
        await using var other = await App.StartAnotherInstanceAsync();
        var race = await Race.RunAsync(Enumerable.Range(0, 4).Select(i =>
            Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/login", new { email = user.Email, password = TestApp.Password, recovery_code = user.RecoveryCodes[0] })));
        Report("one recovery code", race);
        Assert.True(race.MaxInFlight > 1, $"The requests did not overlap (at most {race.MaxInFlight} in flight).");
        Assert.Equal(1, await CountAsync(race, HttpStatusCode.OK));
        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", user.Aal1Tokens.Access), HttpStatusCode.OK);
        Assert.Equal(9, me.GetProperty("mfa").GetProperty("recovery_codes_left").GetInt32());
    }

    [Fact]
    public async Task OneMfaTokenOnTwoInstancesSignsInOnceEvenWithFourGoodCodes()
    {
        var user = await App.NewMfaUserAsync("race-token");
        await using var other = await App.StartAnotherInstanceAsync();
        var login = await App.Client.PostAsync("/api/login", System.Net.Http.Json.JsonContent.Create(new { email = user.Email, password = TestApp.Password }));
        string mfaToken = (await ProblemAssert.IsProblemAsync(login, HttpStatusCode.Forbidden)).GetProperty("mfa_token").GetString()!;
        var race = await Race.RunAsync(Enumerable.Range(0, 4).Select(i =>
            Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/login/mfa", new { mfa_token = mfaToken, recovery_code = user.RecoveryCodes[i] })));
        Report("one mfa_token", race);
        Assert.True(race.MaxInFlight > 1, $"The requests did not overlap (at most {race.MaxInFlight} in flight).");
        Assert.Equal(1, await CountAsync(race, HttpStatusCode.OK));
        Assert.Equal(3, await CountAsync(race, HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task FortyWrongCodesOnTwoInstancesGetAtMostTheFreeAttemptsChecked()
    {
        var user = await App.NewMfaUserAsync("race-burst");
        await using var other = await App.StartAnotherInstanceAsync();
        string right = await App.CodeNowAsync(user);
        string wrong = right == "000000" ? "111111" : "000000";
        var race = await Race.RunAsync(Enumerable.Range(0, 40).Select(i =>
            Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/mfa/recovery-codes", new { code = wrong }, user.Aal1Tokens.Access)));
        Report("40 wrong codes", race);
        Assert.True(race.MaxInFlight > 1, $"The requests did not overlap (at most {race.MaxInFlight} in flight).");
        // A 401 is a code that was checked; the rest were refused unchecked (429 with Retry-After).
        int checkedCodes = await CountAsync(race, HttpStatusCode.Unauthorized);
        Assert.InRange(checkedCodes, 1, 5);
        Assert.Equal(40 - checkedCodes, await CountAsync(race, HttpStatusCode.TooManyRequests));
        Assert.All(race.Responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests), r => Assert.NotNull(r.Headers.RetryAfter));
    }
}
