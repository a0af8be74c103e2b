using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class PasswordTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const string NewPassword = "a brand new passphrase";

    [Fact]
    public async Task ChangeKeepsThisSessionEndsOthersAndSwapsThePassword()
    {
        var (email, current) = await App.NewUserAsync();
        var other = await App.LoginAsync(email);

        var response = await App.PostAsync("/api/password", current.Access, new { current_password = TestApp.Password, new_password = NewPassword });

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", current.Access)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.RefreshAsync(current.Refresh)).StatusCode);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", other.Access));
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(other.Refresh), HttpStatusCode.Unauthorized);
        await App.LoginAsync(email, NewPassword);
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/login", null, new { email, password = TestApp.Password }), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task WrongCurrentPasswordIsRefusedAndChangesNothing()
    {
        var (email, tokens) = await App.NewUserAsync();

        var response = await App.PostAsync("/api/password", tokens.Access, new { current_password = "not my password", new_password = NewPassword });

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        await App.LoginAsync(email);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);
    }

    [Theory]
    [InlineData(null, NewPassword, "current_password")]
    [InlineData(TestApp.Password, null, "new_password")]
    [InlineData(TestApp.Password, "short", "password")]
    public async Task MissingOrWeakFieldsAreValidationProblems(string? current, string? next, string field)
    {
        var (email, tokens) = await App.NewUserAsync();

        var response = await App.PostAsync("/api/password", tokens.Access, new { current_password = current, new_password = next });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
        await App.LoginAsync(email);
    }

    /// <summary>Six changes of one account at once, on two instances: every write of the hash is conditional on what was read, so one wins and the rest are told.</summary>
    [Fact]
    public async Task ConcurrentChangesAcrossTwoInstancesHaveExactlyOneWinner()
    {
        var (email, tokens) = await App.NewUserAsync();
        await using var other = await App.StartAnotherInstanceAsync();
        string[] candidates = [.. Enumerable.Range(0, 6).Select(i => $"{NewPassword} number {i}")];

        var race = await Race.RunAsync(candidates.Select((candidate, i) => Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/password",
            new { current_password = TestApp.Password, new_password = candidate }, tokens.Access)));
        var answers = race.Responses;

        Assert.True(race.MaxInFlight > 1, $"The changes did not overlap (at most {race.MaxInFlight} in flight).");
        string winner = await PasswordChangeRace.AssertExactlyOneWinnerAsync(answers, candidates);
        await App.LoginAsync(email, winner);
        foreach (string password in candidates.Where(c => c != winner).Append(TestApp.Password))
        {
            await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/login", null, new { email, password }), HttpStatusCode.Unauthorized);
            App.Clock.Advance(TimeSpan.FromSeconds(10)); // past the throttle's short delays: six wrong passwords are checked here
        }
    }

    [Fact]
    public async Task ChangeNeedsAnAccessToken() =>
        await ProblemAssert.IsInvalidTokenAsync(await App.PostAsync("/api/password", null, new { current_password = TestApp.Password, new_password = NewPassword }));
}
