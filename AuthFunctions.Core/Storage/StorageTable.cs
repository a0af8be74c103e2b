using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;

namespace AuthFunctions.Storage;

/// <summary>What a conditional write came to. Stores turn these into domain outcomes; nothing above them sees Table status codes.</summary>
public enum WriteOutcome
{
    Done,

    /// <summary>Insert of a key that exists (<c>EntityAlreadyExists</c>): the atomic way to claim a unique key.</summary>
    AlreadyExists,

    /// <summary>The ETag given is stale (<c>UpdateConditionNotSatisfied</c>): someone wrote in between.</summary>
    Stale,

    NotFound,
}

/// <summary>An entity as read, with the ETag to make the next write conditional on it.</summary>
public readonly record struct StoredEntity(TableEntity Entity, ETag ETag);

/// <summary>
/// One table of the app on Azure.Data.Tables, with the failure policy every store relies on, in one
/// place: conflicts, stale ETags and missing rows are <see cref="WriteOutcome"/>s; a missing table is
/// created by the first operation that meets it (then that operation runs once more), so start-up
/// does no I/O; every operation, retries included, is bounded by <c>Storage__OperationTimeoutSeconds</c>;
/// anything else is a <see cref="TableStorageException"/> (answered 503). Entities are the SDK's
/// dictionary <see cref="TableEntity"/>, mapped by hand in the stores: no reflection on the hot path.
/// </summary>
public sealed class StorageTable(TableClient client, TimeSpan operationTimeout)
{
    public string Name => client.Name;

    /// <summary>The same table with every operation, retries included, bounded by <paramref name="timeout"/> if that is shorter.</summary>
    public StorageTable WithOperationTimeout(TimeSpan timeout) => new(client, timeout < operationTimeout ? timeout : operationTimeout);

