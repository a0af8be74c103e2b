using System.Diagnostics;
using System.Text.Json.Serialization;
using AuthFunctions.Storage;
using AuthFunctions.Tests.Infrastructure;
using Azure;

namespace AuthFunctions.Tests.Storage;

public sealed record Note(string PartitionKey, string RowKey, string Text, int Version) : ITableEntity;

[JsonSerializable(typeof(Note))]
internal sealed partial class NoteJson : JsonSerializerContext;

public sealed class TableClientTests
{
    private static async Task<TableClient> NewTableAsync()
    {
        var azurite = await AzuriteServer.Shared;
        var table = new TableClient(azurite.Connection, "t" + Guid.NewGuid().ToString("N")[..20]);
        await table.CreateIfNotExistsAsync();
        return table;
    }

    [Fact]
    public async Task CreateIfNotExistsIsIdempotent()
    {
        var table = await NewTableAsync();
        await table.CreateIfNotExistsAsync();
        await table.PingAsync();
    }

    [Fact]
    public async Task MissingTableIsCreatedByTheFirstOperationWhenAsked()
    {
        var azurite = await AzuriteServer.Shared;
        var table = new TableClient(azurite.Connection, "t" + Guid.NewGuid().ToString("N")[..20], new TableClientOptions { CreateTableIfMissing = true });

        Assert.Null(await table.GetEntityIfExistsAsync("p", "r", NoteJson.Default.Note));
        var added = await table.AddEntityAsync(new Note("p", "r", "first", 1), NoteJson.Default.Note);

        Assert.Equal(TableWriteStatus.Success, added.Status);
        Assert.Single(await table.QueryPartitionAsync("p", NoteJson.Default.Note).ToListAsync());
    }

    [Fact]
    public async Task MissingTableIsAnErrorWhenNotAskedToCreate()
    {
        var azurite = await AzuriteServer.Shared;
        var table = new TableClient(azurite.Connection, "t" + Guid.NewGuid().ToString("N")[..20]);

        var failure = await Assert.ThrowsAsync<TableStorageException>(() => table.AddEntityAsync(new Note("p", "r", "x", 1), NoteJson.Default.Note));

        Assert.Equal("TableNotFound", failure.ErrorCode);
    }

    [Fact]
    public async Task InsertThenReadReturnsEntityAndETag()
    {
        var table = await NewTableAsync();
        var added = await table.AddEntityAsync(new Note("p", "r", "hello", 1), NoteJson.Default.Note);

        var read = await table.GetEntityIfExistsAsync("p", "r", NoteJson.Default.Note);

        Assert.Equal(TableWriteStatus.Success, added.Status);
        Assert.NotNull(read);
        Assert.Equal(new Note("p", "r", "hello", 1), read.Value);
        Assert.Equal(added.ETag, read.ETag);
    }

