using System.Net;
using System.Text.RegularExpressions;
using AuthFunctions.Backup;
using AuthFunctions.Tests.Infrastructure;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;

namespace AuthFunctions.Tests.Hosting;

/// <summary>
/// The <c>backup</c> timer function, run by the real Functions host through its admin API, exports the app's tables to
/// Azurite's Blob service; <c>scripts/restore-backup</c>, run as an operator runs it, restores the export into tables of
/// a new prefix. The class's app (its schedule: once a year) is shared, so each test restores into prefixes of its own.
/// </summary>
public sealed partial class BackupTests(AppFixture fixture) : AppTestBase(fixture)
{
    protected override IDictionary<string, string?>? Settings => PasskeyCeremonies.Settings();

    /// <summary>A row with one property of every type the Table service stores, written behind the app's back.</summary>
    private static TableEntity EveryType(string partition) => new(partition, "every-type")
    {
        ["Text"] = "ünïcode \"quoted\"\nline",
        ["Flag"] = true,
        ["Small"] = int.MinValue,
        ["Large"] = long.MaxValue,
        ["Real"] = 0.1 + 0.2,
        ["Whole"] = 5.0,
        ["When"] = new DateTimeOffset(2026, 12, 2, 7, 30, 15, 123, TimeSpan.Zero).AddTicks(4567),
        ["Id"] = Guid.NewGuid(),
        ["Bytes"] = new byte[] { 0, 1, 2, 254, 255 },
    };

    /// <summary>Runs the timer now; its log line names the export it wrote.</summary>
    private async Task<string> BackupNowAsync()
    {
        var run = await App.RunFunctionAsync("backup");
        return ExportName().Match(run.Log) is { Success: true } match ? match.Groups["export"].Value : throw new Xunit.Sdk.XunitException($"no export named in:\n{run.Log}");
    }

    private Task<ScriptRun> RestoreAsync(string export, string prefix) =>
        ScriptRunner.RunAsync("scripts/restore-backup", new Dictionary<string, string?> { ["AZURE_STORAGE_CONNECTION_STRING"] = App.Azurite.ConnectionString },
            "--export", export, "--prefix", prefix);

    private TableClient Table(string prefix, string name) => new(App.Azurite.ConnectionString, prefix + name);

