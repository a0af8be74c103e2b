using System.Globalization;
using System.Text.RegularExpressions;
using AuthFunctions.Maintenance;
using AuthFunctions.Storage;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// README (Hardening, Spent material is deleted): the <c>cleanup</c> timer deletes "in bounded batches (1,000 rows of
/// each kind a run)". More expired rows of every kind than one run may take are written straight into Azurite —
/// copies of rows the app itself wrote, under new keys — then the host runs <c>cleanup</c> twice through its admin API:
/// the first run takes exactly 1,000 of each kind and says more are left, the second takes the rest.
/// </summary>
public sealed class CleanupLimitsTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int Extra = 37;

    private static readonly string[] Kinds = ["sessions", "links", "throttle", "feed"];

    private static readonly Regex Report = new(
        @"cleanup: deleted (?<sessions>\d+) expired sessions, (?<links>\d+) expired email links, (?<throttle>\d+) stale throttle rows, (?<feed>\d+) old revocation feed rows and (?<orphans>\d+) rows of deleted accounts; \d+ expired mfa_tokens[^;]*(?<more>; more left for the next run)?");

    [Fact]
    public async Task ARunDeletesAtMostAThousandRowsOfEachKindAndTheNextRunTheRest()
    {
        Assert.Equal(1000, CleanupService.MaxRowsPerKind);
        var (email, tokens) = await App.NewUserAsync();
        string userId = TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();
        await App.LoginAsync(email);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await App.PostAsync("/api/logout?scope=session", tokens.Access)).StatusCode);
        var failed = await App.PostAsync("/api/login", null, new { email = TestApp.UniqueEmail("nobody"), password = "wrong password" });
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, failed.StatusCode);
        await (await MailDevServer.Shared).WaitForMessageAsync(email);

        var users = App.Table("users");
        var emails = App.Table("emails");
        var feed = App.Table("revocations");
        var session = await users.QueryAsync<TableEntity>(e => e.PartitionKey == userId && e.RowKey.CompareTo("session-") > 0 && e.RowKey.CompareTo("session-~") < 0).FirstAsync();
        var link = await users.GetEntityAsync<TableEntity>(userId, "link-verify-email");
        var throttle = await emails.QueryAsync<TableEntity>(e => e.RowKey == "throttle").FirstAsync();
        var revocation = await feed.QueryAsync<TableEntity>().FirstAsync();
        await SeedAsync(users, Copies(session, CleanupService.MaxRowsPerKind + Extra, _ => userId, _ => "session-" + Guid.NewGuid().ToString("N")));
        // One link a purpose and account: each copy in a partition of its own, beside a copy of the profile (a partition
        // without one is a deleted account's, whose rows the cleanup sweeps as such).
        var profile = await users.GetEntityAsync<TableEntity>(userId, "profile");
        string[] linkPartitions = [.. Enumerable.Range(0, CleanupService.MaxRowsPerKind + Extra).Select(_ => Guid.NewGuid().ToString("N"))];
        await SeedAsync(users, linkPartitions.SelectMany(partition => new[]
        {
            new TableEntity(profile.Value) { PartitionKey = partition, ETag = default },
            new TableEntity(link.Value) { PartitionKey = partition, ETag = default },
        }));
        await SeedAsync(emails, Copies(throttle, CleanupService.MaxRowsPerKind + Extra, _ => TableKey.Encode(TestApp.UniqueEmail("seeded")), _ => "throttle"));
        await SeedAsync(feed, Copies(revocation, CleanupService.MaxRowsPerKind + Extra, _ => revocation.PartitionKey,
            i => revocation.RowKey[..19] + "-" + i.ToString("D12", CultureInfo.InvariantCulture)));
        var before = await CountsAsync();
        Assert.All(before, count => Assert.True(count > CleanupService.MaxRowsPerKind, string.Join(", ", before)));
        // Every session's refresh token, the links, the throttle windows and the feed's rows have all expired.
        App.Clock.Advance(TimeSpan.FromDays(31));

        var first = Report.Match((await App.RunFunctionAsync("cleanup", TimeSpan.FromMinutes(3))).Log);

        Assert.True(first.Success);
        Assert.Equal(Kinds.Select(_ => "1000"), Kinds.Select(g => first.Groups[g].Value));
        Assert.Equal("0", first.Groups["orphans"].Value);
        Assert.True(first.Groups["more"].Success);
        var left = await CountsAsync();
        Assert.Equal(before.Select(count => count - CleanupService.MaxRowsPerKind), left);

        var second = Report.Match((await App.RunFunctionAsync("cleanup", TimeSpan.FromMinutes(3))).Log);

        Assert.True(second.Success);
        Assert.Equal(left.Select(count => count.ToString(CultureInfo.InvariantCulture)), Kinds.Select(g => second.Groups[g].Value));
        Assert.False(second.Groups["more"].Success);
        var none = await CountsAsync();
        Assert.All(none, count => Assert.Equal(0, count));
    }

    /// <summary>Session rows, email links, throttle rows and feed rows in the app's tables.</summary>
    private async Task<int[]> CountsAsync() =>
    [
        await App.Table("users").QueryAsync<TableEntity>(e => e.RowKey.CompareTo("session-") > 0 && e.RowKey.CompareTo("session-~") < 0, select: ["RowKey"]).CountAsync(),
        await App.Table("users").QueryAsync<TableEntity>(e => e.RowKey.CompareTo("link-") > 0 && e.RowKey.CompareTo("link-~") < 0, select: ["RowKey"]).CountAsync(),
        await App.Table("emails").QueryAsync<TableEntity>(e => e.RowKey == "throttle", select: ["RowKey"]).CountAsync(),
        await App.Table("revocations").QueryAsync<TableEntity>(select: ["RowKey"]).CountAsync(),
    ];

    private static IEnumerable<TableEntity> Copies(TableEntity original, int count, Func<int, string> partitionKey, Func<int, string> rowKey) =>
        Enumerable.Range(0, count).Select(i => new TableEntity(original) { PartitionKey = partitionKey(i), RowKey = rowKey(i), ETag = default });

    /// <summary>Inserts the rows: batches of 100 within a partition, a few partitions at a time.</summary>
    private static async Task SeedAsync(TableClient table, IEnumerable<TableEntity> rows)
    {
        var batches = rows.GroupBy(r => r.PartitionKey).SelectMany(p => p.Chunk(100)).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, cancel) =>
        {
            if (batch.Length == 1)
            {
                await table.AddEntityAsync(batch[0], cancel);
            }
            else
            {
                await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Add, r)), cancel);
            }
        });
    }
}
