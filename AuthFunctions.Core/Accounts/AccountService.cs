using AuthFunctions.Passwords;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;
using AuthFunctions.Tokens;
using AuthFunctions.Sessions;
using AuthFunctions.Throttling;
using AuthFunctions.Mfa;

namespace AuthFunctions.Accounts;

public enum LoginStatus
{
    LoggedIn,
    InvalidCredentials,
    Throttled,

    /// <summary>The password was right, but <c>Auth__RequireVerifiedEmail</c> is on and the address is not verified.</summary>
    EmailNotVerified,

    /// <summary>The password was right and the account has an active second factor: <see cref="LoginOutcome.MfaToken"/> finishes the sign-in.</summary>
    MfaRequired,

    /// <summary>The password was right, but the code sent with it was not.</summary>
    WrongCode,
}

public sealed record LoginOutcome(LoginStatus Status, string? UserId, IssuedTokens? Tokens = null, string? DeviceToken = null, TimeSpan? RetryAfter = null, TimeSpan? LockStarted = null)
{
    public string? MfaToken { get; init; }
}

public enum PasswordChangeStatus
{
    Changed,
    WrongPassword,
    Throttled,

    /// <summary>The credential changed between our read and our write (another change won): nothing was written.</summary>
    Conflict,
    AccountGone,

    /// <summary>The new password is refused (<see cref="PasswordChangeOutcome.Weaknesses"/> says why): nothing was written.</summary>
    WeakPassword,

    /// <summary>The account has an active second factor and the session is aal1: the request must carry a code.</summary>
    StepUpRequired,
    WrongCode,
}

public sealed record PasswordChangeOutcome(PasswordChangeStatus Status, TimeSpan? RetryAfter = null, TimeSpan? LockStarted = null, IReadOnlyList<string>? Weaknesses = null);

