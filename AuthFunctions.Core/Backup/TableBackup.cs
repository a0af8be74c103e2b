using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace AuthFunctions.Backup;

/// <summary>What one export holds: written last, so an export without it is incomplete and is never restored.</summary>
public sealed record ExportManifest(int Format, string Name, string SourcePrefix, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, IReadOnlyDictionary<string, int> Rows)
{
    public override string ToString() =>
        $"export {Name}: {string.Join(", ", Rows.Select(r => $"{r.Value} rows of {r.Key}"))}";
}

/// <summary>A backup or restore that cannot go on; the message says why and what was (not) written. Never holds a row's content.</summary>
/// <summary>What a restore wrote: per table the rows restored and the rows it left out (sessions and links of <c>users</c>).</summary>
public sealed record RestoreReport(ExportManifest Manifest, IReadOnlyDictionary<string, int> Restored, IReadOnlyDictionary<string, int> LeftOut);

public sealed class BackupException : Exception
{
    public BackupException()
    {
    }

    public BackupException(string message) : base(message)
    {
    }

    public BackupException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// Exports the app's tables to a blob container and restores an export into tables of a given prefix. An export is a
/// folder <c>{UTC time}-{id}/</c> with one gzipped JSON-lines blob per table (<see cref="EntityJson"/>) and
/// <c>manifest.json</c>, written last with the row counts. Blobs are only ever created, never overwritten. A restore
/// refuses to begin while any target table holds a row, and then only inserts: a row that appears meanwhile stops it
/// (nothing is overwritten), so a live table is never changed silently. Table Storage has no snapshot: rows written
/// while an export runs may or may not be in it.
/// </summary>
public sealed class TableBackup(TableServiceClient tables, BlobContainerClient container)
{
    public const int FormatVersion = 1;

    public const string ManifestFile = "manifest.json";

    /// <summary>Every table the app keeps (the stores' <c>StorageTables.Get</c> names), without the prefix.</summary>
    public static IReadOnlyList<string> AppTables { get; } = ["users", "emails", "revocations", "passkeys", "passkeychallenges", "identities", "oidcflows"];

    public async Task<ExportManifest> ExportAsync(string sourcePrefix, DateTimeOffset startedAt, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clock);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        string name = $"{startedAt.UtcDateTime:yyyy-MM-ddTHH-mm-ssZ}-{Guid.NewGuid().ToString("N")[..8]}";
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string table in AppTables)
        {
            rows[table] = await ExportTableAsync(tables.GetTableClient(sourcePrefix + table), $"{name}/{table}.jsonl.gz", cancellationToken).ConfigureAwait(false);
        }
        var manifest = new ExportManifest(FormatVersion, name, sourcePrefix, startedAt, clock.GetUtcNow(), rows);
        await CreateBlobAsync($"{name}/{ManifestFile}", async stream =>
            await JsonSerializer.SerializeAsync(stream, manifest, BackupJson.Default.ExportManifest, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return manifest;
    }

    /// <summary>Complete exports (those with a manifest), oldest first.</summary>
    public async IAsyncEnumerable<string> ListExportsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        if (!await container.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            yield break;
        }
        await foreach (var blob in container.GetBlobsAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (blob.Name.EndsWith("/" + ManifestFile, StringComparison.Ordinal))
            {
                names.Add(blob.Name[..^(ManifestFile.Length + 1)]);
            }
        }
        foreach (string name in names.Order(StringComparer.Ordinal))
        {
            yield return name;
        }
    }

