using Microsoft.Extensions.Options;

namespace AuthFunctions.Passkeys;

/// <summary>
/// Settings section <c>Passkeys</c>: the WebAuthn relying party. Without <c>Passkeys__RelyingPartyId</c> and
/// <c>Passkeys__Origins</c> passkeys are off and their functions answer 404 (as <c>introspect</c> without clients).
/// </summary>
public sealed class PasskeyOptions
{
    public const string Section = "Passkeys";

    /// <summary><c>Passkeys__RelyingPartyId</c>: the domain passkeys are bound to (<c>example.com</c>), the frontend's host or a parent of it.</summary>
    public string? RelyingPartyId { get; set; }

    /// <summary><c>Passkeys__RelyingPartyName</c>: the name authenticators show; the RP ID when unset.</summary>
    public string? RelyingPartyName { get; set; }

    /// <summary><c>Passkeys__Origins</c>: the exact frontend origins allowed, comma-separated (<c>https://www.example.com</c>).</summary>
    public string? Origins { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(RelyingPartyId) || !string.IsNullOrWhiteSpace(Origins);

    public IReadOnlyList<string> OriginList =>
        [.. (Origins ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(origin => origin.TrimEnd('/'))];

    public string DisplayName => string.IsNullOrWhiteSpace(RelyingPartyName) ? RelyingPartyId ?? "" : RelyingPartyName;
}

internal sealed class PasskeyOptionsValidator : IValidateOptions<PasskeyOptions>
{
    public ValidateOptionsResult Validate(string? name, PasskeyOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }
        var failures = new List<string>();
        string rpId = options.RelyingPartyId?.Trim() ?? "";
        if (rpId.Length == 0 || Uri.CheckHostName(rpId) != UriHostNameType.Dns || rpId.Contains(':', StringComparison.Ordinal))
        {
            failures.Add("Passkeys__RelyingPartyId must be a domain name (e.g. example.com; an IP address cannot be one), set together with Passkeys__Origins.");
        }
        if (options.OriginList.Count == 0)
        {
            failures.Add("Passkeys__Origins must list the frontend origins allowed to use passkeys (comma-separated, e.g. https://www.example.com), set together with Passkeys__RelyingPartyId.");
        }
        foreach (string origin in options.OriginList)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.GetLeftPart(UriPartial.Authority) != origin)
            {
                failures.Add($"Passkeys__Origins: '{origin}' is not an origin (scheme://host[:port], nothing after it).");
            }
            else if (uri.Scheme == "http" && !uri.IsLoopback)
            {
                // WebAuthn needs a secure context: only https, or http on the machine itself while developing.
                failures.Add($"Passkeys__Origins: '{origin}' must be https (browsers allow WebAuthn over http only on localhost).");
            }
            else if (rpId.Length > 0 && !(uri.Host.Equals(rpId, StringComparison.OrdinalIgnoreCase) || uri.Host.EndsWith("." + rpId, StringComparison.OrdinalIgnoreCase)))
            {
                // WebAuthn §5.1.3: the RP ID is the origin's host or a registrable suffix of it; browsers refuse anything else.
                failures.Add($"Passkeys__Origins: the host of '{origin}' is neither Passkeys__RelyingPartyId ({rpId}) nor a subdomain of it.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
