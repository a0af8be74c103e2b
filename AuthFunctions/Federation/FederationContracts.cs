namespace AuthFunctions.Federation;

/// <summary>The static site spends its login code with its own PKCE verifier (RFC 7636).</summary>
public sealed record OidcExchangeRequest(string? Code, string? CodeVerifier);

/// <summary>A one-time ticket for <c>GET /api/oidc/{provider}/link</c>: a page navigation cannot carry the bearer token.</summary>
public sealed record LinkTicketResponse(string Ticket, int ExpiresIn);

/// <summary>One provider identity linked to the account, as <c>GET /api/me</c> lists them.</summary>
public sealed record IdentityResponse(string Provider, string Subject, string? Email, DateTimeOffset LinkedAt)
{
    public static IdentityResponse From(Users.FederatedIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return new IdentityResponse(identity.Provider, identity.Subject, identity.Email, identity.LinkedAt);
    }
}
