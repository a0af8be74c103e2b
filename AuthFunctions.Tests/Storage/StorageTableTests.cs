using System.Diagnostics;
using AuthFunctions.Storage;
using AuthFunctions.Tests.Infrastructure;
using Azure;
using Azure.Data.Tables;
using Xunit.Abstractions;

namespace AuthFunctions.Tests.Storage;

/// <summary>The storage layer every store stands on, against a real Azurite: outcomes instead of exceptions, lazy tables, bounded outages.</summary>
public sealed class StorageTableTests(ITestOutputHelper output)
{
    private static StorageTable Table(string connectionString, string? name = null, double timeoutSeconds = 4) =>
        new(StorageServiceExtensions.CreateServiceClient(new StorageOptions { ConnectionString = connectionString, OperationTimeoutSeconds = timeoutSeconds })
            .GetTableClient(name ?? "t" + Guid.NewGuid().ToString("N")[..20]), TimeSpan.FromSeconds(timeoutSeconds));

    private static async Task<StorageTable> NewTableAsync() => Table((await AzuriteServer.Shared).ConnectionString);

    private static TableEntity Note(string partitionKey, string rowKey, string text) => new(partitionKey, rowKey) { ["Text"] = text };

    private static string Partition(string partitionKey) => TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}");

    [Fact]
    public async Task MissingTableIsCreatedByTheFirstWriteAndReadsBeforeItFindNothing()
    {
        var table = await NewTableAsync();

        Assert.Null(await table.GetAsync("p", "r"));
        Assert.Equal(WriteOutcome.NotFound, await table.DeleteAsync("p", "r"));
        Assert.Equal(WriteOutcome.Done, await table.InsertAsync(Note("p", "r", "first")));

        Assert.Single(await table.QueryAsync(Partition("p")).ToListAsync());
    }

    [Fact]
    public async Task QueryOfMissingTableCreatesItAndFindsNothing()
    {
        var table = await NewTableAsync();
        Assert.Empty(await table.QueryAsync(Partition("p")).ToListAsync());
    }

    [Fact]
    public async Task InsertThenReadReturnsEntityAndETag()
    {
        var table = await NewTableAsync();
        await table.InsertAsync(Note("p", "r", "hello"));

        var read = await table.GetAsync("p", "r");

        Assert.NotNull(read);
        Assert.Equal("hello", read.Value.Entity.GetString("Text"));
        Assert.NotEqual(default, read.Value.ETag);
    }

    [Fact]
    public async Task InsertOfExistingKeyIsAlreadyExistsAndKeepsOriginal()
    {
        var table = await NewTableAsync();
        await table.InsertAsync(Note("p", "r", "first"));

        Assert.Equal(WriteOutcome.AlreadyExists, await table.InsertAsync(Note("p", "r", "second")));
        Assert.Equal("first", (await table.GetAsync("p", "r"))!.Value.Entity.GetString("Text"));
    }

    [Theory]
    [InlineData(TableUpdateMode.Replace)]
    [InlineData(TableUpdateMode.Merge)]
    public async Task UpdateWithCurrentETagSucceedsAndStaleETagIsRefused(TableUpdateMode mode)
    {
        var table = await NewTableAsync();
        await table.InsertAsync(Note("p", "r", "v1"));
        var read = (await table.GetAsync("p", "r"))!.Value;

        var first = await table.UpdateAsync(Note("p", "r", "v2"), read.ETag, mode);
        var stale = await table.UpdateAsync(Note("p", "r", "v3"), read.ETag, mode);

        Assert.Equal(WriteOutcome.Done, first);
        Assert.Equal(WriteOutcome.Stale, stale);
        Assert.Equal("v2", (await table.GetAsync("p", "r"))!.Value.Entity.GetString("Text"));
    }

    [Fact]
    public async Task UpdateOfMissingEntityIsNotFound()
    {
        var table = await NewTableAsync();
        await table.InsertAsync(Note("p", "other", "x"));
        Assert.Equal(WriteOutcome.NotFound, await table.UpdateAsync(Note("p", "missing", "x"), ETag.All, TableUpdateMode.Replace));
    }

    [Fact]
    public async Task UpsertCreatesThenReplaces()
    {
        var table = await NewTableAsync();
        await table.UpsertAsync(Note("p", "r", "a"), TableUpdateMode.Replace);
        await table.UpsertAsync(Note("p", "r", "b"), TableUpdateMode.Replace);
        Assert.Equal("b", (await table.GetAsync("p", "r"))!.Value.Entity.GetString("Text"));
    }

    [Fact]
    public async Task DeleteRemovesAndReportsMissingAndStale()
    {
        var table = await NewTableAsync();
        await table.InsertAsync(Note("p", "r", "a"));
        var first = (await table.GetAsync("p", "r"))!.Value.ETag;
        await table.UpdateAsync(Note("p", "r", "b"), ETag.All, TableUpdateMode.Replace);

        Assert.Equal(WriteOutcome.Stale, await table.DeleteAsync("p", "r", first));
        Assert.Equal(WriteOutcome.Done, await table.DeleteAsync("p", "r"));
        Assert.Equal(WriteOutcome.NotFound, await table.DeleteAsync("p", "r"));
        Assert.Null(await table.GetAsync("p", "r"));
    }

    [Fact]
    public async Task DeleteAllRemovesRowsInBatchesAndSkipsRowsAlreadyGone()
    {
        var table = await NewTableAsync();
        var rows = Enumerable.Range(0, 150).Select(i => ("p", i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture))).ToList();
        foreach (var (partitionKey, rowKey) in rows)
        {
            await table.InsertAsync(Note(partitionKey, rowKey, "x"));
        }
        await table.DeleteAsync("p", "007");
        await table.InsertAsync(Note("p", "keep", "x"));

        await table.DeleteAllAsync(rows);

        var left = await table.QueryAsync(Partition("p")).ToListAsync();
        Assert.Equal(["keep"], left.Select(e => e.RowKey));
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

        var added = await table.InsertAsync(Note(key, key, raw));
        var read = await table.GetAsync(key, key);
        var queried = await table.QueryAsync(Partition(key)).ToListAsync();
        var deleted = await table.DeleteAsync(key, key);

        Assert.Equal(WriteOutcome.Done, added);
        Assert.NotNull(read);
        Assert.Equal(raw, TableKey.Decode(read.Value.Entity.PartitionKey));
        Assert.Single(queried);
        Assert.Equal(WriteOutcome.Done, deleted);
    }

    [Fact]
    public async Task QueryFollowsContinuationAcrossMoreThanOneThousandEntities()
    {
        var table = await NewTableAsync();
        const int count = 1234;
        await table.InsertAsync(Note("other", "0", "x"));
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await table.InsertAsync(Note("many", i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture), "x"), ct));

        var all = await table.QueryAsync(Partition("many")).ToListAsync();

        Assert.Equal(count, all.Count);
        Assert.Equal(count, all.Select(e => e.RowKey).Distinct().Count());
        Assert.All(all, e => Assert.NotEqual(default, e.ETag));
    }

    [Fact]
    public async Task TwentyConcurrentInsertsOfOneKeyHaveExactlyOneWinner()
    {
        var table = await NewTableAsync();
        await table.InsertAsync(Note("warm", "up", "creates the table"));
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => table.InsertAsync(Note("race", "key", $"writer {i}"))));

        Assert.Equal(1, results.Count(r => r == WriteOutcome.Done));
        Assert.Equal(19, results.Count(r => r == WriteOutcome.AlreadyExists));
    }

    [Fact]
    public async Task ConcurrentConditionalUpdatesOfOneReadHaveExactlyOneWinner()
    {
        var table = await NewTableAsync();
        await table.InsertAsync(Note("p", "counter", "0"));
        var read = (await table.GetAsync("p", "counter"))!.Value;

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => table.UpdateAsync(Note("p", "counter", $"{i}"), read.ETag, TableUpdateMode.Replace)));

        Assert.Equal(1, results.Count(r => r == WriteOutcome.Done));
        Assert.Equal(11, results.Count(r => r == WriteOutcome.Stale));
    }

    [Fact]
    public async Task WrongAccountKeyIsAStorageFailureWithItsCodeAndNoSecret()
    {
        var azurite = await AzuriteServer.Shared;
        var wrongKey = Convert.ToBase64String(new byte[64]);
        var table = Table($"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={wrongKey};TableEndpoint=http://127.0.0.1:{azurite.Port}/devstoreaccount1", "anything");

        var failure = await Assert.ThrowsAsync<TableStorageException>(() => table.InsertAsync(Note("p", "r", "x")));

        Assert.Equal(403, failure.Status);
        Assert.Equal("AuthorizationFailure", failure.ErrorCode);
        Assert.DoesNotContain(wrongKey, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppedServiceIsReportedUnavailableWithinSeconds()
    {
        await using var azurite = new AzuriteServer(location: null);
        await azurite.StartAsync();
        var table = Table(azurite.ConnectionString, "outage");
        await table.InsertAsync(Note("p", "r", "x"));
        await azurite.StopAsync();

        var stopwatch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<TableStorageException>(() => table.GetAsync("p", "r"));
        stopwatch.Stop();
        output.WriteLine($"stopped service reported unavailable after {stopwatch.ElapsedMilliseconds} ms");

        Assert.True(failure.IsUnavailable);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(4), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task UnresponsiveServiceTimesOutAsUnavailableWithinTheOperationTimeout()
    {
        // A listener that accepts connections and never answers: the worst kind of outage.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        int port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var table = Table($"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteServer.DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1", "silent", timeoutSeconds: 2);

        var stopwatch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<TableStorageException>(() => table.GetAsync("p", "r"));
        output.WriteLine($"silent service timed out after {stopwatch.ElapsedMilliseconds} ms (operation timeout 2 s)");

        Assert.True(failure.IsUnavailable);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(3.5));
    }
}
