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

/// <summary>Creates the app's table clients with shared settings.</summary>
public sealed class TableClientFactory(TableConnection connection, IOptions<StorageOptions> options)
{
    public TableClient Create(string logicalName) =>
        new(connection, options.Value.TablePrefix + logicalName, new TableClientOptions
        {
            OperationTimeout = TimeSpan.FromSeconds(options.Value.OperationTimeoutSeconds),
            CreateTableIfMissing = true,
        });
}
