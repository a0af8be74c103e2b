using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace AuthFunctions.Storage;

/// <summary>
/// One table over the Table REST API. Its surface mirrors the parts of Azure.Data.Tables'
/// TableClient that AuthFunctions uses (that package is not in our feed), but service failures
/// the caller can act on come back as <see cref="TableWriteStatus"/> outcomes or <c>null</c>;
/// everything else throws <see cref="TableStorageException"/>.
/// </summary>
public sealed class TableClient
{
    // 2019-02-02 is the oldest version that accepts Entra ID bearer tokens.
    private const string ApiVersion = "2019-02-02";
    private const string JsonNoMetadata = "application/json;odata=nometadata";
    private const string JsonMinimalMetadata = "application/json;odata=minimalmetadata";

    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;
    private readonly TimeSpan _operationTimeout;
    private readonly bool _createIfMissing;

    public TableClient(TableConnection connection, string tableName, TableClientOptions? options = null)
        : this(connection, tableName, options ?? new TableClientOptions(), TimeProvider.System)
    {
    }

    internal TableClient(TableConnection connection, string tableName, TableClientOptions options, TimeProvider signingClock)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(tableName);
        ArgumentNullException.ThrowIfNull(options);
        Name = tableName;
        _endpoint = connection.Endpoint;
        _operationTimeout = options.OperationTimeout;
        _createIfMissing = options.CreateTableIfMissing;
        HttpPipelinePolicy authentication = connection.Credential is { } credential
            ? new BearerTokenAuthenticationPolicy(credential, "https://storage.azure.com/.default")
            : new SharedKeyLitePolicy(connection.AccountName, connection.AccountKey!, signingClock);
        _pipeline = HttpPipelineBuilder.Build(options, [], [authentication], new ResponseClassifier());
    }

    public string Name { get; }

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = NewMessage(RequestMethod.Post, "Tables", JsonNoMetadata);
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        var body = Encoding.UTF8.GetBytes($"{{\"TableName\":{JsonSerializer.Serialize(Name, StorageJsonContext.Default.String)}}}");
        message.Request.Content = RequestContent.Create(body);
        message.Request.Headers.SetValue("Content-Type", "application/json");
        var response = await SendOnceAsync(message, cancellationToken);
        if (response.Status is 201 or 204 || (response.Status == 409 && ErrorCode(response) == "TableAlreadyExists"))
        {
            return;
        }
        throw Failure(response, "create table");
    }

    /// <summary>Inserts; an existing entity with the same keys gives <see cref="TableWriteStatus.Conflict"/>.</summary>
    public async Task<TableWriteResult> AddEntityAsync<T>(T entity, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
        where T : ITableEntity
    {
        var (message, response) = await SendAsync(() =>
        {
            var message = NewMessage(RequestMethod.Post, Name, JsonNoMetadata);
            message.Request.Headers.SetValue("Prefer", "return-no-content");
            SetJsonBody(message, entity, typeInfo);
            return message;
        }, cancellationToken);
        using var _ = message;
        return response.Status switch
        {
            201 or 204 => new TableWriteResult(TableWriteStatus.Success, ETagOf(response)),
            409 => new TableWriteResult(TableWriteStatus.Conflict, default),
            _ => throw Failure(response, "insert entity"),
        };
    }

    /// <summary>Point read; <c>null</c> when the entity does not exist.</summary>
    public async Task<TableEntity<T>?> GetEntityIfExistsAsync<T>(string partitionKey, string rowKey, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        var (message, response) = await SendAsync(() => NewMessage(RequestMethod.Get, EntityPath(partitionKey, rowKey), JsonNoMetadata), cancellationToken);
        using var _ = message;
        if (response.Status == 404)
        {
            return null;
        }
        if (response.Status != 200)
        {
            throw Failure(response, "read entity");
        }
        var value = JsonSerializer.Deserialize(response.Content.ToMemory().Span, typeInfo)
            ?? throw new TableStorageException(response.Status, null, "The Table service returned an empty entity.");
        return new TableEntity<T>(value, ETagOf(response));
    }

    /// <summary>
    /// Replaces or merges the entity if its ETag still matches (<see cref="ETag.All"/> matches any
    /// existing entity). Stale ETag → <see cref="TableWriteStatus.PreconditionFailed"/>; missing → <see cref="TableWriteStatus.NotFound"/>.
    /// </summary>
    public async Task<TableWriteResult> UpdateEntityAsync<T>(T entity, ETag ifMatch, TableUpdateMode mode, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
        where T : ITableEntity
    {
        ArgumentNullException.ThrowIfNull(entity);
        var (message, response) = await SendAsync(() =>
        {
            var message = NewMessage(mode == TableUpdateMode.Replace ? RequestMethod.Put : new RequestMethod("MERGE"), EntityPath(entity.PartitionKey, entity.RowKey), JsonNoMetadata);
            message.Request.Headers.SetValue("If-Match", ifMatch.ToString("H"));
            SetJsonBody(message, entity, typeInfo);
            return message;
        }, cancellationToken);
        using var _ = message;
        return WriteOutcome(response, "update entity");
    }

    /// <summary>Inserts or replaces without any precondition.</summary>
    public async Task<TableWriteResult> UpsertEntityAsync<T>(T entity, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
        where T : ITableEntity
    {
        ArgumentNullException.ThrowIfNull(entity);
        var (message, response) = await SendAsync(() =>
        {
            var message = NewMessage(RequestMethod.Put, EntityPath(entity.PartitionKey, entity.RowKey), JsonNoMetadata);
            SetJsonBody(message, entity, typeInfo);
            return message;
        }, cancellationToken);
        using var _ = message;
        return WriteOutcome(response, "upsert entity");
    }

    public async Task<TableWriteResult> DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch = default, CancellationToken cancellationToken = default)
    {
        var (message, response) = await SendAsync(() =>
        {
            var message = NewMessage(RequestMethod.Delete, EntityPath(partitionKey, rowKey), JsonNoMetadata);
            message.Request.Headers.SetValue("If-Match", ifMatch == default ? "*" : ifMatch.ToString("H"));
            return message;
        }, cancellationToken);
        using var _ = message;
        return WriteOutcome(response, "delete entity");
    }

    /// <summary>All entities of one partition, optionally narrowed by an extra OData filter, following continuation tokens.</summary>
    public IAsyncEnumerable<TableEntity<T>> QueryPartitionAsync<T>(
        string partitionKey,
        JsonTypeInfo<T> typeInfo,
        string? andFilter = null,
        CancellationToken cancellationToken = default) =>
        QueryAsync(typeInfo, $"PartitionKey eq {Quote(partitionKey)}" + (andFilter is null ? "" : $" and ({andFilter})"), cancellationToken);

    /// <summary>Entities matching an OData filter, following continuation tokens. Prefer point reads and single-partition queries on hot paths.</summary>
    public async IAsyncEnumerable<TableEntity<T>> QueryAsync<T>(
        JsonTypeInfo<T> typeInfo,
        string filter,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? nextPartition = null;
        string? nextRow = null;
        do
        {
            List<TableEntity<T>> page;
            string? partitionToken = nextPartition;
            string? rowToken = nextRow;
            var (message, response) = await SendAsync(() =>
            {
                var message = NewMessage(RequestMethod.Get, Name + "()", JsonMinimalMetadata);
                message.Request.Uri.AppendQuery("$filter", filter, escapeValue: true);
                if (partitionToken is not null)
                {
                    message.Request.Uri.AppendQuery("NextPartitionKey", partitionToken, escapeValue: true);
                    if (rowToken is not null)
                    {
                        message.Request.Uri.AppendQuery("NextRowKey", rowToken, escapeValue: true);
                    }
                }
                return message;
            }, cancellationToken);
            using (message)
            {
                if (response.Status != 200)
                {
                    throw Failure(response, "query entities");
                }
                page = ReadPage(response.Content.ToMemory(), typeInfo);
                response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out nextPartition);
                response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out nextRow);
            }
            foreach (var entity in page)
            {
                yield return entity;
            }
        }
        while (nextPartition is not null);
    }

    /// <summary>Cheapest call that proves the table answers (used by the health function).</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        var (message, response) = await SendAsync(() =>
        {
            var message = NewMessage(RequestMethod.Get, Name + "()", JsonNoMetadata);
            message.Request.Uri.AppendQuery("$top", "1");
            message.Request.Uri.AppendQuery("$filter", "PartitionKey eq ''", escapeValue: true);
            return message;
        }, cancellationToken);
        using var _ = message;
        if (response.Status != 200)
        {
            throw Failure(response, "query entities");
        }
    }

    /// <summary>An OData string literal: single quotes doubled.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private HttpMessage NewMessage(RequestMethod method, string relativePath, string accept)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(_endpoint);
        request.Uri.AppendPath("/", escape: false);
        request.Uri.AppendPath(relativePath, escape: false);
        request.Headers.SetValue("x-ms-version", ApiVersion);
        request.Headers.SetValue("Accept", accept);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        request.Headers.SetValue("MaxDataServiceVersion", "3.0;NetFx");
        return message;
    }

    private string EntityPath(string partitionKey, string rowKey) =>
        $"{Name}(PartitionKey={EscapeKey(partitionKey)},RowKey={EscapeKey(rowKey)})";

    // Inside the URL path: quote for OData, then percent-encode everything outside the
    // unreserved set so that non-ASCII and reserved characters travel (and are signed) unambiguously.
    private static string EscapeKey(string key) => Uri.EscapeDataString(Quote(key));

    private static void SetJsonBody<T>(HttpMessage message, T entity, JsonTypeInfo<T> typeInfo)
    {
        message.Request.Content = RequestContent.Create(JsonSerializer.SerializeToUtf8Bytes(entity, typeInfo));
        message.Request.Headers.SetValue("Content-Type", "application/json");
    }

    /// <summary>
    /// Sends a request made by <paramref name="create"/>; with <see cref="TableClientOptions.CreateTableIfMissing"/>,
    /// a <c>TableNotFound</c> answer creates the table and sends a fresh request once more. So a new
    /// deployment needs no set-up step, and no request pays for a "create if not exists" up front.
    /// </summary>
    private async Task<(HttpMessage Message, Response Response)> SendAsync(Func<HttpMessage> create, CancellationToken cancellationToken)
    {
        var message = create();
        try
        {
            var response = await SendOnceAsync(message, cancellationToken);
            if (!_createIfMissing || response.Status != 404 || ErrorCode(response) != "TableNotFound")
            {
                return (message, response);
            }
            message.Dispose();
            await CreateIfNotExistsAsync(cancellationToken);
            message = create();
            return (message, await SendOnceAsync(message, cancellationToken));
        }
        catch
        {
            message.Dispose();
            throw;
        }
    }

    private async Task<Response> SendOnceAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_operationTimeout);
        try
        {
            await _pipeline.SendAsync(message, timeout.Token);
            return message.Response;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TableStorageException(0, null, $"The Table service did not answer within {_operationTimeout.TotalSeconds:0.#} s.", ex);
        }
        catch (RequestFailedException ex)
        {
            // Azure.Core reports transport failures (refused, reset, DNS) as status 0.
            throw new TableStorageException(ex.Status, ex.ErrorCode, $"The Table service could not be reached ({ex.InnerException?.GetType().Name ?? "request failed"}).", ex);
        }
        catch (AggregateException ex)
        {
            throw new TableStorageException(0, null, "The Table service could not be reached (retries exhausted).", ex);
        }
    }

    private static TableWriteResult WriteOutcome(Response response, string operation) => response.Status switch
    {
        200 or 201 or 204 => new TableWriteResult(TableWriteStatus.Success, ETagOf(response)),
        404 => new TableWriteResult(TableWriteStatus.NotFound, default),
        412 => new TableWriteResult(TableWriteStatus.PreconditionFailed, default),
        _ => throw Failure(response, operation),
    };

    private static ETag ETagOf(Response response) =>
        response.Headers.TryGetValue("ETag", out var etag) ? new ETag(etag) : default;

    private static TableStorageException Failure(Response response, string operation)
    {
        string? code = ErrorCode(response);
        return new TableStorageException(response.Status, code, $"The Table service refused to {operation}: {response.Status} {code ?? "(no error code)"}.");
    }

    /// <summary>
    /// <c>x-ms-error-code</c> first: a 403 carries an XML body and some 400s carry none, so the
    /// JSON body (<c>{"odata.error":{"code":…}}</c>) is only the fallback.
    /// </summary>
    internal static string? ErrorCode(Response response)
    {
        if (response.Headers.TryGetValue("x-ms-error-code", out var header) && header.Length > 0)
        {
            return header;
        }
        try
        {
            var body = response.Content.ToMemory();
            if (body.IsEmpty || body.Span[0] != (byte)'{')
            {
                return null;
            }
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("odata.error", out var error) &&
                   error.TryGetProperty("code", out var code) ? code.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<TableEntity<T>> ReadPage<T>(ReadOnlyMemory<byte> body, JsonTypeInfo<T> typeInfo)
    {
        using var document = JsonDocument.Parse(body);
        var values = document.RootElement.GetProperty("value");
        var page = new List<TableEntity<T>>(values.GetArrayLength());
        foreach (var element in values.EnumerateArray())
        {
            var value = element.Deserialize(typeInfo)
                ?? throw new TableStorageException(200, null, "The Table service returned an empty entity.");
            var etag = element.TryGetProperty("odata.etag", out var e) ? new ETag(e.GetString()!) : default;
            page.Add(new TableEntity<T>(value, etag));
        }
        return page;
    }
}
