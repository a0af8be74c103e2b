using System.Text.Json.Serialization;
using AuthFunctions.Sessions;
using AuthFunctions.Tokens;

namespace AuthFunctions.ResourceServers;

/// <summary>RFC 7517 §5: the JWK Set at <c>/api/.well-known/jwks.json</c>.</summary>
public sealed record JsonWebKeySetResponse(IReadOnlyList<JsonWebKeyResponse> Keys);

/// <summary>One public EC key (RFC 7518 §6.2.1) and its use: verifying our ES256 access tokens. Never a private member.</summary>
public sealed record JsonWebKeyResponse(string Kty, string Crv, string X, string Y, string Kid, string Use, string Alg);

/// <summary>RFC 7662 §2.1: form fields <c>token</c> and the optional <c>token_type_hint</c> (which we may ignore).</summary>
public sealed record IntrospectionRequest(string? Token, string? TokenTypeHint);

/// <summary>
/// RFC 7662 §2.2. An inactive token gets <c>{"active":false}</c> and nothing else (no hint at why); an active one
/// the standard members plus the token's own <c>sid</c>, <c>email</c>, <c>amr</c> and <c>acr</c>.
/// </summary>
public sealed record IntrospectionResponse(bool Active)
{
    /// <summary>The answer for an active token: its claims, the session's current email, and our issuer and audience.</summary>
    public static IntrospectionResponse For(AccessTokenClaims claims, AuthenticatedUser user, string clientId, TokenService tokens)
    {
        ArgumentNullException.ThrowIfNull(claims);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(tokens);
        return new IntrospectionResponse(true)
        {
            Scope = claims.Scope,
            ClientId = clientId,
            TokenType = "Bearer",
            Exp = claims.ExpiresAt.ToUnixTimeSeconds(),
            Iat = claims.IssuedAt.ToUnixTimeSeconds(),
            Nbf = claims.NotBefore?.ToUnixTimeSeconds(),
            Sub = claims.UserId,
            Aud = tokens.Audience,
            Iss = tokens.Issuer,
            Jti = claims.TokenId,
            Sid = claims.SessionId,
            Email = user.Email,
            Amr = claims.Assurance.Methods,
            Acr = claims.Assurance.Level,
        };
    }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Scope { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TokenType { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Exp { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Iat { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Nbf { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sub { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Aud { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Iss { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Jti { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sid { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Email { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Amr { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Acr { get; init; }

    public static IntrospectionResponse Inactive { get; } = new(false);
}
