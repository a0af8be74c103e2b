using System.Diagnostics.Metrics;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Storage;

public static class StorageServiceExtensions
{
    public static IServiceCollection AddTableStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton(provider => CreateServiceClient(
            provider.GetRequiredService<IOptions<StorageOptions>>().Value, provider.GetService<IMeterFactory>()));
        services.AddSingleton<StorageTables>();
        return services;
    }

    /// <summary>A connection string (Azurite: <c>UseDevelopmentStorage=true</c>), or keyless Entra ID with a managed identity.</summary>
    public static TableServiceClient CreateServiceClient(StorageOptions options, IMeterFactory? meters = null)
    {
        var clientOptions = ClientOptionsFor(options);
        if (meters is not null)
        {
            // Per try: every HTTP request that reaches the Table service counts, retries included.
            clientOptions.AddPolicy(new StorageRequestCounter(meters, options.TablePrefix), HttpPipelinePosition.PerRetry);
        }
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new TableServiceClient(options.ConnectionString, clientOptions);
        }
        var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(options.ClientId) ? null : options.ClientId,
        });
        return new TableServiceClient(new Uri(options.TableEndpoint!), credential, clientOptions);
    }

    private static TableClientOptions ClientOptionsFor(StorageOptions options)
    {
        var clientOptions = new TableClientOptions();
        // Fail fast: a login waiting on a dead store should become a 503 in seconds, not after the SDK's
        // defaults (3 retries from 0.8 s, 100 s network time-outs). StorageTable bounds the whole operation.
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = 3;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(100);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(Math.Clamp(options.OperationTimeoutSeconds, 0.1, 3));
        // Request URLs contain keys derived from user emails; keep them out of the SDK's event logs and traces.
        clientOptions.Diagnostics.IsLoggingEnabled = false;
        clientOptions.Diagnostics.IsDistributedTracingEnabled = false;
        clientOptions.Diagnostics.IsTelemetryEnabled = false;
        return clientOptions;
    }
}

/// <summary>The app's tables: one SDK client per table, made once and shared by every store that uses it.</summary>
public sealed class StorageTables(TableServiceClient service, IOptions<StorageOptions> options)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, StorageTable> _tables = new(StringComparer.Ordinal);

    public StorageTable Get(string logicalName) =>
        _tables.GetOrAdd(logicalName, name => new StorageTable(
            service.GetTableClient(options.Value.TablePrefix + name),
            TimeSpan.FromSeconds(options.Value.OperationTimeoutSeconds)));
}

/// <summary>
/// Counts the requests sent to the Table service (<c>authfunctions.storage.requests</c>): how a protected call is shown
/// to read no storage. Tagged <c>table</c> with the table the request is about, without the prefix (<c>users</c>,
/// <c>revocations</c>, …), or the service endpoint it goes to (<c>Tables</c> to create one, <c>$batch</c>); never a key.
/// Also counts the writes the service refused because another request got to the row first
/// (<c>authfunctions.storage.write_conflicts</c>, tagged <c>table</c> and <c>status</c>): 412 for an ETag that no longer
/// matches, 409 for an insert of a row that exists, 404 for an update or delete of a row that is gone. Only requests
/// that overlap produce them, so they show contention in production and prove to a race test that its requests raced.
/// </summary>
public sealed class StorageRequestCounter(IMeterFactory meters, string? tablePrefix = null) : HttpPipelineSynchronousPolicy
{
    public const string MeterName = "AuthFunctions.Storage";
    public const string RequestsInstrument = "authfunctions.storage.requests";
    public const string WriteConflictsInstrument = "authfunctions.storage.write_conflicts";
    public const string TableTag = "table";
    public const string StatusTag = "status";

    private readonly Counter<long> _requests = meters.Create(MeterName).CreateCounter<long>(
        RequestsInstrument, unit: "{request}", description: "HTTP requests sent to the Table service, retries included, by table.");
    private readonly Counter<long> _writeConflicts = meters.Create(MeterName).CreateCounter<long>(
        WriteConflictsInstrument, unit: "{request}", description: "Writes the Table service refused because the row changed, exists or is gone since it was read.");

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_requests.Enabled)
        {
            _requests.Add(1, new KeyValuePair<string, object?>(TableTag, TableOf(message.Request.Uri.Path, tablePrefix)));
        }
    }

    public override void OnReceivedResponse(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_writeConflicts.Enabled && message.HasResponse && IsWriteConflict(message.Request.Method, message.Response.Status))
        {
            _writeConflicts.Add(1,
                new KeyValuePair<string, object?>(TableTag, TableOf(message.Request.Uri.Path, tablePrefix)),
                new KeyValuePair<string, object?>(StatusTag, message.Response.Status));
        }
    }

    internal static bool IsWriteConflict(RequestMethod method, int status) => status switch
    {
        412 => true,
        409 => method == RequestMethod.Post,
        404 => method == RequestMethod.Delete || method == RequestMethod.Put || method == RequestMethod.Patch || method.Method == "MERGE",
        _ => false,
    };

    /// <summary>The last path segment up to its keys (<c>/account/tusers(PartitionKey='…',RowKey='…')</c> → <c>users</c>).</summary>
    internal static string TableOf(string path, string? prefix)
    {
        ArgumentNullException.ThrowIfNull(path);
        string segment = path[(path.LastIndexOf('/') + 1)..];
        int keys = segment.IndexOf('(', StringComparison.Ordinal);
        if (keys >= 0)
        {
            segment = segment[..keys];
        }
        return !string.IsNullOrEmpty(prefix) && segment.Length > prefix.Length && segment.StartsWith(prefix, StringComparison.Ordinal)
            ? segment[prefix.Length..]
            : segment;
    }
}
