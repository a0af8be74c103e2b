using System.Buffers;
using System.Buffers.Text;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthFunctions.Tokens;

public sealed record IssuedTokens(string AccessToken, int ExpiresInSeconds, string RefreshToken, int RefreshExpiresInSeconds);

/// <summary>The claims a valid access token carries, read once by the middleware.</summary>
public sealed record AccessTokenClaims(string UserId, string Email, string SessionId, DateTimeOffset IssuedAt)
{
    public DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? NotBefore { get; init; }

    public string? Scope { get; init; }

    public string? TokenId { get; init; }

    /// <summary>
    /// Claim <c>sep</c>: the session's epoch when the token was issued, so the revocation feed can refuse it without
    /// storage; null in tokens issued before the claim existed (those are checked against storage).
    /// </summary>
    public int? SessionEpoch { get; init; }

    /// <summary>Claims <c>amr</c> (RFC 8176) and <c>acr</c>: how the session's sign-in was authenticated; password/aal1 in tokens issued before the claims existed.</summary>
    public SessionAssurance Assurance { get; init; } = SessionAssurance.Password;
}

/// <summary>A public ES256 key as a JWK publishes it (RFC 7518 §6.2.1): base64url coordinates, and its RFC 7638 thumbprint as <c>kid</c>.</summary>
public sealed record PublicSigningKey(string KeyId, string X, string Y);

/// <summary>
/// Access tokens are JWTs with <c>typ: at+jwt</c> (RFC 9068) so that no other JWT of ours can pass as one
/// (RFC 8725 §3.11). ES256 with a <c>kid</c> when EC keys are configured (signed with the newest, accepted under
/// any, public keys published as a JWKS), HS256 with one shared key otherwise. Validation takes only the compact
/// serialization in canonical base64url, pins the configured algorithm (RFC 8725 §3.1), selects the key by
/// <c>kid</c> among our own keys only, and pins issuer, audience, type and lifetime; the lifetime is checked
/// against the injected clock with a small skew.
/// Refresh tokens are opaque: <c>{user id}.{session id}.{256 random bits}</c>, stored only as SHA-256.
/// </summary>
public sealed class TokenService
{
    public const string AccessTokenType = "at+jwt";
    private const string AccessTokenMediaType = "application/at+jwt";
    public const string SessionEpochClaim = "sep";
    public const string MethodsClaim = "amr";
    public const string LevelClaim = "acr";
    private const int MaxTokenBytes = 8 * 1024;

    // Header parameters that would locate a key outside our own set or change how the token is processed
    // (RFC 8725 §3.10): never honoured, so their presence marks a forgery. HS256 tokens carry no kid either.
    private static readonly string[] ForbiddenHeaderParameters = ["jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit", "cty", "zip", "enc"];
    private static readonly SearchValues<char> CompactJwsCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    private readonly AuthOptions _options;
    private readonly TimeProvider _clock;
    private readonly JsonWebTokenHandler _handler = new()
    {
        SetDefaultTimesOnTokenCreation = false,
        MaximumTokenSizeInBytes = MaxTokenBytes,
    };
    private readonly SigningCredentials _signingCredentials;
    private readonly TokenValidationParameters _validation;
    private readonly FrozenDictionary<string, ECDsaSecurityKey> _keysById;
    private readonly int _signatureBytes;
    // A client calls with one token for its whole lifetime: an ES256 verification costs ~0.2 ms of CPU, a lookup
    // well under a microsecond. Bounded (cleared when full); revocation is checked on every call regardless.
    private const int MaxVerifiedTokens = 10_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AccessTokenClaims> _verified = new(StringComparer.Ordinal);
    private readonly TimeSpan _skew;

    public TokenService(IOptions<AuthOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _clock = clock;
        _skew = TimeSpan.FromSeconds(_options.ClockSkewSeconds);
        _validation = new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Audience,
            // typ is checked before the signature, case-insensitively as media types are (RFC 9068 §4, RFC 7515 §4.1.9).
            TypeValidator = static (type, _, _) => type,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            // Checked below against the injected TimeProvider so that tests can move the clock.
            ValidateLifetime = false,
            RequireExpirationTime = true,
        };

