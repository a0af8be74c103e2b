using System.Net;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Federation;

/// <summary>
/// Settings section <c>Oidc</c>: the OpenID Connect providers a user may sign in with (<c>Oidc__Providers__N__…</c>), the
/// static-site pages a sign-in may return to (<c>Oidc__ReturnUrls</c>) and the app's public base URL for the redirect URI
/// (<c>Oidc__CallbackBaseUrl</c>). No provider: the federation functions answer 404.
/// </summary>
public sealed class OidcOptions
{
    public const string Section = "Oidc";
    public const string DefaultScopes = "openid email profile";

    public List<OidcProviderOptions> Providers { get; set; } = [];

    /// <summary>Comma-separated absolute URLs, compared exactly (no prefixes, no patterns: no open redirect).</summary>
    public string? ReturnUrls { get; set; }

    /// <summary>The app's public base URL; the redirect URI registered at each provider is <c>{base}/api/oidc/{name}/callback</c>.</summary>
    public string? CallbackBaseUrl { get; set; }

    /// <summary>The longest wait for a provider's discovery document, keys or token endpoint, retries included.</summary>
    public double ProviderTimeoutSeconds { get; set; } = 10;

    /// <summary>Configured providers; an entry with every value empty (a placeholder, as in local.settings.sample.json) is none.</summary>
    internal IEnumerable<(int Index, OidcProviderOptions Provider)> ConfiguredProviders =>
        Providers.Select((provider, index) => (index, provider)).Where(p => !p.provider.IsEmpty);

    public bool Enabled => ConfiguredProviders.Any();

    public IReadOnlyList<string> ReturnUrlList =>
        [.. (ReturnUrls ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    public OidcProviderOptions? Find(string name) =>
        ConfiguredProviders.Select(p => p.Provider).FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));

    public string RedirectUri(string provider) => $"{CallbackBaseUrl!.TrimEnd('/')}/api/oidc/{provider}/callback";

    internal static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.IdnHost, out var address) && IPAddress.IsLoopback(address));

    /// <summary>https, or http to a loopback address (local development and tests only).</summary>
    internal static bool IsSecureOrLoopback(Uri uri) =>
        uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri));
}

public sealed class OidcProviderOptions
{
    /// <summary>The <c>{provider}</c> path segment: lower-case letters, digits and hyphens.</summary>
    public string? Name { get; set; }

    /// <summary>The issuer; its discovery document is <c>{Authority}/.well-known/openid-configuration</c>.</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    /// <summary>The client secret the provider issued; empty with <see cref="ClientAssertionKey"/>.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>
    /// A PEM with a PKCS#8 private key (RSA of 2048 bits or more, or EC P-256), optionally with its certificate: the
    /// token request then authenticates with <c>private_key_jwt</c> (OpenID Connect Core 1.0 §9) and sends no secret.
    /// </summary>
    public string? ClientAssertionKey { get; set; }

    /// <summary>The signer of <see cref="ClientAssertionKey"/>, read once at start (<see cref="OidcOptionsSetup"/>); null with a client secret.</summary>
    /// <remarks>Fields: the configuration binding generator would otherwise try to bind them.</remarks>
    internal ClientAssertionSigner? ClientAssertion;

    /// <summary>Why <see cref="ClientAssertionKey"/> could not be read, for the validator to report.</summary>
    internal string? ClientAssertionProblem;

    internal bool UsesClientAssertion => !string.IsNullOrWhiteSpace(ClientAssertionKey);

    public string? Scopes { get; set; }

    public string ScopeText => string.IsNullOrWhiteSpace(Scopes) ? OidcOptions.DefaultScopes : string.Join(' ', Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The issuer as compared with <c>iss</c>: the setting without a trailing slash (as Entra ID and Google spell theirs).</summary>
    public string Issuer => Authority!.TrimEnd('/');

    internal bool IsEmpty => string.IsNullOrEmpty(Name) && string.IsNullOrEmpty(Authority) && string.IsNullOrEmpty(ClientId) && string.IsNullOrEmpty(ClientSecret) &&
        string.IsNullOrEmpty(ClientAssertionKey);

    /// <summary>An App Service Key Vault reference that reached the app unresolved (it resolves to the secret's value otherwise).</summary>
    internal static bool IsUnresolvedKeyVaultReference(string? value) => value?.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase) == true;
}

internal sealed class OidcOptionsValidator : IValidateOptions<OidcOptions>
{
    private const int MaxNameLength = 32;