    /// <summary>
    /// Restores every table of the export as <paramref name="targetPrefix"/> + its name. Refuses, having written nothing,
    /// when the export is incomplete or any target table has a row. Sessions and e-mailed links (the <c>session-*</c> and
    /// <c>link-*</c> rows of <c>users</c>), sign-ins waiting for their second factor (<c>mfa-token-*</c>), passkey
    /// challenges and federated sign-in states, login codes and link tickets (every row of <c>oidcflows</c>) are left out:
    /// a session or link ended since the export (logout, password change, reset) must not work again, so after a restore
    /// everyone logs in again (OWASP ASVS 5.0 V7.4); a spent one-time value restored would be live again.
    /// </summary>
    public async Task<RestoreReport> RestoreAsync(string exportName, string targetPrefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exportName);
        ArgumentNullException.ThrowIfNull(targetPrefix);
        if (targetPrefix.Length > 0 && !(targetPrefix.Length <= 40 && char.IsAsciiLetter(targetPrefix[0]) && targetPrefix.All(char.IsAsciiLetterOrDigit)))
        {
            throw new BackupException("The table prefix must start with a letter and contain only letters and digits (at most 40).");
        }
        var manifest = await ReadManifestAsync(exportName, cancellationToken).ConfigureAwait(false);
        foreach (string table in manifest.Rows.Keys)
        {
            if (await HasRowsAsync(tables.GetTableClient(targetPrefix + table), cancellationToken).ConfigureAwait(false))
            {
                throw new BackupException($"Table {targetPrefix + table} already has rows: a restore never writes into a table in use. Nothing was written; choose another prefix.");
            }
        }
        var restored = new Dictionary<string, int>(StringComparer.Ordinal);
        var leftOut = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (table, expected) in manifest.Rows)
        {
            var target = tables.GetTableClient(targetPrefix + table);
            await target.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            Func<TableEntity, bool> keep = table switch
            {
                "users" => entity => !IsSessionOrLink(entity.RowKey),
                // Passkey challenges (5 minutes) and federation's sign-in states, login codes and link tickets (minutes):
                // one restored would be a spent one-time value made live again, so none is.
                "passkeychallenges" => _ => false,
                "oidcflows" => _ => false,
                _ => _ => true,
            };
            var (read, written) = await RestoreTableAsync(container.GetBlobClient($"{exportName}/{table}.jsonl.gz"), target, keep, cancellationToken).ConfigureAwait(false);
            if (read != expected)
            {
                throw new BackupException($"{exportName}/{table}.jsonl.gz holds {read} rows but its manifest says {expected}: the export is damaged.");
            }
            restored[table] = written;
            leftOut[table] = read - written;
        }
        return new RestoreReport(manifest, restored, leftOut);
    }

    private async Task<ExportManifest> ReadManifestAsync(string exportName, CancellationToken cancellationToken)
    {
        try
        {
            var content = await container.GetBlobClient($"{exportName}/{ManifestFile}").DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            var manifest = JsonSerializer.Deserialize(content.Value.Content.ToMemory().Span, BackupJson.Default.ExportManifest) ?? throw new BackupException($"{exportName}/{ManifestFile} is empty.");
            return manifest.Format == FormatVersion
                ? manifest
                : throw new BackupException($"{exportName} has format {manifest.Format}; this version restores format {FormatVersion}.");
        }
        catch (RequestFailedException missing) when (missing.Status == 404)
        {
            throw new BackupException($"No complete export {exportName} in container {container.Name} (an export is complete once its {ManifestFile} exists).", missing);
        }
    }

    private static async Task<bool> HasRowsAsync(TableClient table, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var _ in table.QueryAsync<TableEntity>(maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
            return false;
        }
        catch (RequestFailedException missing) when (missing.ErrorCode == "TableNotFound")
        {
            return false;
        }
    }

    private async Task<int> ExportTableAsync(TableClient table, string blobName, CancellationToken cancellationToken)
    {
        int count = 0;
        await CreateBlobAsync(blobName, async stream =>
        {
            await using var gzip = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true);
            await using var writer = new Utf8JsonWriter(gzip);
            try
            {
                await foreach (var entity in table.QueryAsync<TableEntity>(cancellationToken: cancellationToken).ConfigureAwait(false))
                {
                    EntityJson.Write(writer, entity);
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    gzip.WriteByte((byte)'\n');
                    writer.Reset();
                    count++;
                }
            }
            catch (RequestFailedException missing) when (missing.ErrorCode == "TableNotFound")
            {
                // Not created yet (the stores create tables on first use): an empty table.
            }
        }, cancellationToken).ConfigureAwait(false);
        return count;
    }

    /// <summary>
    /// Writes a new blob in one create that never overwrites (If-None-Match: *): the content is buffered in a temporary
    /// file first, because the backup container's time-based retention (WORM) refuses any write to a blob that exists,
    /// and a streamed write creates an empty blob before it commits the content over it.
    /// </summary>
    private async Task CreateBlobAsync(string blobName, Func<Stream, Task> write, CancellationToken cancellationToken)
    {
        await using var buffer = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 81920,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await write(buffer).ConfigureAwait(false);
        buffer.Position = 0;
        var options = new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } };
        await container.GetBlobClient(blobName).UploadAsync(buffer, options, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsSessionOrLink(string rowKey) =>
        rowKey.StartsWith("session-", StringComparison.Ordinal) || rowKey.StartsWith("link-", StringComparison.Ordinal) ||
        rowKey.StartsWith(Mfa.MfaStore.ChallengeRowKeyPrefix, StringComparison.Ordinal);

    /// <summary>Inserts the rows <paramref name="keep"/> accepts; returns the rows read and the rows written.</summary>
    private static async Task<(int Read, int Written)> RestoreTableAsync(BlobClient blob, TableClient target, Func<TableEntity, bool> keep, CancellationToken cancellationToken)
    {
        int read = 0;
        int written = 0;
        var batch = new List<TableTransactionAction>();
        await using var download = await blob.OpenReadAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var gzip = new GZipStream(download, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            using var document = JsonDocument.Parse(line);
            var entity = EntityJson.Read(document.RootElement);
            read++;
            if (!keep(entity))
            {
                continue;
            }
            // An entity-group transaction holds at most 100 entities of one partition.
            if (batch.Count == 100 || (batch.Count > 0 && batch[0].Entity.PartitionKey != entity.PartitionKey))
            {
                await InsertAsync(target, batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
            }
            batch.Add(new TableTransactionAction(TableTransactionActionType.Add, entity));
            written++;
        }
        if (batch.Count > 0)
        {
            await InsertAsync(target, batch, cancellationToken).ConfigureAwait(false);
        }
        return (read, written);
    }

    private static async Task InsertAsync(TableClient target, List<TableTransactionAction> batch, CancellationToken cancellationToken)
    {
        try
        {
            await target.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException conflict) when (conflict.ErrorCode == "EntityAlreadyExists" || conflict.Status == 409)
        {
            throw new BackupException($"A row appeared in {target.Name} during the restore; it was left as it is and the restore stopped. Delete the restored tables and run it again with a new prefix.", conflict);
        }
    }
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(ExportManifest))]
internal sealed partial class BackupJson : JsonSerializerContext;
