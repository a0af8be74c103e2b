using AuthFunctions.Email;
using AuthFunctions.Passwords;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;
using AuthFunctions.Sessions;
using AuthFunctions.Throttling;
using AuthFunctions.Storage;
using AuthFunctions.Mfa;
using AuthFunctions.Passkeys;

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

    /// <summary>The account has an active second factor and the session is aal1: the request must carry a code.</summary>
    StepUpRequired,
    WrongCode,

    /// <summary>The account has a password and the request sent none.</summary>
    PasswordRequired,

    /// <summary>
    /// The account has no password (federated sign-in only) and the session has not authenticated afresh at a linked
    /// provider within <see cref="SessionService.ReauthenticationWindow"/>.
    /// </summary>
    ReauthenticationRequired,
}

public readonly record struct DeleteOutcome(DeleteStatus Status, TimeSpan? RetryAfter = null, TimeSpan? LockStarted = null);

/// <summary>
/// The account's life after registration: email verification, forgotten-password reset, profile edit and
/// deletion. Emails are composed and sent by <see cref="EmailOutbox"/> after the response.
/// </summary>
public sealed partial class AccountLifecycleService(
    UserStore users, LinkTokenStore links, IdentityStore identities, LoginThrottle throttle, CredentialCheck credentials, PasswordHasher hasher,
    SessionService sessions, NewPasswordPolicy passwords, EmailOutbox outbox, LinkEmails emails, IOptions<EmailOptions> options, TimeProvider clock, ILogger<AccountLifecycleService> logger,
    MfaService mfa,
    PasskeyStore passkeys)
{
    /// <summary>
    /// Failed link redemptions are throttled per client and account (ASVS 6.3.1), in the account's throttle partition:
    /// never in a pool the owner shares with everyone who knows the user id a link carries.
    /// </summary>
    public static string LinkClientPool(string clientKey) => "throttle-link-client-" + TableKey.Encode(clientKey);

    private const int MaxOptimisticRetries = 4;

    /// <summary>At most one email per account and purpose in this time, whoever asks (no mail bombing of an address).</summary>
    public static readonly TimeSpan EmailCooldown = TimeSpan.FromMinutes(1);

    private TimeSpan VerifyLifetime => TimeSpan.FromHours(options.Value.VerifyLinkHours);

    private TimeSpan ResetLifetime => TimeSpan.FromMinutes(options.Value.ResetLinkMinutes);

    /// <summary>Queues a (new) verification link; it replaces any earlier one. Nothing is sent for a verified address.</summary>
    public void SendVerification(string userId) => outbox.Enqueue("email-verification", cancellationToken =>
        IssueLinkAsync(LinkPurpose.VerifyEmail, token => users.GetAsync(userId, token), cancellationToken));

    /// <summary>
    /// Queues a reset link for <paramref name="email"/> if an account has it. The request itself only queues:
    /// the same work, the same answer and the same time whether or not the account exists.
    /// </summary>
    public void ForgotPassword(string email) => outbox.Enqueue("password-reset", cancellationToken =>
        IssueLinkAsync(LinkPurpose.ResetPassword, token => users.FindByEmailAsync(email, token), cancellationToken));

    /// <summary>
    /// Issues a link and composes its email, unless one of this purpose went out to the account within
    /// <see cref="EmailCooldown"/>. The minute's slot is claimed in the same transaction that stores the link, conditional
    /// on the account as read: of concurrent requests on any number of instances exactly one issues a link and sends it
    /// (the others read the account again and find the slot taken), and within the minute the link sent stays the live one.
    /// </summary>
    private async Task<EmailMessage?> IssueLinkAsync(LinkPurpose purpose, Func<CancellationToken, Task<UserAccount?>> read, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 2 * MaxOptimisticRetries; attempt++)
        {
            var account = await read(cancellationToken);
            if (account is null || (purpose == LinkPurpose.VerifyEmail && account.Profile.EmailVerified))
            {
                return null;
            }
            var now = clock.GetUtcNow();
            if (account.LinksSentAt.TryGetValue(purpose, out var sent) && now - sent < EmailCooldown)
            {
                LogHeldBack(purpose, account.Id);
                return null;
            }
            bool reset = purpose == LinkPurpose.ResetPassword;
            var lifetime = reset ? ResetLifetime : VerifyLifetime;
            var (token, hash) = LinkTokens.Create(account.Id);
            var link = new LinkToken(account.Id, purpose, hash, now, now + lifetime, reset ? LinkTokens.PasswordStamp(account.PasswordHash) : null);
            switch (await links.TryIssueAsync(account, link, cancellationToken))
            {
                case LinkIssue.Issued:
                    return reset ? emails.PasswordReset(account.Email, token, lifetime) : emails.Verification(account.Email, token, lifetime);
                case LinkIssue.AccountGone:
                    return null;
            }
        }
        LogAccountBusy(purpose);
        return null;
    }

    /// <summary>Verifies the address with a link; <paramref name="clientKey"/> is the presenting client, whose failures are counted.</summary>
    public async Task<LinkOutcome> VerifyEmailAsync(string token, string clientKey, CancellationToken cancellationToken)
    {
        var (outcome, account) = await RedeemAsync(token, LinkPurpose.VerifyEmail, clientKey, cancellationToken);
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
    public async Task<LinkOutcome> ResetPasswordAsync(string token, string newPassword, string clientKey, CancellationToken cancellationToken)
    {
        var (outcome, account) = await RedeemAsync(token, LinkPurpose.ResetPassword, clientKey, cancellationToken,
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
            // The store already wrote again past bookkeeping; here a logout of every session moved the epoch
            // meanwhile (harmless: every session ends anyway): go on only while the password is the link's.
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
    /// Deletes the account after checking its password (an account without one: a fresh authentication of this session at
    /// a linked provider, <see cref="SessionService.IsFreshlyReauthenticatedAsync"/>): every session ends first (on the revocation feed, then the
    /// rows), then the profile, after which nothing can be written into the account's partition (sessions and links are
    /// written with a write of the profile), then every row left in the partition (what logins or email jobs racing the
    /// deletion wrote before the profile went), then the email (free to register again at once) with its throttle
    /// counters. A crash midway leaves an account without sessions, or rows without a profile that <c>cleanup</c> deletes.
    /// </summary>
    public Task<DeleteOutcome> DeleteAccountAsync(AuthenticatedUser user, string? password, CancellationToken cancellationToken) =>
        DeleteAccountAsync(user, password, OneTimeCode.None, cancellationToken);

    /// <summary>As above; with an active second factor an aal1 session must also send <paramref name="code"/> (step-up).</summary>
    public async Task<DeleteOutcome> DeleteAccountAsync(AuthenticatedUser user, string? password, OneTimeCode code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (await users.GetAsync(user.UserId, cancellationToken) is not { } account)
        {
            return new DeleteOutcome(DeleteStatus.AccountGone);
        }
        if (await ProveOwnerAsync(user, account, password, cancellationToken) is { } refused)
        {
            return refused;
        }
        var stepUp = await mfa.StepUpAsync(user, code, cancellationToken);
        if (!stepUp.Allowed)
        {
            return new DeleteOutcome(stepUp.Refusal(DeleteStatus.StepUpRequired, DeleteStatus.Throttled, DeleteStatus.WrongCode), stepUp.RetryAfter);
        }
        // The revocation first (published on the feed, then the session rows deleted), so that a crash part-way
        // leaves at worst an account without sessions, never sessions that outlive their account anywhere.
        await sessions.EndEverySessionAsync(account.Id, cancellationToken);
        // The passkeys' credential ids are freed while their rows still say which they are; the rows go with the partition.
        await passkeys.ReleaseAllAsync(account.Id, cancellationToken);
        var linked = await identities.ListAsync(account.Id, cancellationToken);
        await users.DeleteAccountRowsAsync(account.Id, cancellationToken);
        // The identities' claims go after the account's rows: one left by a crash names a user that is gone, and the next
        // sign-in with that identity takes it over.
        foreach (var identity in linked)
        {
            await identities.ReleaseAsync(identity.Provider, identity.Subject, account.Id, cancellationToken);
        }
        await users.ReleaseEmailAsync(account.Email, account.Id, cancellationToken);
        return new DeleteOutcome(DeleteStatus.Deleted);
    }

    /// <summary>The password, throttled in the session's own pool; for an account without one, the session's fresh authentication at a linked provider. Null: proven.</summary>
    private async Task<DeleteOutcome?> ProveOwnerAsync(AuthenticatedUser user, UserAccount account, string? password, CancellationToken cancellationToken)
    {
        if (account.PasswordHash.Length == 0)
        {
            return await sessions.IsFreshlyReauthenticatedAsync(user, cancellationToken) ? null : new DeleteOutcome(DeleteStatus.ReauthenticationRequired);
        }
        if (string.IsNullOrEmpty(password))
        {
            return new DeleteOutcome(DeleteStatus.PasswordRequired);
        }
        var check = await credentials.VerifyCallerAsync(user, account, password, cancellationToken);
        return check.Status switch
        {
            CredentialStatus.Valid => null,
            CredentialStatus.Throttled => new DeleteOutcome(DeleteStatus.Throttled, check.RetryAfter, check.LockStarted),
            _ => new DeleteOutcome(DeleteStatus.WrongPassword, check.RetryAfter, check.LockStarted),
        };
    }

    [LoggerMessage(EventId = 3006, Level = LogLevel.Information, Message = "Held back a {Purpose} email for user {UserId}: one was sent less than a minute ago.")]
    private partial void LogHeldBack(LinkPurpose purpose, string userId);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Gave up a {Purpose} email: the account kept changing while its link was issued; the user can ask again.")]
    private partial void LogAccountBusy(LinkPurpose purpose);

    /// <summary>
    /// Spends a link token: parse → the account → compare with the stored hash (fixed time) → expiry and, for resets,
    /// the password it was issued against → a delete conditional on the row read, so of concurrent uses exactly one wins.
    /// A token that matches the stored hash is a 256-bit secret the presenter holds: it is never throttled. Any other
    /// token of an existing account counts as a failure in the presenting client's own pool for that account, checked
    /// first, so a client past its free attempts gets <see cref="LinkStatus.Throttled"/> for every invalid link.
    /// <paramref name="refuse"/> may turn a link that holds away before that delete (a reset whose new password is
    /// refused), leaving it unspent.
    /// </summary>
    private async Task<(LinkOutcome Outcome, UserAccount? Account)> RedeemAsync(string token, LinkPurpose purpose, string clientKey, CancellationToken cancellationToken,
        Func<UserAccount, Task<LinkOutcome?>>? refuse = null)
    {
        if (!LinkTokens.TryParse(token, out var userId) || await users.GetAsync(userId, cancellationToken) is not { } account)
        {
            return (new LinkOutcome(LinkStatus.Invalid), null);
        }
        var link = await links.GetAsync(userId, purpose, cancellationToken);
        if (link is null || !LinkTokens.HashMatches(token, link.Hash))
        {
            string pool = LinkClientPool(clientKey);
            var reservation = await throttle.TryReserveAsync(account.Email, pool, cancellationToken);
            if (!reservation.Allowed)
            {
                return (new LinkOutcome(LinkStatus.Throttled, userId, reservation.RetryAfter), null);
            }
            await throttle.RecordFailureAsync(account.Email, pool, reservation.Ticket!, cancellationToken);
            return (new LinkOutcome(LinkStatus.Invalid, userId), null);
        }
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
