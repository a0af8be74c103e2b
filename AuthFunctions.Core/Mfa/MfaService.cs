using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Sessions;
using AuthFunctions.Throttling;
using AuthFunctions.Tokens;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Mfa;

public enum CodeStatus
{
    Valid,
    Wrong,
    Throttled,
}

/// <summary>A checked code: valid (with the RFC 8176 method it proves: <c>otp</c> or <c>mfa</c> for a recovery code), wrong, or not checked (throttled).</summary>
public readonly record struct CodeCheck(CodeStatus Status, string? Method = null, TimeSpan? RetryAfter = null);

public enum SecondStepStatus
{
    /// <summary>The account has no active factor: the first factor is the whole sign-in.</summary>
    NoFactor,

    /// <summary>A factor is active and no code came: <see cref="SecondStepOutcome.MfaToken"/> finishes the sign-in at <c>login-mfa</c>.</summary>
    CodeRequired,

    /// <summary>The code sent with the first factor was right: sign in at <see cref="SecondStepOutcome.Assurance"/>.</summary>
    Passed,
    WrongCode,
    Throttled,
}

public readonly record struct SecondStepOutcome(SecondStepStatus Status, string? MfaToken = null, SessionAssurance? Assurance = null, TimeSpan? RetryAfter = null);

public enum FinishStatus
{
    SignedIn,

    /// <summary>Unknown, expired, spent or killed token, or the credential changed since: sign in again.</summary>
    InvalidToken,
    WrongCode,
    Throttled,
}

public readonly record struct FinishOutcome(FinishStatus Status, string? UserId = null, IssuedTokens? Tokens = null, TimeSpan? RetryAfter = null);

public enum StepUpStatus
{
    /// <summary>The session is at aal2 or the account has no active factor: nothing more to prove.</summary>
    NotNeeded,
    Passed,

    /// <summary>A factor is active, the session is aal1 and no code came.</summary>
    CodeRequired,
    WrongCode,
    Throttled,
}

public readonly record struct StepUpOutcome(StepUpStatus Status, TimeSpan? RetryAfter = null)
{
    public bool Allowed => Status is StepUpStatus.NotNeeded or StepUpStatus.Passed;

    /// <summary>A refusal in the caller's own statuses (one mapping for every change that asks for a step-up).</summary>
    public TStatus Refusal<TStatus>(TStatus codeRequired, TStatus throttled, TStatus wrongCode) => Status switch
    {
        StepUpStatus.CodeRequired => codeRequired,
        StepUpStatus.Throttled => throttled,
        _ => wrongCode,
    };
}

public enum EnrolmentStatus
{
    Started,
    AlreadyActive,
    AccountGone,
}

public readonly record struct EnrolmentOutcome(EnrolmentStatus Status, EnrolmentMaterial? Material = null);

public enum CodesStatus
{
    Issued,

    /// <summary>No factor in the state the operation needs (nothing pending to confirm, nothing active to renew codes for).</summary>
    NoFactor,
    CodeRequired,
    WrongCode,
    Throttled,

    /// <summary>Another request changed the factor at the same time; nothing was written.</summary>
    Conflict,
    AccountGone,
}

public readonly record struct CodesOutcome(CodesStatus Status, IReadOnlyList<string>? RecoveryCodes = null, TimeSpan? RetryAfter = null);

/// <summary>What <c>/api/me</c> shows of the second factor.</summary>
public readonly record struct MfaStatus(bool Totp, int RecoveryCodesLeft);

