using Azure;

namespace AuthFunctions.Users;

/// <summary>What the app shows and checks of a user; never the password hash.</summary>
public sealed record UserProfile(string Id, string Email, string? FullName, DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt, int SessionEpoch, bool EmailVerified = false);

/// <summary>
/// A user as read for a credential check or change: the profile, the hash, and the version the next
/// write of the credential is conditional on (so a concurrent change is never silently undone).
/// </summary>
public sealed record UserAccount(UserProfile Profile, string PasswordHash, bool PasswordNormalized, ETag Version)
{
    public string Id => Profile.Id;

    /// <summary>When the latest email of each link purpose went out (its minute's slot was claimed); absent: never.</summary>
    public IReadOnlyDictionary<LinkPurpose, DateTimeOffset> LinksSentAt { get; init; } = new Dictionary<LinkPurpose, DateTimeOffset>();

    public string Email => Profile.Email;
}

/// <summary>One login: its refresh token (hash only) and state.</summary>
public sealed record Session
{
    public required string UserId { get; init; }

    public required string Id { get; init; }

    /// <summary>The user's session epoch when the session started (or was carried over); it is live only while they match.</summary>
    public required int Epoch { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset LastUsedAt { get; init; }

    public required DateTimeOffset RefreshExpiresAt { get; init; }

    /// <summary>SHA-256 of the current refresh token, base64url. The token itself is never stored (ASVS 7.2.x).</summary>
    public required string RefreshTokenHash { get; init; }

    /// <summary>
    /// Hashes of the most recent spent refresh tokens, oldest first: presenting one is reuse (ASVS 10.4.5,
    /// RFC 9700 §4.14.2), except the last (the token the current one replaced) within the grace window.
    /// </summary>
    public IReadOnlyList<string> SpentRefreshTokenHashes { get; init; } = [];

    public DateTimeOffset? RotatedAt { get; init; }

    public string? UserAgent { get; init; }

    /// <summary>False: the login asked not to be remembered, so the session ends 12 hours after it started.</summary>
    public bool RememberMe { get; init; } = true;

    /// <summary>The session's absolute end, however often it is refreshed (ASVS 7.3.2, <c>Auth__SessionMaxDays</c>); null for sessions older than the setting.</summary>
    public DateTimeOffset? AbsoluteExpiresAt { get; init; }

    /// <summary>How the sign-in that started the session was authenticated; every token of the session carries it.</summary>
    public SessionAssurance Assurance { get; init; } = SessionAssurance.Password;

    /// <summary>
    /// When the session's user last authenticated afresh at a provider already linked to the account (the provider's
    /// <c>auth_time</c>); what an account without a password shows instead of one before it may be deleted.
    /// </summary>
    public DateTimeOffset? ReauthenticatedAt { get; init; }

    /// <summary>The version read; a replace is conditional on it.</summary>
    public ETag Version { get; init; }
}

/// <summary>What the access-token check needs, from one single-partition query.</summary>
public readonly record struct SessionState(UserProfile? Profile, int? SessionEpoch)
{
    /// <summary>The user exists, the session exists (ended sessions are deleted) and belongs to the user's current epoch.</summary>
    public bool IsLive => Profile is not null && SessionEpoch == Profile.SessionEpoch;
}

public enum RegisterStatus
{
    Created,
    EmailTaken,
}

public readonly record struct RegisterOutcome(RegisterStatus Status, UserProfile? User);