    /// <summary>Point read; <c>null</c> when the entity (or its table) does not exist.</summary>
    public Task<StoredEntity?> GetAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default) =>
        RunAsync("read entity", async token =>
        {
            try
            {
                var response = await client.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: token).ConfigureAwait(false);
                return response.HasValue ? new StoredEntity(response.Value!, response.Value!.ETag) : (StoredEntity?)null;
            }
            catch (RequestFailedException missing) when (missing.ErrorCode == "TableNotFound")
            {
                return null;
            }
        }, createTableIfMissing: false, cancellationToken);

    /// <summary>Inserts; an existing entity with the same keys is <see cref="WriteOutcome.AlreadyExists"/>.</summary>
    public Task<WriteOutcome> InsertAsync(TableEntity entity, CancellationToken cancellationToken = default) =>
        WriteAsync("insert entity", token => client.AddEntityAsync(entity, token), cancellationToken);

    /// <summary>
    /// Replaces or merges the entity if its ETag still matches (<see cref="ETag.All"/> matches any
    /// existing entity): stale → <see cref="WriteOutcome.Stale"/>, missing → <see cref="WriteOutcome.NotFound"/>.
    /// </summary>
    public Task<WriteOutcome> UpdateAsync(TableEntity entity, ETag ifMatch, TableUpdateMode mode, CancellationToken cancellationToken = default) =>
        WriteAsync("update entity", token => client.UpdateEntityAsync(entity, ifMatch, mode, token), cancellationToken);

    /// <summary>Inserts or merges/replaces without any precondition.</summary>
    public Task<WriteOutcome> UpsertAsync(TableEntity entity, TableUpdateMode mode, CancellationToken cancellationToken = default) =>
        WriteAsync("upsert entity", token => client.UpsertEntityAsync(entity, mode, token), cancellationToken);

    /// <summary>Deletes if the ETag matches (default: any); a missing entity is <see cref="WriteOutcome.NotFound"/>.</summary>
    public Task<WriteOutcome> DeleteAsync(string partitionKey, string rowKey, ETag ifMatch = default, CancellationToken cancellationToken = default) =>
        RunAsync("delete entity", async token =>
        {
            try
            {
                var response = await client.DeleteEntityAsync(partitionKey, rowKey, ifMatch == default ? ETag.All : ifMatch, token).ConfigureAwait(false);
                // The SDK answers a delete of a missing entity (or table) with its 404 response rather than an exception.
                return response.Status == 404 ? WriteOutcome.NotFound : WriteOutcome.Done;
            }
            catch (RequestFailedException failed) when (AsOutcome(failed) is { } outcome)
            {
                return outcome;
            }
            catch (RequestFailedException missing) when (missing.ErrorCode == "TableNotFound")
            {
                return WriteOutcome.NotFound;
            }
        }, createTableIfMissing: false, cancellationToken);

    /// <summary>
    /// Runs <paramref name="actions"/> (all in one partition, at most 100) as one entity-group transaction: all or nothing.
    /// A failing action's stale ETag, existing key or missing row is the outcome.
    /// </summary>
    public Task<WriteOutcome> TransactAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default) =>
        WriteAsync("run a transaction", token => client.SubmitTransactionAsync(actions, token), cancellationToken);

    /// <summary>
    /// Deletes the given rows of one partition in batches of at most 100 (one entity-group transaction each),
    /// skipping rows that are already gone.
    /// </summary>
    public async Task DeleteAllAsync(IReadOnlyList<(string PartitionKey, string RowKey)> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        foreach (var partition in rows.GroupBy(row => row.PartitionKey))
        {
            foreach (var chunk in partition.Chunk(100))
            {
                var actions = chunk.Select(row => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(row.PartitionKey, row.RowKey), ETag.All)).ToList();
                var outcome = await WriteAsync("delete entities", token => client.SubmitTransactionAsync(actions, token), cancellationToken).ConfigureAwait(false);
                if (outcome == WriteOutcome.NotFound)
                {
                    // One row of the batch vanished meanwhile (a transaction is all-or-nothing): delete one by one.
                    foreach (var (partitionKey, rowKey) in chunk)
                    {
                        await DeleteAsync(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Entities matching an OData filter (build it with <see cref="TableClient.CreateQueryFilter(FormattableString)"/>,
    /// which quotes values), following continuation tokens; each page is one bounded operation.
    /// </summary>
    public async IAsyncEnumerable<TableEntity> QueryAsync(string filter, IEnumerable<string>? select = null, int? maxPerPage = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? continuation = null;
        do
        {
            string? from = continuation;
            var page = await RunAsync("query entities", async token =>
            {
                await foreach (var first in client.QueryAsync<TableEntity>(filter, maxPerPage, select, token).AsPages(from, maxPerPage).WithCancellation(token).ConfigureAwait(false))
                {
                    return first;
                }
                return null;
            }, createTableIfMissing: true, cancellationToken).ConfigureAwait(false);
            if (page is null)
            {
                yield break;
            }
            foreach (var entity in page.Values)
            {
                yield return entity;
            }
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
    }

    private Task<WriteOutcome> WriteAsync<TResponse>(string operation, Func<CancellationToken, Task<TResponse>> write, CancellationToken cancellationToken) =>
        RunAsync(operation, async token =>
        {
            try
            {
                await write(token).ConfigureAwait(false);
                return WriteOutcome.Done;
            }
            catch (RequestFailedException failed) when (AsOutcome(failed) is { } outcome)
            {
                return outcome;
            }
        }, createTableIfMissing: true, cancellationToken);

    private async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> call, bool createTableIfMissing, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(operationTimeout);
        try
        {
            try
            {
                return await call(timeout.Token).ConfigureAwait(false);
            }
            catch (RequestFailedException missing) when (createTableIfMissing && missing.ErrorCode == "TableNotFound")
            {
                await CreateTableAsync(timeout.Token).ConfigureAwait(false);
                return await call(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException failed)
        {
            // Our own message: the SDK's names the request URL, whose keys derive from user emails.
            string? code = ErrorCode(failed);
            throw new TableStorageException(failed.Status, code, $"The Table service refused to {operation}: {failed.Status} {code ?? "(no error code)"}.", failed);
        }
        catch (OperationCanceledException canceled) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TableStorageException(0, null, $"The Table service did not answer within {operationTimeout.TotalSeconds:0.#} s ({operation}).", canceled);
        }
        catch (AggregateException exhausted)
        {
            throw new TableStorageException(0, null, $"The Table service could not be reached ({operation}; retries exhausted).", exhausted);
        }
        catch (Exception transport) when (transport is System.Net.Sockets.SocketException or IOException or HttpRequestException)
        {
            // A connection reset while it was being set up can escape the SDK's retries unwrapped (a bare
            // SocketException "Transport endpoint is not connected" from the connection pool): an outage all the same.
            throw new TableStorageException(0, null, $"The Table service could not be reached ({operation}; the connection failed).", transport);
        }
    }

    private async Task CreateTableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException raced) when (raced.Status == 409)
        {
            // Created meanwhile by another instance (or still being deleted): the retry tells.
        }
    }

    // The header first: some refusals (a 403 with an XML body) carry their code nowhere else the SDK reads.
    private static string? ErrorCode(RequestFailedException failed) =>
        failed.ErrorCode ?? (failed.GetRawResponse()?.Headers.TryGetValue("x-ms-error-code", out var code) == true ? code : null);

    // A missing table is not an outcome: RunAsync creates it. A batch reports its failing operation's code.
    private static WriteOutcome? AsOutcome(RequestFailedException failed) => failed.ErrorCode switch
    {
        "TableNotFound" => null,
        "EntityAlreadyExists" => WriteOutcome.AlreadyExists,
        "UpdateConditionNotSatisfied" => WriteOutcome.Stale,
        "ResourceNotFound" => WriteOutcome.NotFound,
        _ => failed.Status switch
        {
            409 when failed.ErrorCode is null => WriteOutcome.AlreadyExists,
            412 => WriteOutcome.Stale,
            404 => WriteOutcome.NotFound,
            _ => null,
        },
    };
}
