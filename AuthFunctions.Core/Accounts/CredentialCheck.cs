using AuthFunctions.Passwords;
using AuthFunctions.Users;
using AuthFunctions.Sessions;
using AuthFunctions.Throttling;

namespace AuthFunctions.Accounts;

public enum CredentialStatus
{
    Valid,
    Invalid,
    Throttled,
}

public readonly record struct CredentialResult(CredentialStatus Status, bool RehashNeeded = false, TimeSpan? RetryAfter = null, TimeSpan? LockStarted = null);

/// <summary>
/// The one password check of the app (login, password change, account deletion): reserve an attempt in
/// the throttle → verify (a dummy hash when there is no account, so both cost one bcrypt verification,
/// ASVS 6.3.8) → record the failure, or on success reset the pool. The reservation comes first, so a
/// concurrent burst can never get more checks than the pool's free attempts.
/// </summary>
public sealed class CredentialCheck(LoginThrottle throttle, PasswordHasher hasher, UserStore users)
{
    /// <summary>
    /// A signed-in caller confirming their own password (password change, account deletion): the account read now,
    /// and the check counted in the calling session's own pool, so guesses made with one session's token lock out
    /// neither the owner's logins nor other sessions. A null account means the user is gone.
    /// </summary>
    public async Task<(UserAccount? Account, CredentialResult Result)> VerifyCallerAsync(AuthenticatedUser caller, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var account = await users.GetAsync(caller.UserId, cancellationToken);
        if (account is null)
        {
            return (null, new CredentialResult(CredentialStatus.Invalid));
        }
        return (account, await VerifyCallerAsync(caller, account, password, cancellationToken));
    }

    /// <summary>As above, for an account the caller has just read.</summary>
    public Task<CredentialResult> VerifyCallerAsync(AuthenticatedUser caller, UserAccount account, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(account);
        return VerifyAsync(account.Email, LoginThrottle.SessionPool(caller.SessionId), account, password, cancellationToken);
    }

    public async Task<CredentialResult> VerifyAsync(string email, string throttlePool, UserAccount? account, string password, CancellationToken cancellationToken)
    {
        var reservation = await throttle.TryReserveAsync(email, throttlePool, cancellationToken);
        if (!reservation.Allowed)
        {
            return new CredentialResult(CredentialStatus.Throttled, RetryAfter: reservation.RetryAfter);
        }
        var check = PasswordCheck.Failed;
        if (account is null || account.PasswordHash.Length == 0)
        {
            // An account without a password (made by a federated sign-in) is refused exactly as a wrong password is:
            // the same bcrypt work, the same answer, the same throttling.
            await hasher.VerifyAgainstDummyAsync(password);
        }
        else
        {
            check = await hasher.VerifyAsync(password, account.PasswordHash, account.PasswordNormalized);
        }
        if (check == PasswordCheck.Failed)
        {
            var delay = await throttle.RecordFailureAsync(email, throttlePool, reservation.Ticket!, cancellationToken);
            return new CredentialResult(CredentialStatus.Invalid, LockStarted: delay);
        }
        await throttle.ResetAsync(email, throttlePool, cancellationToken);
        return new CredentialResult(CredentialStatus.Valid, RehashNeeded: check == PasswordCheck.SucceededRehashNeeded);
    }
}