/// <summary>
/// The second factor: enrolment of an authenticator app (TOTP), its confirmation with recovery codes, code checks
/// (throttled per account in their own pool, each time step accepted once), the second step of a sign-in (reusable by
/// any first factor: it takes the account and the first factor's assurance), and step-up for sensitive changes.
/// </summary>
public sealed partial class MfaService(
    MfaStore store, SecretProtector protector, LoginThrottle throttle, UserStore users, SessionService sessions, IOptions<MfaOptions> options,
    TimeProvider clock, ILogger<MfaService> logger)
{
    /// <summary>Every code check of an account (sign-in, step-up, confirmation) shares this throttle pool, apart from the password's.</summary>
    public const string CodePool = "throttle-mfa";

    /// <summary>How long an <c>mfa_token</c> lives.</summary>
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(5);

    /// <summary>Failed codes an <c>mfa_token</c> survives: the next failure kills it.</summary>
    public const int MaxChallengeFailures = 5;

    /// <summary>How long an unconfirmed enrolment lasts before the cleanup timer deletes it.</summary>
    public static readonly TimeSpan PendingLifetime = TimeSpan.FromMinutes(15);

    private const int MaxOptimisticRetries = 8;

    public async Task<MfaStatus> GetStatusAsync(string userId, CancellationToken cancellationToken)
    {
        var factor = await store.GetTotpAsync(userId, cancellationToken);
        if (factor is not { Active: true })
        {
            return new MfaStatus(false, 0);
        }
        return new MfaStatus(true, (await store.GetRecoveryCodesAsync(userId, cancellationToken))?.Hashes.Count ?? 0);
    }

    /// <summary>Starts (or restarts) enrolment: a new secret, pending until <see cref="ConfirmAsync"/>. Sessions are untouched.</summary>
    public async Task<EnrolmentOutcome> StartEnrolmentAsync(AuthenticatedUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            var existing = await store.GetTotpAsync(user.UserId, cancellationToken);
            if (existing is { Active: true })
            {
                return new EnrolmentOutcome(EnrolmentStatus.AlreadyActive);
            }
            byte[] secret = Authenticator.NewSecret();
            var now = clock.GetUtcNow();
            var pending = new TotpFactor(user.UserId, protector.Protect(user.UserId, secret), false, now, now + PendingLifetime, -1);
            switch (await store.TryWritePendingAsync(pending, existing, cancellationToken))
            {
                case FactorWrite.Done:
                    var material = Authenticator.Enrolment(secret, options.Value.Issuer, user.Email);
                    CryptographicOperations.ZeroMemory(secret);
                    return new EnrolmentOutcome(EnrolmentStatus.Started, material);
                case FactorWrite.AccountGone:
                    return new EnrolmentOutcome(EnrolmentStatus.AccountGone);
            }
        }
        throw new Storage.TableStorageException(412, "UpdateConditionNotSatisfied", "The enrolment kept changing.");
    }

    /// <summary>Confirms the pending factor with its first code: active from now, with a new set of recovery codes (returned once).</summary>
    public async Task<CodesOutcome> ConfirmAsync(AuthenticatedUser user, string code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var pending = await store.GetTotpAsync(user.UserId, cancellationToken);
        if (pending is not { Active: false } || pending.ExpiresAt <= clock.GetUtcNow())
        {
            return new CodesOutcome(CodesStatus.NoFactor);
        }
        long matched = -1;
        var check = await CheckThrottledAsync(user.Email, () =>
        {
            matched = VerifyTotp(pending, code, out _) ?? -1;
            return Task.FromResult<string?>(matched >= 0 ? "otp" : null);
        }, cancellationToken);
        if (check.Status != CodeStatus.Valid)
        {
            return new CodesOutcome(check.Status == CodeStatus.Throttled ? CodesStatus.Throttled : CodesStatus.WrongCode, RetryAfter: check.RetryAfter);
        }
        var (codes, salt, hashes) = RecoveryCodes.NewSet();
        var active = pending with { Active = true, ExpiresAt = null, LastStep = matched };
        return await store.TryActivateAsync(active, pending.Version, new RecoveryCodeSet(user.UserId, salt, hashes), cancellationToken) switch
        {
            FactorWrite.Done => new CodesOutcome(CodesStatus.Issued, codes),
            FactorWrite.AccountGone => new CodesOutcome(CodesStatus.AccountGone),
            _ => new CodesOutcome(CodesStatus.Conflict),
        };
    }

    /// <summary>A new set of recovery codes (the old set dies), after step-up: an aal2 session or a code in the request.</summary>
    public async Task<CodesOutcome> RenewRecoveryCodesAsync(AuthenticatedUser user, OneTimeCode code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (await store.GetTotpAsync(user.UserId, cancellationToken) is not { Active: true })
        {
            return new CodesOutcome(CodesStatus.NoFactor);
        }
        var stepUp = await StepUpAsync(user, code, cancellationToken);
        if (!stepUp.Allowed)
        {
            return new CodesOutcome(stepUp.Status switch
            {
                StepUpStatus.CodeRequired => CodesStatus.CodeRequired,
                StepUpStatus.Throttled => CodesStatus.Throttled,
                _ => CodesStatus.WrongCode,
            }, RetryAfter: stepUp.RetryAfter);
        }
        var current = await store.GetRecoveryCodesAsync(user.UserId, cancellationToken);
        var (codes, salt, hashes) = RecoveryCodes.NewSet();
        var renewed = new RecoveryCodeSet(user.UserId, salt, hashes);
        // Conditional on the set as read: a code spent or a set renewed meanwhile makes this one the loser.
        bool written = current is not null && await store.TryReplaceRecoveryCodesAsync(renewed, current.Version, cancellationToken);
        return written ? new CodesOutcome(CodesStatus.Issued, codes) : new CodesOutcome(CodesStatus.Conflict);
    }

    /// <summary>
    /// Removes the factor and its recovery codes and ends every other session of the user (as a password change does).
    /// The caller has checked the password and <see cref="StepUpAsync"/>. False when there was no factor.
    /// </summary>
    public async Task<bool> RemoveFactorAsync(AuthenticatedUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (await store.GetTotpAsync(user.UserId, cancellationToken) is not { } factor)
        {
            return false;
        }
        await store.DeleteFactorAsync(user.UserId, cancellationToken);
        if (factor.Active)
        {
            await sessions.EndAsync(user, LogoutScope.Others, cancellationToken);
        }
        return true;
    }

    /// <summary>
    /// Step-up for a sensitive change (ASVS 5.0 V6.x, NIST SP 800-63B §4.2.3 re-authentication at AAL2): passes when the
    /// account has no active factor or the session is multi-factor; otherwise the request must carry a valid code.
    /// </summary>
    public async Task<StepUpOutcome> StepUpAsync(AuthenticatedUser user, OneTimeCode code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Assurance.IsMultiFactor || await store.GetTotpAsync(user.UserId, cancellationToken) is not { Active: true })
        {
            return new StepUpOutcome(StepUpStatus.NotNeeded);
        }
        if (!code.IsPresent)
        {
            return new StepUpOutcome(StepUpStatus.CodeRequired);
        }
        var check = await CheckFactorAsync(user.UserId, user.Email, code, cancellationToken);
        return check.Status switch
        {
            CodeStatus.Valid => new StepUpOutcome(StepUpStatus.Passed),
            CodeStatus.Throttled => new StepUpOutcome(StepUpStatus.Throttled, check.RetryAfter),
            _ => new StepUpOutcome(StepUpStatus.WrongCode),
        };
    }

    /// <summary>
    /// The second step of any sign-in, after its first factor (<paramref name="firstFactor"/>: a password's <c>["pwd"]</c>,
    /// a federated sign-in's <c>["fed"]</c>) succeeded for <paramref name="account"/>: nothing when no factor is active;
    /// with <paramref name="code"/>, its check; without, an <c>mfa_token</c> (5 minutes, single use, bound to the account
    /// and to its credential as checked now) for <see cref="FinishAsync"/>.
    /// </summary>
    public async Task<SecondStepOutcome> BeginSecondStepAsync(UserAccount account, SessionAssurance firstFactor, OneTimeCode code, bool rememberMe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(firstFactor);
        if (await store.GetTotpAsync(account.Id, cancellationToken) is not { Active: true })
        {
            return new SecondStepOutcome(SecondStepStatus.NoFactor);
        }
        if (code.IsPresent)
        {
            var check = await CheckFactorAsync(account.Id, account.Email, code, cancellationToken);
            return check.Status switch
            {
                CodeStatus.Valid => new SecondStepOutcome(SecondStepStatus.Passed, Assurance: WithSecondFactor(firstFactor, check.Method!)),
                CodeStatus.Throttled => new SecondStepOutcome(SecondStepStatus.Throttled, RetryAfter: check.RetryAfter),
                _ => new SecondStepOutcome(SecondStepStatus.WrongCode),
            };
        }
        string token = $"{account.Id}.{System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32))}";
        var challenge = new MfaChallenge(account.Id, HashToken(token), firstFactor, CredentialStamp(account), rememberMe, clock.GetUtcNow() + ChallengeLifetime, 0);
        if (!await store.TryInsertChallengeAsync(challenge, cancellationToken))
        {
            throw new Storage.TableStorageException(409, "EntityAlreadyExists", "A 256-bit token collided.");
        }
        return new SecondStepOutcome(SecondStepStatus.CodeRequired, token);
    }

    /// <summary>
    /// Finishes a sign-in with its <c>mfa_token</c> and a code: the session starts with the first factor's methods plus
    /// <c>otp</c> (or <c>mfa</c> for a recovery code), at aal2. The token is spent by a conditional delete (of concurrent
    /// uses one wins) and dies after <see cref="MaxChallengeFailures"/> wrong codes.
    /// </summary>
    public async Task<FinishOutcome> FinishAsync(string mfaToken, OneTimeCode code, string? userAgent, CancellationToken cancellationToken)
    {
        if (!TryParseToken(mfaToken, out var userId) || await store.GetChallengeAsync(userId, HashToken(mfaToken), cancellationToken) is not { } challenge ||
            challenge.ExpiresAt <= clock.GetUtcNow())
        {
            return new FinishOutcome(FinishStatus.InvalidToken);
        }
        var account = await users.GetAsync(userId, cancellationToken);
        if (account is null || !FixedTimeEquals(CredentialStamp(account), challenge.CredentialStamp))
        {
            await store.TryDeleteChallengeAsync(challenge, cancellationToken);
            return new FinishOutcome(FinishStatus.InvalidToken, userId);
        }
        var check = await CheckFactorAsync(userId, account.Email, code, cancellationToken);
        if (check.Status == CodeStatus.Throttled)
        {
            return new FinishOutcome(FinishStatus.Throttled, userId, RetryAfter: check.RetryAfter);
        }
        if (check.Status == CodeStatus.Wrong)
        {
            await CountFailureAsync(challenge, cancellationToken);
            return new FinishOutcome(FinishStatus.WrongCode, userId);
        }
        if (!await store.TryDeleteChallengeAsync(challenge, cancellationToken) ||
            await sessions.StartAsync(account.Profile, userAgent, challenge.RememberMe, WithSecondFactor(challenge.FirstFactor, check.Method!), cancellationToken) is not { } issued)
        {
            return new FinishOutcome(FinishStatus.InvalidToken, userId);
        }
        return new FinishOutcome(FinishStatus.SignedIn, userId, issued);
    }

    private async Task CountFailureAsync(MfaChallenge challenge, CancellationToken cancellationToken)
    {
        var current = challenge;
        for (int attempt = 0; attempt < MaxOptimisticRetries && current is not null; attempt++)
        {
            bool done = current.Failures + 1 >= MaxChallengeFailures
                ? await store.TryDeleteChallengeAsync(current, cancellationToken)
                : await store.TryCountFailureAsync(current, cancellationToken);
            if (done)
            {
                return;
            }
            current = await store.GetChallengeAsync(challenge.UserId, challenge.TokenHash, cancellationToken);
        }
    }

    private static SessionAssurance WithSecondFactor(SessionAssurance firstFactor, string method) =>
        new([.. firstFactor.Methods.Where(m => m != method), method], SessionAssurance.MultiFactor);

    /// <summary>Checks a TOTP or recovery code of the account's active factor, in the account's code throttle pool.</summary>
    private async Task<CodeCheck> CheckFactorAsync(string userId, string email, OneTimeCode code, CancellationToken cancellationToken) =>
        await CheckThrottledAsync(email, async () =>
        {
            if (code.TotpCode is { } totp)
            {
                return await UseTotpAsync(userId, totp, cancellationToken) ? "otp" : null;
            }
            return code.RecoveryCode is { } recovery && await UseRecoveryCodeAsync(userId, recovery, cancellationToken) ? "mfa" : null;
        }, cancellationToken);

    /// <summary>Reserve → check → record the failure or reset the pool: the password's sequence (<see cref="LoginThrottle"/>), in the code pool.</summary>
    private async Task<CodeCheck> CheckThrottledAsync(string email, Func<Task<string?>> check, CancellationToken cancellationToken)
    {
        var reservation = await throttle.TryReserveAsync(email, CodePool, cancellationToken);
        if (!reservation.Allowed)
        {
            return new CodeCheck(CodeStatus.Throttled, RetryAfter: reservation.RetryAfter);
        }
        if (await check() is not { } method)
        {
            await throttle.RecordFailureAsync(email, CodePool, reservation.Ticket!, cancellationToken);
            return new CodeCheck(CodeStatus.Wrong);
        }
        await throttle.ResetAsync(email, CodePool, cancellationToken);
        return new CodeCheck(CodeStatus.Valid, method);
    }

    /// <summary>
    /// A TOTP code of the active factor: right for a step within the window and later than the last step accepted, and that
    /// step recorded by a write conditional on the factor as read (RFC 6238 §5.2: each step is accepted once). Of two
    /// requests with one code, on any instances, one writes; the other reads again and finds the step spent.
    /// </summary>
    private async Task<bool> UseTotpAsync(string userId, string code, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            var factor = await store.GetTotpAsync(userId, cancellationToken);
            if (factor is not { Active: true } || VerifyTotp(factor, code, out bool replayed) is not { } step)
            {
                return false;
            }
            if (replayed)
            {
                LogReplay(userId);
                return false;
            }
            if (await store.TryRecordStepAsync(factor, step, cancellationToken))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The step <paramref name="code"/> matches (null: none, or the secret does not open: logged); <paramref name="replayed"/> when that step was already used.</summary>
    private long? VerifyTotp(TotpFactor factor, string code, out bool replayed)
    {
        replayed = false;
        byte[]? secret = protector.TryUnprotect(factor.UserId, factor.SealedSecret, out var problem);
        if (secret is null)
        {
            LogUnreadableSecret(factor.UserId, problem!);
            return null;
        }
        try
        {
            if (!Authenticator.Verify(secret, code, clock.GetUtcNow(), out long step))
            {
                return null;
            }
            replayed = step <= factor.LastStep;
            return step;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Spends a recovery code: removes its hash by a write conditional on the set as read, so of concurrent uses of one code one wins.</summary>
    private async Task<bool> UseRecoveryCodeAsync(string userId, string normalizedCode, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            var set = await store.GetRecoveryCodesAsync(userId, cancellationToken);
            if (set is null || RecoveryCodes.Find(set.Salt, set.Hashes, normalizedCode) is not (>= 0 and var index))
            {
                return false;
            }
            var spent = set with { Hashes = [.. set.Hashes.Where((_, i) => i != index)] };
            if (await store.TryReplaceRecoveryCodesAsync(spent, set.Version, cancellationToken))
            {
                LogRecoveryCodeUsed(userId, spent.Hashes.Count);
                return true;
            }
        }
        return false;
    }

    /// <summary>A fingerprint of the credential a sign-in checked: a password change or reset, or a logout everywhere, kills its <c>mfa_token</c>.</summary>
    private static string CredentialStamp(UserAccount account) =>
        System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes($"mfa-stamp\n{account.PasswordHash}\n{account.Profile.SessionEpoch}")));

    private static string HashToken(string token) => System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static bool TryParseToken(string? token, out string userId)
    {
        userId = "";
        if (token is not { Length: 32 + 1 + 43 } || token[32] != '.' || !TokenService.IsId(token[..32]) ||
            !token[33..].All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return false;
        }
        userId = token[..32];
        return true;
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    [LoggerMessage(Level = LogLevel.Warning, EventName = "TotpReplay", Message = "Refused a TOTP code of user {UserId}: its time step was already used.")]
    private partial void LogReplay(string userId);

    [LoggerMessage(Level = LogLevel.Error, EventName = "TotpSecretUnreadable", Message = "The TOTP secret of user {UserId} cannot be opened ({Reason}); the code check failed. Check Mfa__EncryptionKeys.")]
    private partial void LogUnreadableSecret(string userId, string reason);

    [LoggerMessage(Level = LogLevel.Information, EventName = "RecoveryCodeUsed", Message = "User {UserId} used a recovery code; {Left} left.")]
    private partial void LogRecoveryCodeUsed(string userId, int left);
}
