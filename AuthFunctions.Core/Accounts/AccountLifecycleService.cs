using AuthFunctions.Email;
using AuthFunctions.Passwords;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;
using AuthFunctions.Sessions;
using AuthFunctions.Throttling;

namespace AuthFunctions.Accounts;

public enum LinkStatus
{
    Done,
    Invalid,
    Throttled,

    /// <summary>A reset link that holds, with a new password that is refused (<see cref="LinkOutcome.Weaknesses"/>): the link stays unspent.</summary>
    WeakPassword,
}

public readonly record struct LinkOutcome(LinkStatus Status, string? UserId = null, TimeSpan? RetryAfter = null, IReadOnlyList<string>? Weaknesses = null);

public enum DeleteStatus
{
    Deleted,
    WrongPassword,
    Throttled,
    AccountGone,
}

public readonly record struct DeleteOutcome(DeleteStatus Status, TimeSpan? RetryAfter = null, TimeSpan? LockStarted = null);

/// <summary>
/// The account's life after registration: email verification, forgotten-password reset, profile edit and
/// deletion. Emails are composed and sent by <see cref="EmailOutbox"/> after the response.
/// </summary>
public sealed partial class AccountLifecycleService(
    UserStore users, LinkTokenStore links, LoginThrottle throttle, CredentialCheck credentials, PasswordHasher hasher,
    SessionService sessions, NewPasswordPolicy passwords, EmailOutbox outbox, LinkEmails emails, IOptions<EmailOptions> options, TimeProvider clock, ILogger<AccountLifecycleService> logger)
{
    /// <summary>Link redemptions are throttled per account in their own pool, as logins are (ASVS 6.3.1).</summary>
    public const string LinkThrottlePool = "throttle-link";
    private const int MaxOptimisticRetries = 4;

    /// <summary>At most one email per account and purpose in this time, whoever asks (no mail bombing of an address).</summary>
    public static readonly TimeSpan EmailCooldown = TimeSpan.FromMinutes(1);

    private TimeSpan VerifyLifetime => TimeSpan.FromHours(options.Value.VerifyLinkHours);

    private TimeSpan ResetLifetime => TimeSpan.FromMinutes(options.Value.ResetLinkMinutes);

    /// <summary>Queues a (new) verification link; it replaces any earlier one. Nothing is sent for a verified address.</summary>
    public void SendVerification(string userId) => outbox.Enqueue("email-verification", async cancellationToken =>
    {
        var account = await users.GetAsync(userId, cancellationToken);
        if (account is null || account.Profile.EmailVerified)
        {
            return null;
        }
        var now = clock.GetUtcNow();
        if (await InCooldownAsync(userId, LinkPurpose.VerifyEmail, now, cancellationToken))
        {
            return null;
        }
        var (token, hash) = LinkTokens.Create(userId);
        await links.ReplaceAsync(new LinkToken(userId, LinkPurpose.VerifyEmail, hash, now, now + VerifyLifetime, null), cancellationToken);
        return emails.Verification(account.Email, token, VerifyLifetime);
    });

    /// <summary>
    /// Queues a reset link for <paramref name="email"/> if an account has it. The request itself only queues:
    /// the same work, the same answer and the same time whether or not the account exists.
    /// </summary>
    public void ForgotPassword(string email) => outbox.Enqueue("password-reset", async cancellationToken =>
    {
        var account = await users.FindByEmailAsync(email, cancellationToken);
        if (account is null)
        {
            return null;
        }
        var now = clock.GetUtcNow();
        if (await InCooldownAsync(account.Id, LinkPurpose.ResetPassword, now, cancellationToken))
        {
            return null;
        }
        var (token, hash) = LinkTokens.Create(account.Id);
        await links.ReplaceAsync(new LinkToken(account.Id, LinkPurpose.ResetPassword, hash, now, now + ResetLifetime, LinkTokens.PasswordStamp(account.PasswordHash)), cancellationToken);
        return emails.PasswordReset(account.Email, token, ResetLifetime);
    });

    public async Task<LinkOutcome> VerifyEmailAsync(string token, CancellationToken cancellationToken)
    {
        var (outcome, account) = await RedeemAsync(token, LinkPurpose.VerifyEmail, cancellationToken);
        if (outcome.Status != LinkStatus.Done)
        {
            return outcome;
        }
        if (!await users.MarkEmailVerifiedAsync(account!.Id, cancellationToken))
        {
            return new LinkOutcome(LinkStatus.Invalid, account.Id);
        }
        return outcome;
    }

    /// <summary>
    /// Sets a new password with a reset link: the write is conditional on the account as read, and only while the
    /// password is still the one the link was issued against; every session of the account ends.
    /// </summary>
    public async Task<LinkOutcome> ResetPasswordAsync(string token, string newPassword, CancellationToken cancellationToken)
    {
        var (outcome, account) = await RedeemAsync(token, LinkPurpose.ResetPassword, cancellationToken,
            async held => await passwords.WeaknessesAsync(newPassword, held.Email, held.Profile.FullName) is { Count: > 0 } weak
                ? new LinkOutcome(LinkStatus.WeakPassword, held.Id, Weaknesses: weak) : null);
        if (outcome.Status != LinkStatus.Done)
        {
            return outcome;
        }
        string stamp = LinkTokens.PasswordStamp(account!.PasswordHash);
        string newHash = await hasher.HashAsync(newPassword);
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            if (await users.TryChangePasswordAsync(account, newHash, cancellationToken) is { } epoch)
            {
                await sessions.EndAllBeforeAsync(account.Id, epoch, keepSessionId: null, cancellationToken);
                return outcome;
            }
            // Something else wrote the user since it was read (a login's timestamp): go on only while the
            // password is still the one the link was issued against.
            var current = await users.GetAsync(account.Id, cancellationToken);
            if (current is null || LinkTokens.PasswordStamp(current.PasswordHash) != stamp)
            {
                break;
            }
            account = current;
        }
        return new LinkOutcome(LinkStatus.Invalid, account.Id);
    }

    public async Task<UserProfile?> UpdateFullNameAsync(AuthenticatedUser user, string? fullName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return await users.UpdateFullNameAsync(user.UserId, fullName, cancellationToken);
    }

    /// <summary>
    /// Deletes the account after checking its password: every session ends first (on the revocation feed, then
    /// the rows), then the profile, the email (free to register again at once) with its throttle counters, and the
    /// links. A crash midway leaves an account without sessions or only unreachable rows.
    /// </summary>
    public async Task<DeleteOutcome> DeleteAccountAsync(AuthenticatedUser user, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var (account, check) = await credentials.VerifyCallerAsync(user, password, cancellationToken);
        if (account is null)
        {
            return new DeleteOutcome(DeleteStatus.AccountGone);
        }
        if (check.Status != CredentialStatus.Valid)
        {
            return new DeleteOutcome(check.Status == CredentialStatus.Throttled ? DeleteStatus.Throttled : DeleteStatus.WrongPassword, check.RetryAfter, check.LockStarted);
        }
        // The revocation first (published on the feed, then the session rows deleted), so that a crash part-way
        // leaves at worst an account without sessions, never sessions that outlive their account anywhere.
        await sessions.EndEverySessionAsync(account.Id, cancellationToken);
        await users.DeleteProfileAsync(account.Id, cancellationToken);
        await users.ReleaseEmailAsync(account.Email, account.Id, cancellationToken);
        await links.DeleteAllAsync(account.Id, cancellationToken);
        return new DeleteOutcome(DeleteStatus.Deleted);
    }

    private async Task<bool> InCooldownAsync(string userId, LinkPurpose purpose, DateTimeOffset now, CancellationToken cancellationToken)
    {
        bool cooling = await links.GetAsync(userId, purpose, cancellationToken) is { } latest && now - latest.CreatedAt < EmailCooldown;
        if (cooling)
        {
            LogHeldBack(purpose, userId);
        }
        return cooling;
    }

    [LoggerMessage(EventId = 3006, Level = LogLevel.Information, Message = "Held back a {Purpose} email for user {UserId}: one was sent less than a minute ago.")]
    private partial void LogHeldBack(LinkPurpose purpose, string userId);

    /// <summary>
    /// Spends a link token: parse → the account → reserve an attempt in the account's link pool → compare with
    /// the stored hash (fixed time), expiry and, for resets, the password it was issued against → a delete
    /// conditional on the row read, so of concurrent uses exactly one wins. <paramref name="refuse"/> may turn a link
    /// that holds away before that delete (a reset whose new password is refused), leaving it unspent.
    /// </summary>
    private async Task<(LinkOutcome Outcome, UserAccount? Account)> RedeemAsync(string token, LinkPurpose purpose, CancellationToken cancellationToken,
        Func<UserAccount, Task<LinkOutcome?>>? refuse = null)
    {
        if (!LinkTokens.TryParse(token, out var userId) || await users.GetAsync(userId, cancellationToken) is not { } account)
        {
            return (new LinkOutcome(LinkStatus.Invalid), null);
        }
        var reservation = await throttle.TryReserveAsync(account.Email, LinkThrottlePool, cancellationToken);
        if (!reservation.Allowed)
        {
            return (new LinkOutcome(LinkStatus.Throttled, userId, reservation.RetryAfter), null);
        }
        var link = await links.GetAsync(userId, purpose, cancellationToken);
        if (link is null || !LinkTokens.HashMatches(token, link.Hash))
        {
            await throttle.RecordFailureAsync(account.Email, LinkThrottlePool, reservation.Ticket!, cancellationToken);
            return (new LinkOutcome(LinkStatus.Invalid, userId), null);
        }
        // From here the presenter held the real token: no guess to count, whatever the outcome.
        await throttle.ResetAsync(account.Email, LinkThrottlePool, cancellationToken);
        bool current = link.ExpiresAt > clock.GetUtcNow() &&
            (purpose != LinkPurpose.ResetPassword || link.PasswordStamp == LinkTokens.PasswordStamp(account.PasswordHash));
        // Refused before it is spent: the same link works again with a better password.
        if (current && refuse is not null && await refuse(account) is { } refused)
        {
            return (refused, null);
        }
        if (!await links.TryConsumeAsync(link, cancellationToken) || !current)
        {
            return (new LinkOutcome(LinkStatus.Invalid, userId), null);
        }
        return (new LinkOutcome(LinkStatus.Done, userId), account);
    }
}
