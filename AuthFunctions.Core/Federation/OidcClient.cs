using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AuthFunctions.Federation;

/// <summary>The provider did not answer in time, or not usably (down, slow, 5xx, a broken document): try again later.</summary>
public sealed class ProviderUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Why an authorization code or its ID token was refused (names the check, never a value).</summary>
public sealed class IdTokenRejectedException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>What a valid ID token says about the user.</summary>
public sealed record ProviderIdentity(string Subject, string? Email, bool EmailVerified, string? Name, IReadOnlyList<string> Methods)
{
    /// <summary>When the user last actively authenticated at the provider (<c>auth_time</c>), when the token says.</summary>
    public DateTimeOffset? AuthenticatedAt { get; init; }
}

/// <summary>
/// The relying-party side of OpenID Connect, on the IdentityModel family: each provider's discovery document and keys
/// through a cached <see cref="ConfigurationManager{T}"/>, the authorization request and token response as
/// <see cref="OpenIdConnectMessage"/>s, the ID token through <see cref="JsonWebTokenHandler"/>. Every call to a provider
/// is bounded by <c>Oidc__ProviderTimeoutSeconds</c>.
/// </summary>
public sealed class OidcClient : IDisposable
{
    private readonly OidcOptions _options;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, ConfigurationManager<OpenIdConnectConfiguration>> _configurations = new(StringComparer.Ordinal);
    private readonly JsonWebTokenHandler _tokens = new() { MapInboundClaims = false };

    /// <summary>Allowed difference between the provider's clock and ours.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(2);
    private readonly TimeProvider _clock;