    /// <summary>Every row as "PartitionKey/RowKey" → its properties with their .NET types, the service's Timestamp and ETag aside (none for a missing table).</summary>
    private static async Task<SortedDictionary<string, string>> RowsAsync(TableClient table)
    {
        var rows = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await table.CreateIfNotExistsAsync();
        await foreach (var entity in table.QueryAsync<TableEntity>())
        {
            var properties = entity.Where(p => p.Key is not ("Timestamp" or "odata.etag") && p.Value is not null)
                .OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => $"{p.Key}:{p.Value!.GetType().Name}={Show(p.Value)}");
            rows[$"{entity.PartitionKey}/{entity.RowKey}"] = string.Join("; ", properties);
        }
        return rows;
    }

    private static string Show(object value) => value switch
    {
        byte[] bytes => Convert.ToHexString(bytes),
        BinaryData data => Convert.ToHexString(data.ToArray()),
        DateTimeOffset time => time.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture),
        double real => real.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
    };

    private static string NewPrefix() => "r" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task AnExportRestoresEveryRowAndPropertyWithItsType()
    {
        // Rows of every table, as the app writes them: accounts and sessions (users), the email index and a throttle
        // counter (emails), a logout's revocation (revocations); and a row with every property type.
        var (_, first, _) = await PasskeyCeremonies.NewUserWithPasskeyAsync(App);
        await PasskeyCeremonies.LoginOptionsAsync(App); // a live passkey challenge
        var (second, _) = await App.NewUserAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.PostAsync("/api/login", null, new { email = second, password = "wrong password" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout", first.Access)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/password/forgot", null, new { email = second })).StatusCode);
        await App.Table("users").AddEntityAsync(EveryType("backup-" + Guid.NewGuid().ToString("N")));
        // Federation's rows, as its stores write them (this app has no provider): an identity claim and a sign-in state.
        await App.Table("identities").CreateIfNotExistsAsync();
        await App.Table("identities").AddEntityAsync(new TableEntity("test:someone", "") { ["UserId"] = "0123456789abcdef0123456789abcdef", ["CreatedAt"] = DateTimeOffset.UtcNow });
        await App.Table("oidcflows").CreateIfNotExistsAsync();
        await App.Table("oidcflows").AddEntityAsync(new TableEntity("some-state-hash", "state") { ["Provider"] = "test", ["ExpiresAt"] = DateTimeOffset.UtcNow.AddMinutes(10) });
        var live = new Dictionary<string, SortedDictionary<string, string>>();
        foreach (string table in TableBackup.AppTables)
        {
            live[table] = await RowsAsync(App.Table(table));
            Assert.NotEmpty(live[table]);
        }

        string export = await BackupNowAsync();
        string prefix = NewPrefix();
        var restore = await RestoreAsync(export, prefix);

        Assert.True(restore.ExitCode == 0, restore.Output);
        foreach (string table in ((string[])["emails", "revocations", "passkeys", "identities"]))
        {
            Assert.Equal(live[table], await RowsAsync(Table(prefix, table)));
            Assert.Contains($"restored {live[table].Count} rows of {table} into {prefix}{table}\n", restore.StandardOutput, StringComparison.Ordinal);
        }
        Assert.Contains("every-type", string.Join('\n', live["users"].Keys), StringComparison.Ordinal);
        // Sessions and links do not come back (a session ended since the export must not work again): every other
        // row of users does, and the output says how many were left out.
        var sessionsAndLinks = live["users"].Keys.Where(k => k.Split('/')[1].StartsWith("session-", StringComparison.Ordinal) || k.Split('/')[1].StartsWith("link-", StringComparison.Ordinal)).ToList();
        Assert.Contains(sessionsAndLinks, k => k.Contains("/session-", StringComparison.Ordinal));
        Assert.Contains(sessionsAndLinks, k => k.Contains("/link-", StringComparison.Ordinal));
        var expectedUsers = new SortedDictionary<string, string>(live["users"].Where(r => !sessionsAndLinks.Contains(r.Key)).ToDictionary(), StringComparer.Ordinal);
        Assert.Equal(expectedUsers, await RowsAsync(Table(prefix, "users")));
        Assert.Contains($"restored {expectedUsers.Count} rows of users into {prefix}users ({sessionsAndLinks.Count} session and link rows left out: everyone logs in again)", restore.StandardOutput, StringComparison.Ordinal);
        // Passkey challenges do not come back either: one spent since the export must not work again.
        Assert.Empty(await RowsAsync(Table(prefix, "passkeychallenges")));
        Assert.Contains($"restored 0 rows of passkeychallenges into {prefix}passkeychallenges ({live["passkeychallenges"].Count} passkey challenges left out", restore.StandardOutput, StringComparison.Ordinal);
        // No one-time sign-in row comes back: a spent state or login code must not work again.
        Assert.Empty(await RowsAsync(Table(prefix, "oidcflows")));
        Assert.Contains($"restored 0 rows of oidcflows into {prefix}oidcflows ({live["oidcflows"].Count} one-time sign-in rows left out", restore.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>
    /// A table that has a row is never written: the restore checks every target first, so with one non-empty target it
    /// writes nothing at all (not even the tables before it), and the row that was there stays as it was.
    /// </summary>
    [Fact]
    public async Task ARestoreOntoATableThatHasARowIsRefusedAndWritesNothing()
    {
        await App.NewUserAsync();
        string export = await BackupNowAsync();
        string prefix = NewPrefix();
        var existing = new TableEntity("someone", "else") { ["Kept"] = "as it was" };
        await Table(prefix, "revocations").CreateIfNotExistsAsync();
        await Table(prefix, "revocations").AddEntityAsync(existing);

        var restore = await RestoreAsync(export, prefix);

        Assert.Equal(1, restore.ExitCode);
        Assert.Contains($"Table {prefix}revocations already has rows", restore.StandardError, StringComparison.Ordinal);
        Assert.Empty(await RowsAsync(Table(prefix, "users")));
        Assert.Empty(await RowsAsync(Table(prefix, "emails")));
        Assert.Equal(["someone/else"], (await RowsAsync(Table(prefix, "revocations"))).Keys);
        Assert.Equal("as it was", (await Table(prefix, "revocations").GetEntityAsync<TableEntity>("someone", "else")).Value.GetString("Kept"));
    }

    [Fact]
    public async Task RestoringTheSameExportTwiceIntoOnePrefixIsRefusedTheSecondTime()
    {
        await App.NewUserAsync();
        string export = await BackupNowAsync();
        string prefix = NewPrefix();
        Assert.Equal(0, (await RestoreAsync(export, prefix)).ExitCode);
        var restored = await RowsAsync(Table(prefix, "users"));

        var again = await RestoreAsync(export, prefix);

        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already has rows", again.StandardError, StringComparison.Ordinal);
        Assert.Equal(restored, await RowsAsync(Table(prefix, "users")));
    }

    /// <summary>
    /// The restore only inserts: a row written into a target table after the check (here: just before the restore's
    /// first batch, with the keys of that batch's first row) is left as it is, and the restore stops saying so.
    /// </summary>
    [Fact]
    public async Task ARowThatAppearsDuringTheRestoreIsLeftAsItIsAndStopsIt()
    {
        await App.NewUserAsync();
        string export = await BackupNowAsync();
        string prefix = NewPrefix();
        var tables = new RowWrittenBeforeFirstBatch(App.Azurite.ConnectionString);
        var container = new BlobServiceClient(App.Azurite.ConnectionString).GetBlobContainerClient(BackupOptions.DefaultContainer);

        var failure = await Assert.ThrowsAsync<BackupException>(() => new TableBackup(tables, container).RestoreAsync(export, prefix));

        var (table, partitionKey, rowKey) = tables.Written!.Value;
        Assert.Contains($"A row appeared in {table} during the restore", failure.Message, StringComparison.Ordinal);
        var row = await new TableClient(App.Azurite.ConnectionString, table).GetEntityAsync<TableEntity>(partitionKey, rowKey);
        Assert.Equal("written meanwhile", row.Value.GetString("Marker"));
    }

    /// <summary>The real Table service, where someone else writes a row with the keys of the first batch just before it is sent.</summary>
    private sealed class RowWrittenBeforeFirstBatch : TableServiceClient
    {
        private readonly string _connectionString;

        public RowWrittenBeforeFirstBatch(string connectionString) : base(connectionString) => _connectionString = connectionString;

        public (string Table, string PartitionKey, string RowKey)? Written { get; set; }

        public override TableClient GetTableClient(string tableName) => new Interposed(_connectionString, tableName, this);

        private sealed class Interposed(string connectionString, string tableName, RowWrittenBeforeFirstBatch owner) : TableClient(connectionString, tableName)
        {
            public override async Task<Response<IReadOnlyList<Response>>> SubmitTransactionAsync(IEnumerable<TableTransactionAction> transactionActions, CancellationToken cancellationToken = default)
            {
                var actions = transactionActions.ToList();
                if (owner.Written is null)
                {
                    var first = actions[0].Entity;
                    owner.Written = (Name, first.PartitionKey, first.RowKey);
                    await new TableClient(owner._connectionString, Name).AddEntityAsync(new TableEntity(first.PartitionKey, first.RowKey) { ["Marker"] = "written meanwhile" }, cancellationToken);
                }
                return await base.SubmitTransactionAsync(actions, cancellationToken);
            }
        }
    }

    /// <summary>
    /// The backup container is WORM (immutable while retained): a blob that exists may never be written again, so every
    /// export blob must be created by ONE request that carries If-None-Match: * — no empty blob first, no second commit.
    /// Azurite does not enforce immutability, so this counts the export's writes on the wire: per blob, exactly one
    /// create (Put Blob, or Put Block List after staged blocks), conditional; and the same create sent again is refused.
    /// </summary>
    [Fact]
    public async Task EveryExportBlobIsCreatedByOneConditionalWriteAndNeverWrittenAgain()
    {
        await App.NewUserAsync();
        var writes = new WriteRecorder();
        var options = new BlobClientOptions();
        options.AddPolicy(writes, Azure.Core.HttpPipelinePosition.PerRetry);
        var container = new BlobServiceClient(App.Azurite.ConnectionString, options).GetBlobContainerClient(BackupOptions.DefaultContainer);

        var manifest = await new TableBackup(new TableServiceClient(App.Azurite.ConnectionString), container).ExportAsync("", DateTimeOffset.UtcNow, TimeProvider.System);

        string[] blobs = [.. TableBackup.AppTables.Select(t => $"{manifest.Name}/{t}.jsonl.gz"), $"{manifest.Name}/{TableBackup.ManifestFile}"];
        Assert.Equal(blobs.Order(StringComparer.Ordinal), writes.Creates.Select(c => c.Blob).Order(StringComparer.Ordinal));
        Assert.All(writes.Creates, c => Assert.Equal("*", c.IfNoneMatch));
        // A second create of an existing export blob is refused by the condition, and the blob keeps its content.
        var blob = container.GetBlobClient(blobs[^1]);
        byte[] before = (await blob.DownloadContentAsync()).Value.Content.ToArray();
        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => blob.UploadAsync(BinaryData.FromString("{}"),
            new Azure.Storage.Blobs.Models.BlobUploadOptions { Conditions = new Azure.Storage.Blobs.Models.BlobRequestConditions { IfNoneMatch = ETag.All } }));
        Assert.Equal(409, refused.Status);
        Assert.Equal(before, (await blob.DownloadContentAsync()).Value.Content.ToArray());
    }

    /// <summary>Records every request that creates or replaces a blob's content (Put Blob, Put Block List), by blob name.</summary>
    private sealed class WriteRecorder : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public System.Collections.Concurrent.ConcurrentQueue<(string Blob, string? IfNoneMatch)> Creates { get; } = new();

        public override void OnSendingRequest(Azure.Core.HttpMessage message)
        {
            var request = message.Request;
            string query = request.Uri.Query;
            bool create = request.Method == Azure.Core.RequestMethod.Put
                && (request.Headers.TryGetValue("x-ms-blob-type", out _) || query.Contains("comp=blocklist", StringComparison.Ordinal));
            if (create)
            {
                string path = Uri.UnescapeDataString(request.Uri.Path);
                string blob = path[(path.IndexOf("/" + BackupOptions.DefaultContainer + "/", StringComparison.Ordinal) + BackupOptions.DefaultContainer.Length + 2)..];
                Creates.Enqueue((blob, request.Headers.TryGetValue("If-None-Match", out string? condition) ? condition : null));
            }
        }
    }

    [Fact]
    public async Task AnExportWithoutItsManifestIsNotRestored()
    {
        string prefix = NewPrefix();

        var restore = await RestoreAsync("2020-01-01T00-00-00Z-00000000", prefix);

        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("No complete export 2020-01-01T00-00-00Z-00000000", restore.StandardError, StringComparison.Ordinal);
        Assert.False(await TableExistsAsync(prefix + "users"));
    }

    private async Task<bool> TableExistsAsync(string name)
    {
        var service = new TableServiceClient(App.Azurite.ConnectionString);
        await foreach (var _ in service.QueryAsync(t => t.Name == name))
        {
            return true;
        }
        return false;
    }

    [GeneratedRegex(@"Backup wrote export (?<export>\S+) to container")]
    private static partial Regex ExportName();
}