/// <summary>Register, log in and change the password: the credential's life, over the user store, the credential check and sessions.</summary>
public sealed class AccountService(UserStore users, PasswordHasher hasher, CredentialCheck credentials, SessionService sessions, DeviceTokens devices,
    AccountLifecycleService lifecycle, NewPasswordPolicy passwords, IOptions<AuthOptions> options, MfaService mfa)
{
    /// <summary>Creates the account and queues the first verification email.</summary>
    public async Task<RegisterOutcome> RegisterAsync(string email, string password, string? fullName, CancellationToken cancellationToken)
    {
        var outcome = await users.RegisterAsync(email, await hasher.HashAsync(password), passwordNormalized: true, fullName, cancellationToken);
        if (outcome.User is { } user)
        {
            lifecycle.SendVerification(user.Id);
        }
        return outcome;
    }

    /// <summary>
    /// Unknown email and wrong password get one answer and cost one bcrypt verification each (ASVS 6.3.8).
    /// A valid device token for the account selects that device's own throttle pool. A null
    /// <paramref name="email"/> is an address no account can have: answered as an unknown one.
    /// </summary>
    public Task<LoginOutcome> LoginAsync(string? email, string password, string? deviceToken, string? userAgent, CancellationToken cancellationToken) =>
        LoginAsync(email, password, deviceToken, userAgent, rememberMe: true, cancellationToken);

    /// <summary>As above; <paramref name="rememberMe"/> false starts a session that ends 12 hours after this login.</summary>
    public Task<LoginOutcome> LoginAsync(string? email, string password, string? deviceToken, string? userAgent, bool rememberMe, CancellationToken cancellationToken) =>
        LoginAsync(email, password, deviceToken, userAgent, rememberMe, OneTimeCode.None, cancellationToken);

    /// <summary>
    /// As above; for an account with an active second factor the right password alone gets <see cref="LoginStatus.MfaRequired"/>
    /// and an <c>mfa_token</c>, unless <paramref name="code"/> finishes the sign-in in this request.
    /// </summary>
    public async Task<LoginOutcome> LoginAsync(string? email, string password, string? deviceToken, string? userAgent, bool rememberMe, OneTimeCode code, CancellationToken cancellationToken)
    {
        if (email is null)
        {
            await hasher.VerifyAgainstDummyAsync(password);
            return new LoginOutcome(LoginStatus.InvalidCredentials, null);
        }
        var account = await users.FindByEmailAsync(email, cancellationToken);
        string? deviceId = account is null ? null : devices.DeviceIdFor(deviceToken, account.Id);
        string pool = deviceId is null ? LoginThrottle.UntrustedPool : LoginThrottle.DevicePool(deviceId);
        var check = await credentials.VerifyAsync(email, pool, account, password, cancellationToken);
        if (check.Status != CredentialStatus.Valid)
        {
            return new LoginOutcome(check.Status == CredentialStatus.Throttled ? LoginStatus.Throttled : LoginStatus.InvalidCredentials,
                account?.Id, RetryAfter: check.RetryAfter, LockStarted: check.LockStarted);
        }
        // Told only to someone who proved the password: the verification state is never revealed otherwise.
        if (options.Value.RequireVerifiedEmail && !account!.Profile.EmailVerified)
        {
            return new LoginOutcome(LoginStatus.EmailNotVerified, account.Id);
        }
        if (check.RehashNeeded)
        {
            await users.UpgradeHashAsync(account!, await hasher.HashAsync(password), cancellationToken);
        }
        var second = await mfa.BeginSecondStepAsync(account!, SessionAssurance.Password, code, rememberMe, cancellationToken);
        switch (second.Status)
        {
            case SecondStepStatus.CodeRequired:
                return new LoginOutcome(LoginStatus.MfaRequired, account!.Id) { MfaToken = second.MfaToken };
            case SecondStepStatus.WrongCode:
                return new LoginOutcome(LoginStatus.WrongCode, account!.Id);
            case SecondStepStatus.Throttled:
                return new LoginOutcome(LoginStatus.Throttled, account!.Id, RetryAfter: second.RetryAfter);
        }
        // Null when the account was deleted since it was read: no session outlives it, and the answer is an unknown account's.
        if (await sessions.StartAsync(account!.Profile, userAgent, rememberMe, second.Assurance ?? SessionAssurance.Password, cancellationToken) is not { } issued)
        {
            return new LoginOutcome(LoginStatus.InvalidCredentials, account.Id);
        }
        return new LoginOutcome(LoginStatus.LoggedIn, account.Id, issued, deviceId is null ? devices.Issue(account.Id) : deviceToken);
    }

    /// <summary>
    /// Checks the current password (throttled in this session's own pool), then writes the new hash and
    /// ends every other session in one write conditional on the credential read: of concurrent changes exactly one wins,
    /// and a login or profile edit landing meanwhile does not make it fail.
    /// </summary>
    public Task<PasswordChangeOutcome> ChangePasswordAsync(AuthenticatedUser user, string currentPassword, string newPassword, CancellationToken cancellationToken) =>
        ChangePasswordAsync(user, currentPassword, newPassword, OneTimeCode.None, cancellationToken);

    /// <summary>As above; with an active second factor an aal1 session must also send <paramref name="code"/> (step-up).</summary>
    public async Task<PasswordChangeOutcome> ChangePasswordAsync(AuthenticatedUser user, string currentPassword, string newPassword, OneTimeCode code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var (account, check) = await credentials.VerifyCallerAsync(user, currentPassword, cancellationToken);
        if (account is null)
        {
            return new PasswordChangeOutcome(PasswordChangeStatus.AccountGone);
        }
        if (check.Status != CredentialStatus.Valid)
        {
            return new PasswordChangeOutcome(check.Status == CredentialStatus.Throttled ? PasswordChangeStatus.Throttled : PasswordChangeStatus.WrongPassword,
                check.RetryAfter, check.LockStarted);
        }
        if (await passwords.WeaknessesAsync(newPassword, account.Email, account.Profile.FullName) is { Count: > 0 } weak)
        {
            return new PasswordChangeOutcome(PasswordChangeStatus.WeakPassword, Weaknesses: weak);
        }
        var stepUp = await mfa.StepUpAsync(user, code, cancellationToken);
        if (!stepUp.Allowed)
        {
            return new PasswordChangeOutcome(stepUp.Refusal(PasswordChangeStatus.StepUpRequired, PasswordChangeStatus.Throttled, PasswordChangeStatus.WrongCode), stepUp.RetryAfter);
        }
        if (await users.TryChangePasswordAsync(account, await hasher.HashAsync(newPassword), cancellationToken) is not { } epoch)
        {
            return new PasswordChangeOutcome(PasswordChangeStatus.Conflict);
        }
        await sessions.EndAllBeforeAsync(user.UserId, epoch, keepSessionId: user.SessionId, cancellationToken);
        return new PasswordChangeOutcome(PasswordChangeStatus.Changed);
    }

    /// <summary>
    /// Removes the authenticator factor and the recovery codes: the password (throttled in this session's pool) and, unless
    /// the session is aal2, a code in the same request; every other session ends.
    /// </summary>
    public async Task<FactorRemovalOutcome> RemoveSecondFactorAsync(AuthenticatedUser user, string password, OneTimeCode code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var (account, check) = await credentials.VerifyCallerAsync(user, password, cancellationToken);
        if (account is null)
        {
            return new FactorRemovalOutcome(FactorRemovalStatus.AccountGone);
        }
        if (check.Status != CredentialStatus.Valid)
        {
            return new FactorRemovalOutcome(check.Status == CredentialStatus.Throttled ? FactorRemovalStatus.Throttled : FactorRemovalStatus.WrongPassword, check.RetryAfter);
        }
        var stepUp = await mfa.StepUpAsync(user, code, cancellationToken);
        if (!stepUp.Allowed)
        {
            return new FactorRemovalOutcome(stepUp.Refusal(FactorRemovalStatus.StepUpRequired, FactorRemovalStatus.Throttled, FactorRemovalStatus.WrongCode), stepUp.RetryAfter);
        }
        return new FactorRemovalOutcome(await mfa.RemoveFactorAsync(user, cancellationToken) ? FactorRemovalStatus.Removed : FactorRemovalStatus.NoFactor);
    }
}

public enum FactorRemovalStatus
{
    Removed,
    NoFactor,
    WrongPassword,
    StepUpRequired,
    WrongCode,
    Throttled,
    AccountGone,
}

public readonly record struct FactorRemovalOutcome(FactorRemovalStatus Status, TimeSpan? RetryAfter = null);
