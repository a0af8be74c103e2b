using Microsoft.Extensions.Options;

namespace AuthFunctions.Storage;

/// <summary>Settings section <c>Storage</c> (environment variables <c>Storage__…</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary><c>Storage__ConnectionString</c>: e.g. <c>UseDevelopmentStorage=true</c> for Azurite.</summary>
    public string? ConnectionString { get; set; }

    /// <summary><c>Storage__TableEndpoint</c>: used with an Entra ID credential (managed identity) when no connection string is set.</summary>
    public string? TableEndpoint { get; set; }

    /// <summary><c>Storage__ClientId</c>: client id of a user-assigned managed identity (optional).</summary>
    public string? ClientId { get; set; }

    /// <summary><c>Storage__TablePrefix</c>: prefix for table names, so several deployments (or test runs) can share an account.</summary>
    public string TablePrefix { get; set; } = "";

    /// <summary><c>Storage__OperationTimeoutSeconds</c>: upper bound on one storage call including retries.</summary>
    public double OperationTimeoutSeconds { get; set; } = 8;
}

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString) && string.IsNullOrWhiteSpace(options.TableEndpoint))
        {
            failures.Add("Set Storage__ConnectionString (e.g. UseDevelopmentStorage=true) or Storage__TableEndpoint (managed identity).");
        }
        else if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            try
            {
                StorageServiceExtensions.CreateServiceClient(options);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException or UriFormatException)
            {
                // Never the value itself: it holds the account key.
                failures.Add("Storage__ConnectionString is invalid: expected e.g. UseDevelopmentStorage=true or DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=core.windows.net.");
            }
        }
        else if (!Uri.TryCreate(options.TableEndpoint, UriKind.Absolute, out _))
        {
            failures.Add("Storage__TableEndpoint must be an absolute URI such as https://<account>.table.core.windows.net.");
        }

        if (options.TablePrefix.Length > 0 && !IsValidTablePrefix(options.TablePrefix))
        {
            failures.Add("Storage__TablePrefix must start with a letter and contain only letters and digits (at most 40).");
        }
        if (options.OperationTimeoutSeconds is <= 0 or > 60)
        {
            failures.Add("Storage__OperationTimeoutSeconds must be between 0 and 60.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsValidTablePrefix(string prefix) =>
        prefix.Length <= 40 && char.IsAsciiLetter(prefix[0]) && prefix.All(char.IsAsciiLetterOrDigit);
}
