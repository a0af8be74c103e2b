using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AuthFunctions.ResourceServers;

/// <summary>Settings section <c>Introspection</c>: the services allowed to call <c>/api/introspect</c>. None: the function answers 404.</summary>
public sealed class IntrospectionOptions
{
    public const string Section = "Introspection";

    /// <summary><c>Introspection__Clients__N__Id</c> and <c>__Secret</c>.</summary>
    public List<IntrospectionClient> Clients { get; set; } = [];

    /// <summary>The clients with their setting index; an entry with both values empty (a placeholder, as in local.settings.sample.json) is none.</summary>
    internal IEnumerable<(int Index, IntrospectionClient Client)> ConfiguredClients =>
        Clients.Select((client, index) => (index, client)).Where(c => !string.IsNullOrEmpty(c.client.Id) || !string.IsNullOrEmpty(c.client.Secret));
}

public sealed class IntrospectionClient
{
    public string? Id { get; set; }

    public string? Secret { get; set; }
}

internal sealed class IntrospectionOptionsValidator : IValidateOptions<IntrospectionOptions>
{
    public const int MinimumSecretLength = 32;
    private const int MaximumLength = 256;

    public ValidateOptionsResult Validate(string? name, IntrospectionOptions options)
    {
        var failures = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (i, client) in options.ConfiguredClients)
        {
            if (string.IsNullOrWhiteSpace(client.Id) || client.Id.Length > MaximumLength || client.Id.Any(char.IsControl))
            {
                failures.Add($"Introspection__Clients__{i}__Id must be 1 to {MaximumLength} printable characters.");
            }
            else if (seen.TryGetValue(client.Id, out int first))
            {
                failures.Add($"Introspection__Clients__{i}__Id repeats Introspection__Clients__{first}__Id: each client needs its own id.");
            }
            else
            {
                seen[client.Id] = i;
            }
            if (client.Secret?.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase) == true)
            {
                // App Service passes a reference it could not resolve (a missing secret, no access) on as its literal
                // text, which names the vault and would pass the length check: a guessable secret.
                failures.Add($"Introspection__Clients__{i}__Secret is a Key Vault reference that App Service could not resolve: store the secret in the vault (README, Deploy to Azure) and give the app access.");
            }
            else if (client.Secret is null || client.Secret.Length < MinimumSecretLength || client.Secret.Length > MaximumLength)
            {
                failures.Add($"Introspection__Clients__{i}__Secret must be {MinimumSecretLength} to {MaximumLength} characters of random (e.g. `openssl rand -hex 32`).");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// HTTP Basic authentication of the services that introspect (RFC 7662 §2.1 requires it; RFC 7617). Id and secret
/// are compared as SHA-256 digests in fixed time against every client, so neither the answer's timing nor its
/// content tells whether an id exists.
/// </summary>
public sealed class IntrospectionClients
{
    private readonly (string Id, byte[] IdHash, byte[] SecretHash)[] _clients;

    public IntrospectionClients(IOptions<IntrospectionOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _clients = [.. options.Value.ConfiguredClients.Select(c => (c.Client.Id!, Digest(c.Client.Id!), Digest(c.Client.Secret!)))];
    }

    public bool Enabled => _clients.Length > 0;

    /// <summary>The calling client's id when the Authorization header carries a configured id and secret; otherwise null.</summary>
    public string? Authenticate(StringValues authorization)
    {
        if (authorization.Count != 1 || authorization[0] is not { } header ||
            !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || !TryDecode(header[6..].Trim(), out var id, out var secret))
        {
            return null;
        }
        // RFC 6749 §2.3.1: clients form-encode id and secret before Basic; many send them as they are (curl -u).
        // Either spelling of the right secret is accepted: for secrets of letters and digits they are the same.
        return Match(FormDecode(id), FormDecode(secret)) ?? Match(id, secret);
    }

    private string? Match(string id, string secret)
    {
        byte[] idHash = Digest(id);
        byte[] secretHash = Digest(secret);
        string? matched = null;
        foreach (var client in _clients)
        {
            bool same = CryptographicOperations.FixedTimeEquals(idHash, client.IdHash) & CryptographicOperations.FixedTimeEquals(secretHash, client.SecretHash);
            matched = same ? client.Id : matched;
        }
        return matched;
    }

    private static bool TryDecode(string credentials, out string id, out string secret)
    {
        id = secret = "";
        var bytes = new byte[credentials.Length];
        if (credentials.Length == 0 || credentials.Length > 2048 || !Convert.TryFromBase64String(credentials, bytes, out int written))
        {
            return false;
        }
        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }
        id = decoded[..colon];
        secret = decoded[(colon + 1)..];
        return true;
    }

    private static string FormDecode(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return value;
        }
    }

    private static byte[] Digest(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
