using System.Net;
using System.Security.Cryptography;
using AuthFunctions.Tests.Infrastructure;
using static AuthFunctions.Tests.Infrastructure.PasskeyCeremonies;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// The passkey rules that rest on conditional writes, raced on two instances of one deployment over one storage: a
/// challenge is spent by a delete conditional on the row read (one sign-in per challenge), and a credential id is claimed
/// by inserting its index row (one account per credential).
/// </summary>
public sealed class PasskeyRaceTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int Racers = 10;

    protected override IDictionary<string, string?>? Settings => PasskeyCeremonies.Settings();

    [Fact]
    public async Task OneAssertionSentTenTimesOnTwoInstancesSignsInOnce()
    {
        await using var other = await App.StartAnotherInstanceAsync(PasskeyCeremonies.Settings());
        var (_, _, authenticator) = await NewUserWithPasskeyAsync(App);
        var options = await LoginOptionsAsync(App);
        var body = new { challenge_id = options.GetProperty("challenge_id").GetString(), credential = authenticator.Assert(options) };
        using var conflicts = new WriteConflictRecorder(App, other);

        var race = await Race.RunAsync(Enumerable.Range(0, Racers).Select(i => Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/passkeys/login", body)));

        Assert.Equal(1, race.Responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        foreach (var refused in race.Responses.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Unauthorized);
        }
        // Only requests that read the challenge before the winner spent it meet a refused delete.
        Assert.True(conflicts.Count > 0, $"No request lost the conditional delete of the challenge: they did not overlap (at most {race.MaxInFlight} in flight).");
    }

    [Fact]
    public async Task TenAccountsRegisteringOneCredentialOnTwoInstancesGiveItToOne()
    {
        await using var other = await App.StartAnotherInstanceAsync(PasskeyCeremonies.Settings());
        byte[] credentialId = RandomNumberGenerator.GetBytes(32);
        var racers = new List<Racer>();
        var authenticators = new List<SoftwareAuthenticator>();
        for (int i = 0; i < Racers; i++)
        {
            var (_, tokens) = await App.NewUserAsync("passkey-race");
            var authenticator = NewAuthenticator(credentialId);
            authenticators.Add(authenticator);
            var credential = authenticator.Register(await RegisterOptionsAsync(App, tokens.Access));
            racers.Add(Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/passkeys/register", new { credential }, tokens.Access));
        }
        using var conflicts = new WriteConflictRecorder(App, other);

        var race = await Race.RunAsync(racers);

        var winners = race.Responses.Select((r, i) => (r, i)).Where(x => x.r.StatusCode == HttpStatusCode.Created).ToList();
        Assert.Single(winners);
        foreach (var refused in race.Responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Conflict);
        }
        // The credential signs in to the winner's account only (its key is the one stored).
        await ProblemAssert.JsonAsync(await LoginAsync(App, authenticators[winners[0].i]), HttpStatusCode.OK);
        foreach (var loser in authenticators.Where((_, i) => i != winners[0].i).Take(2))
        {
            await ProblemAssert.IsProblemAsync(await LoginAsync(other, loser), HttpStatusCode.Unauthorized);
        }
        // The registrations were in flight together (a sequential run has one at a time). Whether a loser met the winner's
        // insert of the index row (a write conflict) or already found it taken depends on timing: both are refused with 409.
        Assert.True(race.MaxInFlight > 1, $"The registrations did not overlap (at most {race.MaxInFlight} in flight; {conflicts.Count} write conflicts).");
        authenticators.ForEach(a => a.Dispose());
    }
}
