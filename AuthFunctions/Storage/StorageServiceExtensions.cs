using Azure.Identity;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Storage;

public static class StorageServiceExtensions
{
    public static IServiceCollection AddTableStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton(provider => CreateConnection(provider.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton<TableClientFactory>();
        return services;
    }

    private static TableConnection CreateConnection(StorageOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return TableConnection.Parse(options.ConnectionString);
        }
        var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(options.ClientId) ? null : options.ClientId,
        });
        return TableConnection.FromCredential(new Uri(options.TableEndpoint!), credential);
    }
}

/// <summary>The app's table clients with shared settings: one client (and pipeline) per table, however many services use it.</summary>
public sealed class TableClientFactory(TableConnection connection, IOptions<StorageOptions> options)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TableClient> _clients = new(StringComparer.Ordinal);

    public TableClient Create(string logicalName) =>
        _clients.GetOrAdd(logicalName, name => new TableClient(connection, options.Value.TablePrefix + name, new TableClientOptions
        {
            OperationTimeout = TimeSpan.FromSeconds(options.Value.OperationTimeoutSeconds),
            CreateTableIfMissing = true,
        }));
}
