using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthFunctions.Auth;

public sealed record IssuedTokens(string AccessToken, int ExpiresInSeconds, string RefreshToken, int RefreshExpiresInSeconds);

/// <summary>The claims a valid access token carries, read once by the middleware.</summary>
/// <remarks><see cref="SessionEpoch"/> (claim <c>sep</c>) is the session's epoch when the token was issued, so the revocation feed can refuse it without storage; null in tokens issued before it existed.</remarks>
public sealed record AccessTokenClaims(string UserId, string Email, string SessionId, DateTimeOffset IssuedAt, int? SessionEpoch = null);

/// <summary>
/// Access tokens are HS256 JWTs with <c>typ: at+jwt</c> (RFC 9068) so that no other JWT of ours can
/// pass as one (RFC 8725 §3.11). Validation pins the algorithm (RFC 8725 §3.1), issuer, audience,
/// type and lifetime; the lifetime is checked against the injected clock with a small skew.
/// Refresh tokens are opaque: <c>{user id}.{session id}.{256 random bits}</c>, stored only as SHA-256.
/// </summary>
public sealed class TokenService
{
    public const string AccessTokenType = "at+jwt";
    public const string SessionEpochClaim = "sep";
    private const int MaxTokenBytes = 8 * 1024;
    private static readonly string[] ForbiddenHeaderParameters = ["kid", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit", "cty", "zip", "enc"];

    private readonly AuthOptions _options;
    private readonly TimeProvider _clock;
    private readonly JsonWebTokenHandler _handler = new()
    {
        SetDefaultTimesOnTokenCreation = false,
        MaximumTokenSizeInBytes = MaxTokenBytes,
    };
    private readonly SigningCredentials _signingCredentials;
    private readonly TokenValidationParameters _validation;
    private readonly TimeSpan _skew;

    public TokenService(IOptions<AuthOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _clock = clock;
        _skew = TimeSpan.FromSeconds(_options.ClockSkewSeconds);
        var key = new SymmetricSecurityKey(_options.SigningKeyBytes);
        _signingCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256);
        _validation = new TokenValidationParameters
        {
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidTypes = [AccessTokenType],
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Audience,
            IssuerSigningKey = key,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            // Checked below against the injected TimeProvider so that tests can move the clock.
            ValidateLifetime = false,
            RequireExpirationTime = true,
        };
    }

    public int AccessTokenSeconds => _options.AccessTokenMinutes * 60;

    public TimeSpan RefreshTokenLifetime => TimeSpan.FromDays(_options.RefreshTokenDays);

    public string CreateAccessToken(UserProfile user, string sessionId)
    {
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
            },
        });
    }

    /// <summary>The token's claims if its signature, header and claims are valid now; otherwise null.</summary>
    public async ValueTask<AccessTokenClaims?> ValidateAccessTokenAsync(string token)
    {
        if (token.Length > MaxTokenBytes)
        {
            return null;
        }
        var result = await _handler.ValidateTokenAsync(token, _validation);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return null;
        }
        // We issue headers with alg and typ only. Key-locating or processing parameters (kid, jku,
        // x5u, jwk, x5c, crit…) are never honoured and their presence marks a forgery (RFC 8725 §3.10).
        foreach (var name in ForbiddenHeaderParameters)
        {
            if (jwt.TryGetHeaderValue<object>(name, out _))
            {
                return null;
            }
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
        int? sessionEpoch = jwt.TryGetPayloadValue<int>(SessionEpochClaim, out var sep) ? sep : null;
        return new AccessTokenClaims(jwt.Subject, email, sessionId, new DateTimeOffset(jwt.IssuedAt, TimeSpan.Zero), sessionEpoch);
    }

    /// <summary>A new opaque refresh token for a session, and the hash to store.</summary>
    public static (string Token, string Hash) CreateRefreshToken(string userId, string sessionId)
    {
        string secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        string token = $"{userId}.{sessionId}.{secret}";
        return (token, HashRefreshToken(token));
    }

    public static string HashRefreshToken(string token) => Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

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

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
