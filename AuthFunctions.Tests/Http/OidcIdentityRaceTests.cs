using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// The first sign-in of one provider identity, twice at once on two instances over one storage (two browsers that both
/// completed the provider's login): the identity's claim is an insert, so exactly one account is created and both
/// sign-ins land in it.
/// </summary>
public sealed class OidcIdentityRaceTests(OidcFixture fixture) : IClassFixture<OidcFixture>
{
    [Fact]
    public async Task TwoFirstSignInsOfOneIdentityOnTwoInstancesCreateExactlyOneAccount()
    {
        var app = fixture.App;
        await using var other = await app.StartAnotherInstanceAsync(OidcFixture.Settings(app.BaseAddress.Port, fixture.Provider));
        string subject = $"race-{Guid.NewGuid():N}";
        using var first = new OidcSite(app, fixture.Provider);
        using var second = new OidcSite(app, fixture.Provider);
        var callbacks = new[] { await first.ToCallbackAsync(subject), await second.ToCallbackAsync(subject) };
        using var conflicts = new WriteConflictRecorder(app, other);

        var race = await Race.RunAsync(
        [
            new Racer(app.BaseAddress, () => new HttpRequestMessage(HttpMethod.Get, callbacks[0].PathAndQuery)),
            new Racer(other.BaseAddress, () => new HttpRequestMessage(HttpMethod.Get, callbacks[1].PathAndQuery)),
        ]);

        Assert.All(race.Responses, r => Assert.Equal(HttpStatusCode.Found, r.StatusCode));
        var codes = race.Responses.Select(r => OidcSite.Fragment(r.Headers.Location!, "code")).ToList();
        Assert.All(codes, Assert.NotNull);
        var users = new List<string>();
        foreach (var (site, code) in new[] { (first, codes[0]), (second, codes[1]) })
        {
            var tokens = await ProblemAssert.JsonAsync(await site.ExchangeAsync(code), HttpStatusCode.OK);
            users.Add(TokenForge.Payload(tokens.GetProperty("access_token").GetString()!)["sub"]!.GetValue<string>());
        }
        Assert.Single(users.Distinct());
        // One account: one email index row, one identity claim, one profile with the identity.
        Assert.Single(app.Table("emails").Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {subject + "@idp.example.test"}")));
        var claim = Assert.Single(app.Table("identities").Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"test:" + subject}")));
        Assert.Equal(users[0], claim.GetString("UserId"));
        // The requests overlapped where it matters: the loser's insert of the claim met the winner's row.
        Assert.True(race.MaxInFlight == 2, $"the callbacks were not in flight together (max {race.MaxInFlight})");
        Assert.True(conflicts.Count > 0, "no write conflict: the two claims did not race");
    }
}
