using AuthFunctions.Storage;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Backup;

/// <summary>The <c>backup</c> timer's work: one export of this deployment's tables (its <c>Storage__TablePrefix</c>) to the backup container.</summary>
public sealed partial class BackupService(TableServiceClient tables, BlobContainerClient container, IOptions<StorageOptions> storage, TimeProvider clock, ILogger<BackupService> logger)
{
    public async Task<ExportManifest> RunAsync(CancellationToken cancellationToken)
    {
        var manifest = await new TableBackup(tables, container).ExportAsync(storage.Value.TablePrefix, clock.GetUtcNow(), clock, cancellationToken).ConfigureAwait(false);
        int rows = manifest.Rows.Values.Sum();
        LogExported(manifest.Name, container.Name, rows);
        return manifest;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Backup wrote export {Export} to container {Container}: {Rows} rows.")]
    private partial void LogExported(string export, string container, int rows);
}

public static class BackupServiceExtensions
{
    public static IServiceCollection AddBackup(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BackupOptions>().Bind(configuration.GetSection(BackupOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BackupOptions>, BackupOptionsValidator>();
        // The container client is made with the service, on the backup timer's first run: registering it as a service of
        // its own (AddSingleton<BlobContainerClient>) loaded Azure.Storage.Blobs into every instance at start-up.
        services.AddSingleton(provider => ActivatorUtilities.CreateInstance<BackupService>(provider, CreateContainerClient(
            provider.GetRequiredService<IOptions<StorageOptions>>().Value, provider.GetRequiredService<IOptions<BackupOptions>>().Value)));
        return services;
    }

    /// <summary>The account of <c>Storage__ConnectionString</c> (Azurite locally), else Entra ID with the managed identity to <c>Backup__BlobEndpoint</c>.</summary>
    public static BlobContainerClient CreateContainerClient(StorageOptions storage, BackupOptions backup)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(backup);
        var options = new BlobClientOptions();
        // Blob URLs name the export; keep request details out of the SDK's event logs all the same, as for tables.
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsDistributedTracingEnabled = false;
        options.Diagnostics.IsTelemetryEnabled = false;
        var service = !string.IsNullOrWhiteSpace(storage.ConnectionString)
            ? new BlobServiceClient(storage.ConnectionString, options)
            : new BlobServiceClient(new Uri(backup.BlobEndpoint!), new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = string.IsNullOrWhiteSpace(storage.ClientId) ? null : storage.ClientId,
            }), options);
        return service.GetBlobContainerClient(backup.Container);
    }
}
