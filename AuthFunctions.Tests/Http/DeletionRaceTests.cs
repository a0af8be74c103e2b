using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;
using Xunit.Abstractions;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// Deletion leaves nothing: once <c>DELETE /api/me</c> has answered, no table holds a row in the account's partitions,
/// and no login that raced it (on either instance) holds a session that outlives it; the <c>cleanup</c> timer removes
/// rows it finds in a partition whose profile is gone.
/// </summary>
public sealed class DeletionRaceTests(AppFixture fixture, ITestOutputHelper output) : AppTestBase(fixture)
{
    private const int Logins = 16;

    private static Racer Delete(TestApp app, string accessToken) => new(app.BaseAddress, () =>
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, "/api/me") { Content = JsonContent.Create(new { password = TestApp.Password }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return request;
    });

    /// <summary>Every row of every table of the app whose partition is one of <paramref name="partitions"/>, as "table/partition/row".</summary>
    private async Task<List<string>> RowsInAsync(params string[] partitions)
    {
        var rows = new List<string>();
        var service = new TableServiceClient(App.Azurite.ConnectionString);
        await foreach (var table in service.QueryAsync(t => t.Name.CompareTo(App.TablePrefix) >= 0 && t.Name.CompareTo(App.TablePrefix + "~") < 0))
        {
            var client = service.GetTableClient(table.Name);
            foreach (string partition in partitions)
            {
                await foreach (var row in client.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), select: ["PartitionKey", "RowKey"]))
                {
                    rows.Add($"{table.Name[App.TablePrefix.Length..]}/{row.PartitionKey}/{row.RowKey}");
                }
            }
        }
        return rows;
    }

    /// <summary>
    /// Three rounds, each a deletion released together with 16 logins of the same account over two instances (the
    /// deletion overlaps logins, which a sequential run never does). After the deletion answered: no row in the user's
    /// partition of any table, none in the email's but the failed-login counter an address without an account gets, and every token a racing login got is refused on both instances (on the other
    /// one within the revocation feed's bound) with its refresh token dead.
    /// </summary>
    [Fact]
    public async Task LoginsRacingADeletionOnTwoInstancesLeaveNoRowAndNoSession()
    {
        await using var other = await App.StartAnotherInstanceAsync();
        var issued = new List<TokenPair>();
        var leftovers = new List<string>();
        for (int round = 0; round < 3; round++)
        {
            var (email, tokens) = await App.NewUserAsync("deleted");
            string userId = TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();
            await (await MailDevServer.Shared).WaitForMessageAsync(email); // the verification link is written
            var racers = new List<Racer> { Delete(round % 2 == 0 ? App : other, tokens.Access) };
            racers.AddRange(Enumerable.Range(0, Logins).Select(i => Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/login", new { email, password = TestApp.Password })));

            var race = await Race.RunAsync(racers);

            Assert.True(race.MaxInFlight > 1, $"The requests did not overlap (at most {race.MaxInFlight} in flight).");
            Assert.Contains(race.Entries.Skip(1), login => login.Overlaps(race.Entries[0]));
            Assert.Equal(HttpStatusCode.NoContent, race.Responses[0].StatusCode);
            for (int i = 1; i <= Logins; i++)
            {
                var answer = race.Responses[i];
                // 401 for a login that found the account gone; once five of those failed, the address's delays start (429).
                Assert.True(answer.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, answer.StatusCode.ToString());
                if (answer.StatusCode == HttpStatusCode.OK)
                {
                    var json = await answer.Content.ReadFromJsonAsync<JsonElement>();
                    issued.Add(new TokenPair(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!));
                }
            }
            string address = AuthFunctions.Storage.TableKey.Encode(email);
            var rows = await RowsInAsync(userId, address);
            output.WriteLine($"round {round}: {race.Responses.Skip(1).Count(r => r.StatusCode == HttpStatusCode.OK)} of {Logins} logins got tokens; rows left: {rows.Count} [{string.Join(", ", rows)}]");
            // A login that found the address without an account counts its failure there, as for any such address (the
            // untrusted pool's counter, no account data); nothing else may be left.
            leftovers.AddRange(rows.Where(row => row != $"emails/{address}/throttle"));
        }

        Assert.Empty(leftovers);
        await Task.Delay(2 * other.RevocationPollInterval + TimeSpan.FromMilliseconds(200));
        foreach (var tokens in issued)
        {
            await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tokens.Access));
            await ProblemAssert.IsInvalidTokenAsync(await other.GetAsync("/api/protected", tokens.Access));
            await ProblemAssert.IsProblemAsync(await other.RefreshAsync(tokens.Refresh), HttpStatusCode.Unauthorized);
        }
    }

    /// <summary>
    /// Rows left in a partition whose profile is gone (what a login racing a deletion used to leave: a session with its
    /// refresh-token hash, a link) are deleted by the <c>cleanup</c> timer, run through the host's admin API; a live
    /// account's rows stay.
    /// </summary>
    [Fact]
    public async Task CleanupRemovesTheRowsOfAPartitionWithoutProfile()
    {
        var (email, tokens) = await App.NewUserAsync("live");
        string liveId = TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();
        await (await MailDevServer.Shared).WaitForMessageAsync(email);
        string orphanId = Guid.NewGuid().ToString("N");
        var users = App.Table("users");
        var far = App.Clock.GetUtcNow() + TimeSpan.FromDays(20);
        await users.AddEntityAsync(new TableEntity(orphanId, "session-" + Guid.NewGuid().ToString("N"))
        {
            ["Epoch"] = 0, ["CreatedAt"] = App.Clock.GetUtcNow(), ["LastUsedAt"] = App.Clock.GetUtcNow(), ["RefreshExpiresAt"] = far,
            ["RefreshTokenHash"] = "a-refresh-token-hash", ["AbsoluteExpiresAt"] = far,
        });
        await users.AddEntityAsync(new TableEntity(orphanId, "link-reset-password") { ["Hash"] = "a-link-hash", ["CreatedAt"] = App.Clock.GetUtcNow(), ["ExpiresAt"] = far });
        var liveRows = await RowsInAsync(liveId);

        var run = await App.RunFunctionAsync("cleanup");

        Assert.Empty(await RowsInAsync(orphanId));
        Assert.Equal(liveRows, await RowsInAsync(liveId));
        Assert.Contains(liveRows, row => row.EndsWith("/profile", StringComparison.Ordinal));
        Assert.Contains(liveRows, row => row.Contains("/session-", StringComparison.Ordinal));
        Assert.Contains("2 rows of deleted accounts", run.Log, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/me", tokens.Access)).StatusCode);
    }
}