        if (_options.EcSigningKeys.Count > 0)
        {
            var keys = _options.EcSigningKeys.Select(ec =>
            {
                var point = ec.ExportParameters(includePrivateParameters: false).Q;
                var published = new PublicSigningKey(Thumbprint(point), Base64Url.EncodeToString(point.X), Base64Url.EncodeToString(point.Y));
                return (Published: published, Key: new ECDsaSecurityKey(ec) { KeyId = published.KeyId });
            }).DistinctBy(key => key.Published.KeyId).ToList();
            PublicKeys = [.. keys.Select(key => key.Published)];
            _keysById = keys.ToFrozenDictionary(key => key.Published.KeyId, key => key.Key, StringComparer.Ordinal);
            Algorithm = SecurityAlgorithms.EcdsaSha256;
            _signatureBytes = 64;
            _signingCredentials = new SigningCredentials(keys[0].Key, Algorithm);
            _validation.IssuerSigningKeys = [.. keys.Select(key => key.Key)];
            // The kid selects the key; a token whose kid is not one of ours is not tried against the others.
            _validation.TryAllIssuerSigningKeys = false;
        }
        else
        {
            var key = new SymmetricSecurityKey(_options.SigningKeyBytes);
            PublicKeys = [];
            _keysById = FrozenDictionary<string, ECDsaSecurityKey>.Empty;
            Algorithm = SecurityAlgorithms.HmacSha256;
            _signatureBytes = 32;
            _signingCredentials = new SigningCredentials(key, Algorithm);
            _validation.IssuerSigningKey = key;
        }
        _validation.ValidAlgorithms = [Algorithm];
    }

    /// <summary><c>ES256</c> or <c>HS256</c>: the one algorithm this deployment signs and accepts.</summary>
    public string Algorithm { get; }

    /// <summary>The public keys other services verify our tokens with, newest first; empty with HS256 (nothing can be published).</summary>
    public IReadOnlyList<PublicSigningKey> PublicKeys { get; }

    public string Issuer => _options.Issuer;

    public string Audience => _options.Audience;

    public int AccessTokenSeconds => _options.AccessTokenMinutes * 60;

    public TimeSpan RefreshTokenLifetime => TimeSpan.FromDays(_options.RefreshTokenDays);

    public string CreateAccessToken(UserProfile user, string sessionId) => CreateAccessToken(user, sessionId, SessionAssurance.Password);

    public string CreateAccessToken(UserProfile user, string sessionId, SessionAssurance assurance)
    {
        ArgumentNullException.ThrowIfNull(assurance);
        ArgumentNullException.ThrowIfNull(user);
        var now = _clock.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = AccessTokenType,
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddSeconds(AccessTokenSeconds),
            SigningCredentials = _signingCredentials,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = user.Id,
                [JwtRegisteredClaimNames.Email] = user.Email,
                [JwtRegisteredClaimNames.Sid] = sessionId,
                [SessionEpochClaim] = user.SessionEpoch,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
                ["scope"] = "user",
                [MethodsClaim] = assurance.Methods.ToArray(),
                [LevelClaim] = assurance.Level,
            },
        });
    }

    /// <summary>The token's claims if its form, header, signature and claims are valid now; otherwise null.</summary>
    public async ValueTask<AccessTokenClaims?> ValidateAccessTokenAsync(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length > MaxTokenBytes)
        {
            return null;
        }
        if (_verified.TryGetValue(token, out var known))
        {
            // The same bytes passed every check before; only the clock can have changed since.
            if (_clock.GetUtcNow() <= known.ExpiresAt + _skew)
            {
                return known;
            }
            _verified.TryRemove(token, out _);
            return null;
        }
        if (!IsCanonicalCompactJws(token, _signatureBytes))
        {
            return null;
        }
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return null; // Header or payload is not base64url JSON (SecurityTokenMalformedException).
        }
        if (!IsAccessTokenType(jwt.Typ) || !HasOnlyOurHeaderParameters(jwt))
        {
            return null;
        }
        var result = await _handler.ValidateTokenAsync(jwt, _validation);
        if (!result.IsValid)
        {
            return null;
        }
        var now = _clock.GetUtcNow().UtcDateTime;
        if (jwt.ValidTo == DateTime.MinValue || now > jwt.ValidTo + _skew ||
            (jwt.ValidFrom != DateTime.MinValue && now < jwt.ValidFrom - _skew) ||
            jwt.IssuedAt == DateTime.MinValue)
        {
            return null;
        }
        if (!IsId(jwt.Subject) || !jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Sid, out var sessionId) || !IsId(sessionId) ||
            !jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Email, out var email) || string.IsNullOrEmpty(email))
        {
            return null;
        }
        var claims = new AccessTokenClaims(jwt.Subject, email, sessionId, new DateTimeOffset(jwt.IssuedAt, TimeSpan.Zero))
        {
            ExpiresAt = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero),
            NotBefore = jwt.ValidFrom == DateTime.MinValue ? null : new DateTimeOffset(jwt.ValidFrom, TimeSpan.Zero),
            Scope = jwt.TryGetPayloadValue<string>("scope", out var scope) ? scope : null,
            TokenId = jwt.Id,
            SessionEpoch = jwt.TryGetPayloadValue<int>(SessionEpochClaim, out var sep) ? sep : null,
            Assurance = SessionAssurance.From(
                jwt.TryGetPayloadValue<string[]>(MethodsClaim, out var methods) ? methods : null,
                jwt.TryGetPayloadValue<string>(LevelClaim, out var level) ? level : null),
        };
        if (_verified.Count >= MaxVerifiedTokens)
        {
            _verified.Clear();
        }
        _verified[token] = claims;
        return claims;
    }

    /// <summary>
    /// Exactly the JWS compact serialization (RFC 7515 §7.1): three non-empty base64url segments without padding or
    /// whitespace, and a signature of the algorithm's size in canonical base64url (its unused low bits zero), so a
    /// token has one spelling: no <c>=</c> appended, no altered trailing bits that lenient decoders would ignore.
    /// </summary>
    internal static bool IsCanonicalCompactJws(ReadOnlySpan<char> token, int signatureBytes)
    {
        if (token.ContainsAnyExcept(CompactJwsCharacters) || token.Count('.') != 2)
        {
            return false;
        }
        int firstDot = token.IndexOf('.');
        int lastDot = token.LastIndexOf('.');
        var signature = token[(lastDot + 1)..];
        if (firstDot == 0 || lastDot == firstDot + 1 || signature.Length != Base64Url.GetEncodedLength(signatureBytes))
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[signatureBytes];
        Span<char> canonical = stackalloc char[signature.Length];
        return Base64Url.DecodeFromChars(signature, bytes, out _, out int decoded) == OperationStatus.Done && decoded == signatureBytes &&
               Base64Url.EncodeToChars(bytes, canonical, out _, out _) == OperationStatus.Done && canonical.SequenceEqual(signature);
    }

    private static bool IsAccessTokenType(string? type) =>
        string.Equals(type, AccessTokenType, StringComparison.OrdinalIgnoreCase) ||
        string.Equals(type, AccessTokenMediaType, StringComparison.OrdinalIgnoreCase);

    private bool HasOnlyOurHeaderParameters(JsonWebToken jwt)
    {
        foreach (var name in ForbiddenHeaderParameters)
        {
            if (jwt.TryGetHeaderValue<object>(name, out _))
            {
                return false;
            }
        }
        bool hasKeyId = jwt.TryGetHeaderValue<object>(JwtHeaderParameterNames.Kid, out _);
        return _keysById.Count == 0 ? !hasKeyId : hasKeyId && jwt.Kid is { } kid && _keysById.ContainsKey(kid);
    }

    /// <summary>RFC 7638 §3.2: SHA-256 over the required members in lexicographic order, no whitespace.</summary>
    internal static string Thumbprint(ECPoint point)
    {
        string canonicalJwk = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64Url.EncodeToString(point.X)}\",\"y\":\"{Base64Url.EncodeToString(point.Y)}\"}}";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalJwk)));
    }

    /// <summary>A new opaque refresh token for a session, and the hash to store.</summary>
    public static (string Token, string Hash) CreateRefreshToken(string userId, string sessionId)
    {
        string secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        string token = $"{userId}.{sessionId}.{secret}";
        return (token, HashRefreshToken(token));
    }

    public static string HashRefreshToken(string token) => Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Splits a refresh token into its user and session ids; false for anything not shaped like ours.</summary>
    public static bool TryParseRefreshToken(string? token, out string userId, out string sessionId)
    {
        userId = sessionId = "";
        if (token is null || token.Length > 200)
        {
            return false;
        }
        var parts = token.Split('.');
        if (parts.Length != 3 || !IsId(parts[0]) || !IsId(parts[1]) || parts[2].Length != 43)
        {
            return false;
        }
        userId = parts[0];
        sessionId = parts[1];
        return true;
    }

    /// <summary>Our ids are 32 lowercase hex digits (<c>Guid.ToString("N")</c>): safe as keys and in filters.</summary>
    internal static bool IsId(string? value) =>
        value is { Length: 32 } && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