    public OidcClient(IOptions<OidcOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _clock = clock;
        _options = options.Value;
        Timeout = TimeSpan.FromSeconds(_options.ProviderTimeoutSeconds);
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = Timeout }) { Timeout = Timeout };
    }

    public TimeSpan Timeout { get; }

    /// <summary>The provider's discovery document and keys (cached; refreshed daily, or sooner when a token names a key we lack).</summary>
    public async Task<OpenIdConnectConfiguration> ConfigurationAsync(OidcProviderOptions provider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var manager = Manager(provider);
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await manager.GetConfigurationAsync(cancellationToken).WaitAsync(Timeout, cancellationToken);
        }
        catch (Exception failed) when (failed is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new ProviderUnavailableException($"The discovery document or keys of provider {provider.Name} could not be read within {Timeout.TotalSeconds:0.#} s.", failed);
        }
        // OpenID Connect Discovery 1.0 §4.3: the issuer in the document must be the one we configured, else it is not this provider's.
        if (!string.Equals(configuration.Issuer?.TrimEnd('/'), provider.Issuer, StringComparison.Ordinal) ||
            string.IsNullOrEmpty(configuration.AuthorizationEndpoint) || string.IsNullOrEmpty(configuration.TokenEndpoint))
        {
            throw new ProviderUnavailableException($"The discovery document of provider {provider.Name} names another issuer or lacks an endpoint.");
        }
        return configuration;
    }

    /// <summary>
    /// The authorization request (code flow with PKCE S256, RFC 7636) as the URL to send the browser to; with
    /// <paramref name="freshSignIn"/>, <c>max_age=0</c>: the provider must authenticate the user anew and report <c>auth_time</c>
    /// (OpenID Connect Core 1.0 §3.1.2.1; unlike <c>prompt=login</c>, its effect can be checked in the ID token).
    /// </summary>
    public static string AuthorizationUrl(OpenIdConnectConfiguration configuration, OidcProviderOptions provider, string redirectUri, string state, string nonce, string verifier,
        bool freshSignIn = false)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(provider);
        var request = new OpenIdConnectMessage
        {
            IssuerAddress = configuration.AuthorizationEndpoint,
            ClientId = provider.ClientId,
            RedirectUri = redirectUri,
            ResponseType = OpenIdConnectResponseType.Code,
            Scope = provider.ScopeText,
            State = state,
            Nonce = nonce,
            MaxAge = freshSignIn ? "0" : null,
        };
        request.SetParameter("code_challenge", FederationSecrets.S256(verifier));
        request.SetParameter("code_challenge_method", "S256");
        return request.CreateAuthenticationRequestUrl();
    }

    /// <summary>
    /// Redeems the authorization code at the token endpoint (client secret, Basic unless the provider lists only
    /// <c>client_secret_post</c>) and validates the ID token: signature by a key of the provider's JWKS, <c>iss</c>,
    /// <c>aud</c>, <c>exp</c>, <c>iat</c> and <c>nonce</c> (OpenID Connect Core 1.0 §3.1.3.7).
    /// </summary>
    public async Task<ProviderIdentity> RedeemAsync(OidcProviderOptions provider, string code, string redirectUri, string verifier, string nonce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var configuration = await ConfigurationAsync(provider, cancellationToken);
        string idToken = await RequestIdTokenAsync(configuration, provider, code, redirectUri, verifier, cancellationToken);
        var result = await ValidateAsync(idToken, configuration, provider);
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // A key we do not have yet: the provider may have rotated. Read its keys once more, then decide.
            Manager(provider).RequestRefresh();
            result = await ValidateAsync(idToken, await ConfigurationAsync(provider, cancellationToken), provider);
        }
        if (!result.IsValid)
        {
            throw new IdTokenRejectedException($"the ID token failed validation ({result.Exception?.GetType().Name ?? "invalid"})");
        }
        var token = (JsonWebToken)result.SecurityToken;
        if (!IssuedInTime(token))
        {
            throw new IdTokenRejectedException("the ID token has no iat, or one in the future");
        }
        if (!token.TryGetPayloadValue<string>("nonce", out var tokenNonce) || !FederationSecrets.FixedTimeEquals(tokenNonce, nonce))
        {
            throw new IdTokenRejectedException("the ID token's nonce is not this sign-in's");
        }
        if (!token.TryGetPayloadValue<string>("sub", out var subject) || string.IsNullOrEmpty(subject) || subject.Length > 255)
        {
            throw new IdTokenRejectedException("the ID token has no usable sub");
        }
        token.TryGetPayloadValue<string>("email", out var email);
        bool verified = token.TryGetPayloadValue<bool>("email_verified", out var flag) && flag;
        token.TryGetPayloadValue<string>("name", out var name);
        var methods = token.TryGetPayloadValue<string[]>("amr", out var amr) && amr is not null ? amr : [];
        return new ProviderIdentity(subject, email, verified, name, methods)
        {
            AuthenticatedAt = token.TryGetPayloadValue<long>("auth_time", out var authTime) ? DateTimeOffset.FromUnixTimeSeconds(authTime) : null,
        };
    }

    private Task<TokenValidationResult> ValidateAsync(string idToken, OpenIdConnectConfiguration configuration, OidcProviderOptions provider) =>
        _tokens.ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = provider.Issuer,
            ValidAudience = provider.ClientId,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            // exp and nbf against the injected clock (as TokenService does for our own tokens), not the system's.
            LifetimeValidator = (notBefore, expires, _, _) => WithinLifetime(notBefore, expires),
            ClockSkew = ClockSkew,
            // No "none", no HMAC with a public key: only the asymmetric algorithms providers sign ID tokens with.
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512, SecurityAlgorithms.RsaSsaPssSha256,
                SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512],
        });

    /// <summary>OpenID Connect Core §3.1.3.7 (9): an ID token must have an <c>exp</c> not yet past (and a <c>nbf</c>, if any, reached).</summary>
    private bool WithinLifetime(DateTime? notBefore, DateTime? expires)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        return expires is { } expiry && now <= expiry + ClockSkew && (notBefore is not { } start || now >= start - ClockSkew);
    }

    /// <summary>OpenID Connect Core §3.1.3.7 (10): an ID token must say when it was issued, and not in the future.</summary>
    private bool IssuedInTime(JsonWebToken token) =>
        token.TryGetPayloadValue<long>("iat", out var iat) && DateTimeOffset.FromUnixTimeSeconds(iat) <= _clock.GetUtcNow() + ClockSkew;

    /// <summary>
    /// The token request (RFC 6749 §4.1.3 with the PKCE verifier), authenticated with <c>private_key_jwt</c> where the
    /// provider has a client assertion key, else with the client secret; the ID token of the answer.
    /// </summary>
    private async Task<string> RequestIdTokenAsync(OpenIdConnectConfiguration configuration, OidcProviderOptions provider, string code, string redirectUri, string verifier,
        CancellationToken cancellationToken)
    {
        var body = new OpenIdConnectMessage { GrantType = OpenIdConnectGrantTypes.AuthorizationCode, Code = code, RedirectUri = redirectUri };
        body.SetParameter("code_verifier", verifier);
        using var request = new HttpRequestMessage(HttpMethod.Post, configuration.TokenEndpoint);
        bool postOnly = configuration.TokenEndpointAuthMethodsSupported.Count > 0 &&
            !configuration.TokenEndpointAuthMethodsSupported.Contains("client_secret_basic") && configuration.TokenEndpointAuthMethodsSupported.Contains("client_secret_post");
        if (provider.ClientAssertion is { } assertion)
        {
            // private_key_jwt (OpenID Connect Core 1.0 §9, RFC 7523 §2.2): the signed assertion instead of any secret.
            body.ClientId = provider.ClientId;
            body.ClientAssertionType = ClientAssertionSigner.AssertionType;
            body.ClientAssertion = assertion.Create(provider.ClientId!, configuration.TokenEndpoint, _clock.GetUtcNow());
        }
        else if (postOnly)
        {
            body.ClientId = provider.ClientId;
            body.ClientSecret = provider.ClientSecret;
        }
        else
        {
            // RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
            string credentials = Uri.EscapeDataString(provider.ClientId!) + ":" + Uri.EscapeDataString(provider.ClientSecret!);
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials)));
        }
        request.Content = new FormUrlEncodedContent(body.Parameters);
        string json;
        int status;
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            status = (int)response.StatusCode;
            json = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (Exception failed) when (failed is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new ProviderUnavailableException($"The token endpoint of provider {provider.Name} did not answer within {Timeout.TotalSeconds:0.#} s.", failed);
        }
        if (status >= 500)
        {
            throw new ProviderUnavailableException($"The token endpoint of provider {provider.Name} failed ({status}).");
        }
        OpenIdConnectMessage answer;
        try
        {
            answer = new OpenIdConnectMessage(json);
        }
        catch (Exception unreadable) when (unreadable is ArgumentException or System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new IdTokenRejectedException($"the token endpoint answered {status} without a JSON body", unreadable);
        }
        if (status != 200 || !string.IsNullOrEmpty(answer.Error) || string.IsNullOrEmpty(answer.IdToken))
        {
            // The error code only (RFC 6749 §5.2: a short ASCII word); descriptions may echo input.
            string error = answer.Error is { Length: <= 40 } reported && reported.All(c => char.IsAsciiLetterLower(c) || c == '_') ? reported : "no id_token";
            throw new IdTokenRejectedException($"the token endpoint refused the code ({status}, {error})");
        }
        return answer.IdToken;
    }

    private ConfigurationManager<OpenIdConnectConfiguration> Manager(OidcProviderOptions provider) =>
        _configurations.GetOrAdd(provider.Name!, _ =>
        {
            var authority = new Uri(provider.Issuer + "/");
            var retriever = new HttpDocumentRetriever(_http) { RequireHttps = !OidcOptions.IsLoopback(authority) };
            return new ConfigurationManager<OpenIdConnectConfiguration>(new Uri(authority, ".well-known/openid-configuration").ToString(), new OpenIdConnectConfigurationRetriever(), retriever)
            {
                // A failed read is tried again after this, not after the default five minutes: a provider back up is used soon.
                RefreshInterval = TimeSpan.FromSeconds(30),
            };
        });

    public void Dispose() => _http.Dispose();
}
