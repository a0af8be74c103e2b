using Azure.Core;

namespace AuthFunctions.Storage;

/// <summary>
/// Where the Table service is and how to authenticate to it: an account key (SharedKeyLite) from a
/// connection string, or an Entra ID token credential (managed identity) for a bare endpoint.
/// </summary>
public sealed class TableConnection
{
    // The well-known Azurite development account; public by design, not a secret.
    internal const string DevelopmentAccountName = "devstoreaccount1";
    internal const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private TableConnection(Uri endpoint, string accountName, byte[]? accountKey, TokenCredential? credential)
    {
        Endpoint = endpoint;
        AccountName = accountName;
        AccountKey = accountKey;
        Credential = credential;
    }

    /// <summary>Table service endpoint, e.g. <c>https://acct.table.core.windows.net</c> or the path-style <c>http://127.0.0.1:10002/devstoreaccount1</c>.</summary>
    public Uri Endpoint { get; }

    public string AccountName { get; }

    internal byte[]? AccountKey { get; }

    internal TokenCredential? Credential { get; }

    public static TableConnection FromCredential(Uri tableEndpoint, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(tableEndpoint);
        ArgumentNullException.ThrowIfNull(credential);
        return new TableConnection(TrimSlash(tableEndpoint), AccountNameFromEndpoint(tableEndpoint), null, credential);
    }

    /// <summary>
    /// Parses an Azure Storage connection string. Supported forms: <c>UseDevelopmentStorage=true</c>
    /// (optionally with <c>DevelopmentStorageProxyUri</c>), <c>DefaultEndpointsProtocol/AccountName/AccountKey/EndpointSuffix</c>,
    /// and an explicit <c>TableEndpoint=</c> with <c>AccountName</c>/<c>AccountKey</c>.
    /// </summary>
    /// <exception cref="FormatException">The string is malformed or lacks what the Table service needs; the message never contains the key.</exception>
    public static TableConnection Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var segment in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = segment.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException("The storage connection string has a segment without 'name=value'.");
            }
            parts[segment[..equals].Trim()] = segment[(equals + 1)..].Trim();
        }

        if (parts.TryGetValue("UseDevelopmentStorage", out var development) &&
            string.Equals(development, "true", StringComparison.OrdinalIgnoreCase))
        {
            var host = parts.TryGetValue("DevelopmentStorageProxyUri", out var proxy) ? new Uri(proxy) : new Uri("http://127.0.0.1");
            var endpoint = new UriBuilder(host.Scheme, host.Host, 10002, DevelopmentAccountName).Uri;
            return new TableConnection(endpoint, DevelopmentAccountName, Convert.FromBase64String(DevelopmentAccountKey), null);
        }

        if (!parts.TryGetValue("AccountKey", out var key) || key.Length == 0)
        {
            throw new FormatException("The storage connection string has no AccountKey (shared access signatures are not supported; use Storage__TableEndpoint with a managed identity instead).");
        }
        byte[] keyBytes;
        try
        {
            keyBytes = Convert.FromBase64String(key);
        }
        catch (FormatException)
        {
            throw new FormatException("The storage connection string's AccountKey is not valid base64.");
        }

        parts.TryGetValue("AccountName", out var accountName);
        Uri tableEndpoint;
        if (parts.TryGetValue("TableEndpoint", out var explicitEndpoint))
        {
            if (!Uri.TryCreate(explicitEndpoint, UriKind.Absolute, out var parsed))
            {
                throw new FormatException("The storage connection string's TableEndpoint is not an absolute URI.");
            }
            tableEndpoint = TrimSlash(parsed);
            accountName ??= AccountNameFromEndpoint(tableEndpoint);
        }
        else
        {
            if (string.IsNullOrEmpty(accountName))
            {
                throw new FormatException("The storage connection string has neither AccountName nor TableEndpoint.");
            }
            string protocol = parts.TryGetValue("DefaultEndpointsProtocol", out var p) ? p : "https";
            string suffix = parts.TryGetValue("EndpointSuffix", out var s) ? s : "core.windows.net";
            tableEndpoint = new Uri($"{protocol}://{accountName}.table.{suffix}");
        }

        if (string.IsNullOrEmpty(accountName))
        {
            throw new FormatException("The storage connection string has no AccountName.");
        }
        return new TableConnection(tableEndpoint, accountName, keyBytes, null);
    }

    private static Uri TrimSlash(Uri uri) =>
        uri.AbsolutePath.EndsWith('/') && uri.AbsolutePath.Length > 1
            ? new Uri(uri.GetLeftPart(UriPartial.Authority) + uri.AbsolutePath.TrimEnd('/'))
            : uri;

    // Path-style endpoints (Azurite, IP hosts) name the account in the first path segment;
    // host-style ones in the first label of the host name.
    private static string AccountNameFromEndpoint(Uri endpoint)
    {
        var firstSegment = endpoint.AbsolutePath.Trim('/').Split('/')[0];
        if (firstSegment.Length > 0)
        {
            return firstSegment;
        }
        return endpoint.Host.Split('.')[0];
    }
}
