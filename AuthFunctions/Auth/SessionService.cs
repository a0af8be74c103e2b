using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Auth;

public enum RefreshStatus
{
    Refreshed,
    Invalid,

    /// <summary>A spent refresh token came back: the session is ended (ASVS 10.4.5, RFC 9700 §4.14.2).</summary>
    ReuseDetected,
}

public readonly record struct RefreshOutcome(RefreshStatus Status, IssuedTokens? Tokens, string? UserId);

/// <summary>Starts sessions at login and rotates their refresh tokens.</summary>
public sealed partial class SessionService(UserStore users, TokenService tokens, IOptions<AuthOptions> options, TimeProvider clock, ILogger<SessionService> logger)
{
    private const int MaxSpentHashesKept = 16;
    private const int MaxOptimisticRetries = 4;

    public async Task<IssuedTokens> StartAsync(UserEntity user, string? userAgent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        string sessionId = Guid.NewGuid().ToString("N");
        var (refreshToken, refreshHash) = TokenService.CreateRefreshToken(user.Id, sessionId);
        var expires = clock.GetUtcNow() + tokens.RefreshTokenLifetime;
        await users.CreateSessionAsync(user, sessionId, refreshHash, expires, Truncate(userAgent, 256), cancellationToken);
        return Issue(user, sessionId, refreshToken, expires);
    }

    public async Task<RefreshOutcome> RefreshAsync(string? refreshToken, CancellationToken cancellationToken)
    {
        if (!TokenService.TryParseRefreshToken(refreshToken, out var userId, out var sessionId))
        {
            return new(RefreshStatus.Invalid, null, null);
        }
        string presentedHash = TokenService.HashRefreshToken(refreshToken!);
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            var read = await users.GetSessionAsync(userId, sessionId, cancellationToken);
            var user = read is null ? null : await users.GetAsync(userId, cancellationToken);
            if (read is null || user is null || read.Value.Epoch != user.Value.SessionEpoch)
            {
                return new(RefreshStatus.Invalid, null, userId);
            }
            var session = read.Value;
            var now = clock.GetUtcNow();
            if (session.RefreshExpiresAt <= now)
            {
                await users.EndSessionAsync(userId, sessionId, cancellationToken);
                return new(RefreshStatus.Invalid, null, userId);
            }

            if (FixedTimeEquals(presentedHash, session.RefreshTokenHash))
            {
                string next = NextRefreshToken(userId, sessionId, refreshToken!);
                var expires = now + tokens.RefreshTokenLifetime;
                var rotated = session with
                {
                    RefreshTokenHash = TokenService.HashRefreshToken(next),
                    SpentRefreshTokenHashes = AppendSpent(session.SpentRefreshTokenHashes, presentedHash),
                    RotatedAt = now,
                    LastUsedAt = now,
                    RefreshExpiresAt = expires,
                };
                if (await users.TryReplaceSessionAsync(rotated, read.ETag, cancellationToken))
                {
                    return new(RefreshStatus.Refreshed, Issue(user.Value, sessionId, next, expires), userId);
                }
                continue; // Another refresh of the same token won the race: read again and take the grace path.
            }

            // Two tabs refreshing at once: the loser presents the token just spent and gets the same new
            // refresh token, derived from it, as long as the rotation was moments ago.
            var spent = (session.SpentRefreshTokenHashes ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (spent.Length > 0 && FixedTimeEquals(presentedHash, spent[^1]) &&
                session.RotatedAt is { } rotatedAt && now - rotatedAt <= TimeSpan.FromSeconds(options.Value.RefreshGraceSeconds))
            {
                string next = NextRefreshToken(userId, sessionId, refreshToken!);
                if (FixedTimeEquals(TokenService.HashRefreshToken(next), session.RefreshTokenHash))
                {
                    return new(RefreshStatus.Refreshed, Issue(user.Value, sessionId, next, session.RefreshExpiresAt), userId);
                }
            }

            if (spent.Any(hash => FixedTimeEquals(presentedHash, hash)))
            {
                await users.EndSessionAsync(userId, sessionId, cancellationToken);
                LogReuse(userId, sessionId);
                return new(RefreshStatus.ReuseDetected, null, userId);
            }
            // Shaped like ours but never issued: refuse without ending the session, or anyone who
            // learned a session id could log its owner out.
            return new(RefreshStatus.Invalid, null, userId);
        }
        return new(RefreshStatus.Invalid, null, userId);
    }

    private IssuedTokens Issue(UserEntity user, string sessionId, string refreshToken, DateTimeOffset refreshExpires) =>
        new(tokens.CreateAccessToken(user, sessionId), tokens.AccessTokenSeconds, refreshToken,
            (int)Math.Max(0, (refreshExpires - clock.GetUtcNow()).TotalSeconds));

    /// <summary>The successor of a refresh token: a keyed hash of it, so concurrent rotations agree on one successor.</summary>
    private string NextRefreshToken(string userId, string sessionId, string current)
    {
        byte[] mac = HMACSHA256.HashData(options.Value.RefreshRotationKey, Encoding.UTF8.GetBytes("refresh-rotation\n" + current));
        return $"{userId}.{sessionId}.{System.Buffers.Text.Base64Url.EncodeToString(mac)}";
    }

    private static string AppendSpent(string? spent, string hash)
    {
        var list = (spent ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Append(hash).TakeLast(MaxSpentHashesKept);
        return string.Join(' ', list);
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    private static string? Truncate(string? value, int length) => value is null || value.Length <= length ? value : value[..length];

    [LoggerMessage(Level = LogLevel.Warning, EventName = "RefreshTokenReuse", Message = "A spent refresh token was presented again for user {UserId}; session {SessionId} is ended.")]
    private partial void LogReuse(string userId, string sessionId);
}