    public ValidateOptionsResult Validate(string? name, OidcOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }
        var failures = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (i, provider) in options.ConfiguredProviders)
        {
            string setting = $"Oidc__Providers__{i}__";
            if (provider.Name is not { Length: > 0 and <= MaxNameLength } providerName || !providerName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                failures.Add($"{setting}Name must be 1 to {MaxNameLength} lower-case letters, digits or hyphens (it is the {{provider}} path segment).");
            }
            else if (seen.TryGetValue(providerName, out int first))
            {
                failures.Add($"{setting}Name repeats Oidc__Providers__{first}__Name: each provider needs its own name.");
            }
            else
            {
                seen[providerName] = i;
            }
            if (!Uri.TryCreate(provider.Authority, UriKind.Absolute, out var authority) || !OidcOptions.IsSecureOrLoopback(authority) ||
                !string.IsNullOrEmpty(authority.Query) || !string.IsNullOrEmpty(authority.Fragment))
            {
                failures.Add($"{setting}Authority must be the provider's issuer URL: https (http only for a loopback address), without query or fragment.");
            }
            if (string.IsNullOrWhiteSpace(provider.ClientId))
            {
                failures.Add($"{setting}ClientId is required (the application's client id at the provider).");
            }
            ValidateClientAuthentication(setting, provider, failures);
            if (!provider.ScopeText.Split(' ').Contains("openid", StringComparer.Ordinal))
            {
                failures.Add($"{setting}Scopes must include openid.");
            }
        }
        var returnUrls = options.ReturnUrlList;
        if (returnUrls.Count == 0)
        {
            failures.Add("Oidc__ReturnUrls is required with a provider: the static-site pages (comma-separated absolute URLs) a sign-in may return to.");
        }
        foreach (string url in returnUrls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !OidcOptions.IsSecureOrLoopback(uri) || !string.IsNullOrEmpty(uri.Fragment) || url.Contains('#', StringComparison.Ordinal))
            {
                failures.Add($"Oidc__ReturnUrls has an entry that is not an absolute https URL (http only for a loopback address) without fragment: {(uri is null ? "(not a URL)" : uri.GetLeftPart(UriPartial.Authority))}.");
            }
        }
        if (!Uri.TryCreate(options.CallbackBaseUrl, UriKind.Absolute, out var callback) || !OidcOptions.IsSecureOrLoopback(callback) ||
            !string.IsNullOrEmpty(callback.Query) || !string.IsNullOrEmpty(callback.Fragment))
        {
            failures.Add("Oidc__CallbackBaseUrl must be the app's public base URL (e.g. https://auth.example.com): https (http only for a loopback address), without query or fragment.");
        }
        if (options.ProviderTimeoutSeconds is < 1 or > 60)
        {
            failures.Add("Oidc__ProviderTimeoutSeconds must be between 1 and 60.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Exactly one of the client secret and the client assertion key; neither value is ever quoted.</summary>
    private static void ValidateClientAuthentication(string setting, OidcProviderOptions provider, List<string> failures)
    {
        foreach (var (name, value) in new[] { ("ClientSecret", provider.ClientSecret), ("ClientAssertionKey", provider.ClientAssertionKey) })
        {
            if (OidcProviderOptions.IsUnresolvedKeyVaultReference(value))
            {
                failures.Add($"{setting}{name} is a Key Vault reference that App Service could not resolve: store the secret in the vault and give the app access.");
            }
        }
        if (provider.UsesClientAssertion)
        {
            if (!string.IsNullOrEmpty(provider.ClientSecret))
            {
                failures.Add($"{setting}ClientSecret and {setting}ClientAssertionKey are both set: with a client assertion key (private_key_jwt) no secret is sent, so leave the secret empty.");
            }
            if (provider.ClientAssertionProblem is { } problem)
            {
                failures.Add($"{setting}ClientAssertionKey {problem}");
            }
        }
        else if (string.IsNullOrWhiteSpace(provider.ClientSecret))
        {
            failures.Add($"{setting}ClientSecret is required (the client secret the provider issued), or {setting}ClientAssertionKey for private_key_jwt.");
        }
    }
}

/// <summary>Reads each provider's client assertion key once, at start; the validator reports the ones that do not load.</summary>
internal sealed class OidcOptionsSetup : IPostConfigureOptions<OidcOptions>
{
    public void PostConfigure(string? name, OidcOptions options)
    {
        foreach (var (_, provider) in options.ConfiguredProviders.Where(p => p.Provider.UsesClientAssertion))
        {
            provider.ClientAssertion = OidcProviderOptions.IsUnresolvedKeyVaultReference(provider.ClientAssertionKey)
                ? null
                : ClientAssertionSigner.TryLoad(provider.ClientAssertionKey!, out provider.ClientAssertionProblem);
        }
    }
}
