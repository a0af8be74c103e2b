using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// The first sign-in of one provider identity, six times at once on two instances over one storage (six browsers that all
/// completed the provider's login): the identity's claim is an insert, so exactly one account is created and both
/// sign-ins land in it.
/// </summary>
public sealed class OidcIdentityRaceTests(OidcFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<OidcFixture>
{
    private const int Browsers = 6;

    [Fact]
    public async Task TwoFirstSignInsOfOneIdentityOnTwoInstancesCreateExactlyOneAccount()
    {
        var app = fixture.App;
        await using var other = await app.StartAnotherInstanceAsync(OidcFixture.Settings(app.BaseAddress.Port, fixture.Provider));
        string subject = OidcProviderServer.NewSubject("race");
        // Six browsers that each completed the provider's login; their callbacks go three to each instance at once.
        var sites = Enumerable.Range(0, Browsers).Select(_ => new OidcSite(app, fixture.Provider)).ToList();
        var callbacks = new List<Uri>();
        foreach (var site in sites)
        {
            callbacks.Add(await site.ToCallbackAsync(subject));
        }
        using var conflicts = new WriteConflictRecorder(app, other);

        var race = await Race.RunAsync(callbacks.Select((callback, i) =>
            new Racer((i % 2 == 0 ? app : other).BaseAddress, () => new HttpRequestMessage(HttpMethod.Get, callback.PathAndQuery))));

        Assert.All(race.Responses, r => Assert.Equal(HttpStatusCode.Found, r.StatusCode));
        var codes = race.Responses.Select(r => OidcSite.Fragment(r.Headers.Location!, "code")).ToList();
        Assert.All(codes, Assert.NotNull);
        var users = new List<string>();
        foreach (var (site, code) in sites.Zip(codes))
        {
            var tokens = await ProblemAssert.JsonAsync(await site.ExchangeAsync(code), HttpStatusCode.OK);
            users.Add(TokenForge.Payload(tokens.GetProperty("access_token").GetString()!)["sub"]!.GetValue<string>());
            site.Dispose();
        }
        Assert.Single(users.Distinct());
        // One account: one email index row, one identity claim, one profile with the identity.
        Assert.Single(app.Table("emails").Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {subject + "@idp.example.test"}")));
        var claim = Assert.Single(app.Table("identities").Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"test:" + subject}")));
        Assert.Equal(users[0], claim.GetString("UserId"));
        // The requests overlapped where it matters: the loser's insert of the claim met the winner's row.
        // The requests were in flight together (each callback also waits on the provider's token endpoint, so whether two
        // claims meet at the insert itself varies from run to run: the write conflicts are reported, not required).
        Assert.True(race.MaxInFlight >= 2, $"the callbacks were not in flight together (max {race.MaxInFlight})");
        output.WriteLine($"{race.MaxInFlight} callbacks in flight at once; {conflicts.Count} write conflicts");
    }
}
