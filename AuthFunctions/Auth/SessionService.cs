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

/// <summary>Which sessions a logout ends: all of the user's (the seeds' semantics), only this one, or all the others.</summary>
public enum LogoutScope
{
    All,
    Session,
    Others,
}

/// <summary>
/// Everything about sessions, in one place: start at login, refresh-token rotation, the per-request
/// liveness check behind every protected function, listing, and ending one, the others or all (which
/// also deletes the ended rows and their refresh-token hashes, and drops what this instance cached).
/// </summary>
public sealed partial class SessionService(
    SessionStore sessions, UserStore users, TokenService tokens, RevocationCache cache, IOptions<AuthOptions> options, TimeProvider clock, ILogger<SessionService> logger)
{
    private const int MaxSpentHashesKept = 16;
    private const int MaxOptimisticRetries = 4;
    private const int MaxUserAgentLength = 256;

    /// <summary>How long a session whose login said "don't remember me" lasts from that login, refreshed or not.</summary>
    public static readonly TimeSpan UnrememberedLifetime = TimeSpan.FromHours(12);

    public Task<IssuedTokens> StartAsync(UserProfile user, string? userAgent, CancellationToken cancellationToken) =>
        StartAsync(user, userAgent, rememberMe: true, cancellationToken);

    /// <summary>
    /// Starts a session. Remembered: the refresh token slides (<c>Auth__RefreshTokenDays</c> from each use);
    /// not remembered: it cannot outlive 12 hours from this login. Either way the session ends
    /// <c>Auth__SessionMaxDays</c> after this login (ASVS 7.3.2).
    /// </summary>
    public async Task<IssuedTokens> StartAsync(UserProfile user, string? userAgent, bool rememberMe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        string sessionId = Guid.NewGuid().ToString("N");
        var (refreshToken, refreshHash) = TokenService.CreateRefreshToken(user.Id, sessionId);
        var now = clock.GetUtcNow();
        var session = new Session
        {
            UserId = user.Id,
            Id = sessionId,
            Epoch = user.SessionEpoch,
            CreatedAt = now,
            LastUsedAt = now,
            RefreshExpiresAt = now,
            RefreshTokenHash = refreshHash,
            UserAgent = userAgent is { Length: > MaxUserAgentLength } ? userAgent[..MaxUserAgentLength] : userAgent,
            RememberMe = rememberMe,
            AbsoluteExpiresAt = now + TimeSpan.FromDays(options.Value.SessionMaxDays),
        };
        session = session with { RefreshExpiresAt = RefreshExpiry(session, now) };
        await sessions.CreateAsync(session, cancellationToken);
        return Issue(user, sessionId, refreshToken, session.RefreshExpiresAt);
    }

    /// <summary>A refresh token issued now expires after its sliding lifetime, but never past the session's own end.</summary>
    private DateTimeOffset RefreshExpiry(Session session, DateTimeOffset now)
    {
        var end = session.AbsoluteExpiresAt ?? session.CreatedAt + TimeSpan.FromDays(options.Value.SessionMaxDays);
        if (!session.RememberMe && session.CreatedAt + UnrememberedLifetime < end)
        {
            end = session.CreatedAt + UnrememberedLifetime;
        }
        var sliding = now + tokens.RefreshTokenLifetime;
        return sliding < end ? sliding : end;
    }

    /// <summary>The caller of a protected function if the token's session is live now (one storage query, or this instance's cache).</summary>
    public async Task<AuthenticatedUser?> AuthenticateAsync(AccessTokenClaims claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (!cache.TryGet(claims.UserId, claims.SessionId, out var profile))
        {
            var state = await sessions.GetStateAsync(claims.UserId, claims.SessionId, cancellationToken);
            if (!state.IsLive)
            {
                LogRevokedToken(claims.UserId);
                return null;
            }
            profile = state.Profile!;
            cache.RememberLive(claims.UserId, claims.SessionId, profile);
        }
        return new AuthenticatedUser(claims.UserId, profile.Email, claims.SessionId, profile);
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
            var session = await sessions.GetAsync(userId, sessionId, cancellationToken);
            var user = session is null ? null : await users.GetAsync(userId, cancellationToken);
            if (session is null || user is null || session.Epoch != user.Profile.SessionEpoch)
            {
                return new(RefreshStatus.Invalid, null, userId);
            }
            var now = clock.GetUtcNow();
            if (session.RefreshExpiresAt <= now)
            {
                await EndOneAsync(userId, sessionId, cancellationToken);
                return new(RefreshStatus.Invalid, null, userId);
            }

            if (FixedTimeEquals(presentedHash, session.RefreshTokenHash))
            {
                string next = NextRefreshToken(userId, sessionId, refreshToken!);
                var expires = RefreshExpiry(session, now);
                var rotated = session with
                {
                    RefreshTokenHash = TokenService.HashRefreshToken(next),
                    SpentRefreshTokenHashes = [.. session.SpentRefreshTokenHashes.Append(presentedHash).TakeLast(MaxSpentHashesKept)],
                    RotatedAt = now,
                    LastUsedAt = now,
                    RefreshExpiresAt = expires,
                };
                if (await sessions.TryReplaceAsync(rotated, cancellationToken))
                {
                    return new(RefreshStatus.Refreshed, Issue(user.Profile, sessionId, next, expires), userId);
                }
                continue; // Another refresh of the same token won the race: read again and take the grace path.
            }

            // Two tabs refreshing at once: the loser presents the token just spent and gets the same new
            // refresh token, derived from it, as long as the rotation was moments ago.
            var spent = session.SpentRefreshTokenHashes;
            if (spent.Count > 0 && FixedTimeEquals(presentedHash, spent[^1]) &&
                session.RotatedAt is { } rotatedAt && now - rotatedAt <= TimeSpan.FromSeconds(options.Value.RefreshGraceSeconds))
            {
                string next = NextRefreshToken(userId, sessionId, refreshToken!);
                if (FixedTimeEquals(TokenService.HashRefreshToken(next), session.RefreshTokenHash))
                {
                    return new(RefreshStatus.Refreshed, Issue(user.Profile, sessionId, next, session.RefreshExpiresAt), userId);
                }
            }

            if (spent.Any(hash => FixedTimeEquals(presentedHash, hash)))
            {
                await EndOneAsync(userId, sessionId, cancellationToken);
                LogReuse(userId, sessionId);
                return new(RefreshStatus.ReuseDetected, null, userId);
            }
            // Shaped like ours but never issued: refuse without ending the session, or anyone who
            // learned a session id could log its owner out.
            return new(RefreshStatus.Invalid, null, userId);
        }
        return new(RefreshStatus.Invalid, null, userId);
    }

    /// <summary>The user's sessions that are live now (current epoch, refresh token not expired), most recently used first.</summary>
    public async Task<IReadOnlyList<Session>> ListLiveAsync(AuthenticatedUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = clock.GetUtcNow();
        var all = await sessions.ListAsync(user.UserId, cancellationToken);
        return [.. all.Where(s => s.Epoch == user.Profile.SessionEpoch && s.RefreshExpiresAt > now).OrderByDescending(s => s.LastUsedAt)];
    }

    /// <summary>Ends one session: its refresh token stops working and its access tokens are refused. False if there was none.</summary>
    public async Task<bool> EndOneAsync(string userId, string sessionId, CancellationToken cancellationToken)
    {
        bool ended = await sessions.DeleteAsync(userId, sessionId, cancellationToken);
        // After the write: anything cached while it was in flight is dropped too.
        cache.Forget(userId);
        return ended;
    }

    public async Task EndAsync(AuthenticatedUser user, LogoutScope scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (scope == LogoutScope.Session)
        {
            await EndOneAsync(user.UserId, user.SessionId, cancellationToken);
            return;
        }
        // One ETag-guarded write of the epoch is the whole revocation, on every instance.
        if (await users.StartNewEpochAsync(user.UserId, cancellationToken) is { } epoch)
        {
            await EndAllBeforeAsync(user.UserId, epoch, scope == LogoutScope.Others ? user.SessionId : null, cancellationToken);
        }
        cache.Forget(user.UserId);
    }

    /// <summary>
    /// After the epoch moved on to <paramref name="epoch"/> (logout everywhere, password change): carries
    /// <paramref name="keepSessionId"/> into it and deletes the rows of the sessions that ended.
    /// </summary>
    public async Task EndAllBeforeAsync(string userId, int epoch, string? keepSessionId, CancellationToken cancellationToken)
    {
        if (keepSessionId is not null)
        {
            await sessions.MoveToEpochAsync(userId, keepSessionId, epoch, cancellationToken);
        }
        cache.Forget(userId);
        await sessions.DeleteEndedAsync(userId, epoch, cancellationToken);
    }

    /// <summary>
    /// Ends every session of a user without moving the epoch (the account is being deleted: its profile is
    /// already gone, so nothing can bump it): deletes every session row and drops what this instance cached.
    /// </summary>
    public async Task EndEverySessionAsync(string userId, CancellationToken cancellationToken)
    {
        foreach (var session in await sessions.ListAsync(userId, cancellationToken))
        {
            await sessions.DeleteAsync(userId, session.Id, cancellationToken);
        }
        // After the writes: anything cached while they were in flight is dropped too.
        cache.Forget(userId);
    }

    /// <summary>The user's profile changed (name, verified email): this instance stops serving its cached copy.</summary>
    public void ProfileChanged(string userId) => cache.Forget(userId);

    private IssuedTokens Issue(UserProfile user, string sessionId, string refreshToken, DateTimeOffset refreshExpires) =>
        new(tokens.CreateAccessToken(user, sessionId), tokens.AccessTokenSeconds, refreshToken,
            (int)Math.Max(0, (refreshExpires - clock.GetUtcNow()).TotalSeconds));

    /// <summary>The successor of a refresh token: a keyed hash of it, so concurrent rotations agree on one successor.</summary>
    private string NextRefreshToken(string userId, string sessionId, string current)
    {
        byte[] mac = HMACSHA256.HashData(options.Value.RefreshRotationKey, Encoding.UTF8.GetBytes("refresh-rotation\n" + current));
        return $"{userId}.{sessionId}.{System.Buffers.Text.Base64Url.EncodeToString(mac)}";
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    [LoggerMessage(Level = LogLevel.Warning, EventName = "RefreshTokenReuse", Message = "A spent refresh token was presented again for user {UserId}; session {SessionId} is ended.")]
    private partial void LogReuse(string userId, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, EventName = "RevokedTokenRefused", Message = "Refused an access token of user {UserId}: user deleted or session ended.")]
    private partial void LogRevokedToken(string userId);
}
