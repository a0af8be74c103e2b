using AuthFunctions.Storage;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Backup;

/// <summary>
/// Settings section <c>Backup</c> (environment variables <c>Backup__…</c>): where the <c>backup</c> timer writes its
/// exports of the app's tables. The schedule is <c>Backup__Schedule</c>, resolved by the Functions host.
/// </summary>
public sealed class BackupOptions
{
    public const string Section = "Backup";

    public const string DefaultContainer = "table-backups";

    /// <summary>
    /// <c>Backup__BlobEndpoint</c>: the Blob service reached with Entra ID (the managed identity of <c>Storage__ClientId</c>);
    /// unused when <c>Storage__ConnectionString</c> is set, whose account (its Blob endpoint) then holds the exports.
    /// </summary>
    public string? BlobEndpoint { get; set; }

    /// <summary><c>Backup__Container</c>: the blob container of the exports (versioned, soft-delete and immutability protected on Azure).</summary>
    public string Container { get; set; } = DefaultContainer;
}

internal sealed class BackupOptionsValidator(IOptions<StorageOptions> storage) : IValidateOptions<BackupOptions>
{
    public ValidateOptionsResult Validate(string? name, BackupOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.BlobEndpoint) && !Uri.TryCreate(options.BlobEndpoint, UriKind.Absolute, out _))
        {
            failures.Add("Backup__BlobEndpoint must be an absolute URI such as https://<account>.blob.core.windows.net.");
        }
        else if (string.IsNullOrWhiteSpace(options.BlobEndpoint) && string.IsNullOrWhiteSpace(storage.Value.ConnectionString))
        {
            failures.Add("Set Backup__BlobEndpoint (the Blob service that keeps the table exports) when Storage__ConnectionString is not set.");
        }
        if (!BlobNames.IsValidContainerName(options.Container))
        {
            failures.Add("Backup__Container must be 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal static class BlobNames
{
    // https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata
    public static bool IsValidContainerName(string? name) =>
        name is { Length: >= 3 and <= 63 } &&
        name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') &&
        name[0] != '-' && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal);
}
