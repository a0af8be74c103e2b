using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// A password change fails with 409 only when the credential itself changed under it (another change, a reset, a
/// rehash, a logout of every session); a login's bookkeeping or a profile edit landing meanwhile moves the account's
/// version, and the change is written again on the new version.
/// </summary>
public sealed class PasswordChangeConflictTests(AppFixture fixture) : AppTestBase(fixture)
{
    /// <summary>The store's record of a credential write that found only bookkeeping changed and was written again (event 2201).</summary>
    private static bool Rewritten(TestApp app, string userId) =>
        app.Logs.Entries.Any(log => log.EventId.Id == 2201 && log.Message.Contains(userId, StringComparison.Ordinal));

    private static Racer Change(TestApp app, string accessToken, string current, string next) =>
        Racer.Post(app.BaseAddress, "/api/password", new { current_password = current, new_password = next }, accessToken);

    private static Racer Login(TestApp app, string email, string password) => Racer.Post(app.BaseAddress, "/api/login", new { email, password });

    private static Racer Rename(TestApp app, string accessToken, int i) => new(app.BaseAddress, () =>
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, "/api/me") { Content = JsonContent.Create(new { full_name = $"Renamed {i}" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return request;
    });

    /// <summary>
    /// One change released together with 8 logins and 8 profile edits of the same account, over two instances, until a
    /// round shows that one of them wrote the account between the change's read and its write (the store's record of
    /// the second write, which only that overlap produces): every change answers 204.
    /// </summary>
    [Fact]
    public async Task AChangeRacingLoginsAndProfileEditsOnTwoInstancesSucceeds()
    {
        var (email, tokens) = await App.NewUserAsync("change-vs-logins");
        string userId = TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();
        await using var other = await App.StartAnotherInstanceAsync();
        string current = TestApp.Password;

        for (int round = 0; round < 6 && !await RewrittenAsync(userId, App, other); round++)
        {
            string next = $"changed in round {round}";
            var racers = new List<Racer> { Change(round % 2 == 0 ? App : other, tokens.Access, current, next) };
            racers.AddRange(Enumerable.Range(0, 8).Select(i => Login(i % 2 == 0 ? App : other, email, current)));
            racers.AddRange(Enumerable.Range(0, 8).Select(i => Rename(i % 2 == 0 ? other : App, tokens.Access, i)));

            var race = await Race.RunAsync(racers);
            var answers = race.Responses;

            Assert.True(race.MaxInFlight > 1, $"The requests did not overlap (at most {race.MaxInFlight} in flight).");
            Assert.Equal(HttpStatusCode.NoContent, answers[0].StatusCode);
            // A login that checked the password after the change wrote fails (and enough of those start the account's delays).
            Assert.All(answers[1..9], login => Assert.True(login.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, login.StatusCode.ToString()));
            Assert.All(answers[9..], edit => Assert.Equal(HttpStatusCode.OK, edit.StatusCode));
            current = next;
            App.Clock.Advance(TimeSpan.FromMinutes(16)); // past any delay those failed logins started (and this access token's life)
            tokens = await App.LoginAsync(email, current);
        }
        Assert.True(await RewrittenAsync(userId, App, other), "no round had a login or an edit land between a change's read and its write");
    }

    /// <summary>Whether an instance wrote a change again after a bookkeeping write (its record follows the answer by moments).</summary>
    private static async Task<bool> RewrittenAsync(string userId, params TestApp[] instances)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1);
        while (!instances.Any(app => Rewritten(app, userId)))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
        return true;
    }

    /// <summary>
    /// Four changes released together with logins and edits over two instances: exactly one change wins; a change that
    /// read the account before the winner wrote gets 409 (only an overlap produces one), one that read after gets 401.
    /// </summary>
    [Fact]
    public async Task OfChangesRacingEachOtherAndLoginsExactlyOneWins()
    {
        var (email, tokens) = await App.NewUserAsync("change-vs-change");
        await using var other = await App.StartAnotherInstanceAsync();
        string[] candidates = [.. Enumerable.Range(0, 4).Select(i => $"a racing new password {i}")];
        var racers = candidates.Select((next, i) => Change(i % 2 == 0 ? App : other, tokens.Access, TestApp.Password, next)).ToList();
        racers.AddRange(Enumerable.Range(0, 6).Select(i => Login(i % 2 == 0 ? App : other, email, TestApp.Password)));
        racers.AddRange(Enumerable.Range(0, 4).Select(i => Rename(i % 2 == 0 ? other : App, tokens.Access, i)));

        var race = await Race.RunAsync(racers);
        var changes = race.Responses[..4];

        Assert.True(race.MaxInFlight > 1, $"The requests did not overlap (at most {race.MaxInFlight} in flight).");
        string winner = await PasswordChangeRace.AssertExactlyOneWinnerAsync(changes, candidates);
        App.Clock.Advance(TimeSpan.FromMinutes(16)); // past any delay the logins that lost started
        await App.LoginAsync(email, winner);
    }
}