    [Fact]
    public async Task InsertOfExistingKeyIsConflictAndKeepsOriginal()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new Note("p", "r", "first", 1), NoteJson.Default.Note);

        var second = await table.AddEntityAsync(new Note("p", "r", "second", 2), NoteJson.Default.Note);

        Assert.Equal(TableWriteStatus.Conflict, second.Status);
        Assert.Equal("first", (await table.GetEntityIfExistsAsync("p", "r", NoteJson.Default.Note))!.Value.Text);
    }

    [Fact]
    public async Task ReadOfMissingEntityIsNull()
    {
        var table = await NewTableAsync();
        Assert.Null(await table.GetEntityIfExistsAsync("nope", "nope", NoteJson.Default.Note));
    }

    [Theory]
    [InlineData(TableUpdateMode.Replace)]
    [InlineData(TableUpdateMode.Merge)]
    public async Task UpdateWithCurrentETagSucceedsAndStaleETagIsRefused(TableUpdateMode mode)
    {
        var table = await NewTableAsync();
        var added = await table.AddEntityAsync(new Note("p", "r", "v1", 1), NoteJson.Default.Note);

        var first = await table.UpdateEntityAsync(new Note("p", "r", "v2", 2), added.ETag, mode, NoteJson.Default.Note);
        var stale = await table.UpdateEntityAsync(new Note("p", "r", "v3", 3), added.ETag, mode, NoteJson.Default.Note);

        Assert.Equal(TableWriteStatus.Success, first.Status);
        Assert.NotEqual(added.ETag, first.ETag);
        Assert.Equal(TableWriteStatus.PreconditionFailed, stale.Status);
        Assert.Equal("v2", (await table.GetEntityIfExistsAsync("p", "r", NoteJson.Default.Note))!.Value.Text);
    }

    [Fact]
    public async Task UpdateOfMissingEntityIsNotFound()
    {
        var table = await NewTableAsync();
        var result = await table.UpdateEntityAsync(new Note("p", "missing", "x", 1), ETag.All, TableUpdateMode.Replace, NoteJson.Default.Note);
        Assert.Equal(TableWriteStatus.NotFound, result.Status);
    }

    [Fact]
    public async Task UpsertCreatesThenReplaces()
    {
        var table = await NewTableAsync();
        await table.UpsertEntityAsync(new Note("p", "r", "a", 1), NoteJson.Default.Note);
        await table.UpsertEntityAsync(new Note("p", "r", "b", 2), NoteJson.Default.Note);
        Assert.Equal("b", (await table.GetEntityIfExistsAsync("p", "r", NoteJson.Default.Note))!.Value.Text);
    }

    [Fact]
    public async Task DeleteRemovesAndReportsMissingAndStale()
    {
        var table = await NewTableAsync();
        var added = await table.AddEntityAsync(new Note("p", "r", "a", 1), NoteJson.Default.Note);
        await table.UpdateEntityAsync(new Note("p", "r", "b", 2), ETag.All, TableUpdateMode.Replace, NoteJson.Default.Note);

        var stale = await table.DeleteEntityAsync("p", "r", added.ETag);
        var deleted = await table.DeleteEntityAsync("p", "r");
        var again = await table.DeleteEntityAsync("p", "r");

        Assert.Equal(TableWriteStatus.PreconditionFailed, stale.Status);
        Assert.Equal(TableWriteStatus.Success, deleted.Status);
        Assert.Equal(TableWriteStatus.NotFound, again.Status);
        Assert.Null(await table.GetEntityIfExistsAsync("p", "r", NoteJson.Default.Note));
    }

    public static TheoryData<string> AwkwardKeys => new()
    {
        "a/b", @"a\b", "a#b", "a?b", "o'brien", "''", "%41", "%", "tab\there", "nul\0", "del\u007f", "c1\u0085",
        "ünïcødé", "日本語", "emoji 😀", "space and +plus&amp=eq", "(paren)", "a,b", "  ",
        "user/with\\all#the?chars'@example.com",
    };

    [Theory]
    [MemberData(nameof(AwkwardKeys))]
    public async Task AnyStringRoundTripsAsKeysThroughTheService(string raw) => await AssertRoundTripAsync(raw);

    [Fact]
    public async Task LoneSurrogateRoundTripsAsKeyThroughTheService() =>
        await AssertRoundTripAsync("lone" + (char)0xD800 + "surrogate");

    private static async Task AssertRoundTripAsync(string raw)
    {
        var table = await NewTableAsync();
        string key = TableKey.Encode(raw);

        var added = await table.AddEntityAsync(new Note(key, key, raw, 1), NoteJson.Default.Note);
        var read = await table.GetEntityIfExistsAsync(key, key, NoteJson.Default.Note);
        var queried = await table.QueryPartitionAsync(key, NoteJson.Default.Note).ToListAsync();
        var deleted = await table.DeleteEntityAsync(key, key);

        Assert.Equal(TableWriteStatus.Success, added.Status);
        Assert.NotNull(read);
        Assert.Equal(raw, TableKey.Decode(read.Value.PartitionKey));
        Assert.Single(queried);
        Assert.Equal(TableWriteStatus.Success, deleted.Status);
    }

    [Fact]
    public async Task QueryFollowsContinuationAcrossMoreThanOneThousandEntities()
    {
        var table = await NewTableAsync();
        const int count = 1234;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await table.AddEntityAsync(new Note("many", i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture), "x", i), NoteJson.Default.Note, ct));
        await table.AddEntityAsync(new Note("other", "0", "x", 0), NoteJson.Default.Note);

        var all = await table.QueryPartitionAsync("many", NoteJson.Default.Note).ToListAsync();

        Assert.Equal(count, all.Count);
        Assert.Equal(count, all.Select(e => e.Value.RowKey).Distinct().Count());
        Assert.All(all, e => Assert.NotEqual(default, e.ETag));
    }

    [Fact]
    public async Task QueryNarrowsWithExtraFilter()
    {
        var table = await NewTableAsync();
        foreach (var row in new[] { "a", "b", "c" })
        {
            await table.AddEntityAsync(new Note("p", row, row, 1), NoteJson.Default.Note);
        }

        var some = await table.QueryPartitionAsync("p", NoteJson.Default.Note, "RowKey eq 'a' or RowKey eq 'c'").ToListAsync();

        Assert.Equal(["a", "c"], some.Select(e => e.Value.RowKey).Order());
    }

    [Fact]
    public async Task TwentyConcurrentInsertsOfOneKeyHaveExactlyOneWinner()
    {
        var table = await NewTableAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            table.AddEntityAsync(new Note("race", "key", $"writer {i}", i), NoteJson.Default.Note)));

        Assert.Equal(1, results.Count(r => r.Status == TableWriteStatus.Success));
        Assert.Equal(19, results.Count(r => r.Status == TableWriteStatus.Conflict));
    }

    [Fact]
    public async Task WrongAccountKeyIsAnErrorCodeFromTheHeaderNotAHang()
    {
        var azurite = await AzuriteServer.Shared;
        var wrongKey = Convert.ToBase64String(new byte[64]);
        var connection = TableConnection.Parse($"AccountName=devstoreaccount1;AccountKey={wrongKey};TableEndpoint=http://127.0.0.1:{azurite.Port}/devstoreaccount1");
        var table = new TableClient(connection, "anything");

        var failure = await Assert.ThrowsAsync<TableStorageException>(() => table.CreateIfNotExistsAsync());

        Assert.Equal(403, failure.Status);
        Assert.Equal("AuthorizationFailure", failure.ErrorCode);
        Assert.DoesNotContain(wrongKey, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppedServiceIsReportedUnavailableWithinSeconds()
    {
        await using var azurite = new AzuriteServer(location: null);
        await azurite.StartAsync();
        var table = new TableClient(azurite.Connection, "outage");
        await table.CreateIfNotExistsAsync();
        await azurite.StopAsync();

        var stopwatch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<TableStorageException>(() => table.GetEntityIfExistsAsync("p", "r", NoteJson.Default.Note));
        stopwatch.Stop();

        Assert.True(failure.IsUnavailable);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task UnresponsiveServiceTimesOutAsUnavailable()
    {
        // A listener that accepts connections and never answers: the worst kind of outage.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        int port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var connection = TableConnection.Parse($"AccountName=devstoreaccount1;AccountKey={TableConnection.DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1");
        var table = new TableClient(connection, "silent", new TableClientOptions { OperationTimeout = TimeSpan.FromSeconds(2) });

        var stopwatch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<TableStorageException>(() => table.PingAsync());

        Assert.True(failure.IsUnavailable);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
    }
}
