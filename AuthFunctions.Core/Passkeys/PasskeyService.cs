using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Sessions;
using AuthFunctions.Storage;
using AuthFunctions.Tokens;
using AuthFunctions.Users;
using Fido2NetLib;
using Fido2NetLib.Exceptions;
using Fido2NetLib.Objects;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Passkeys;

public enum PasskeyRegistrationStatus
{
    Registered,

    /// <summary>No live registration challenge matches, or the library refused the attestation: nothing was written.</summary>
    Invalid,

    /// <summary>The credential is registered already (to this or another account).</summary>
    CredentialTaken,

    AccountGone,
}

public sealed record PasskeyRegistrationOutcome(PasskeyRegistrationStatus Status, Passkey? Passkey = null, string? Reason = null);

public enum PasskeySignInStatus
{
    SignedIn,

    /// <summary>One answer for every failure (unknown challenge or credential, a bad signature, a deleted account...): which one is only logged.</summary>
    Invalid,

    /// <summary>The assertion held, but <c>Auth__RequireVerifiedEmail</c> is on and the address is not verified.</summary>
    EmailNotVerified,
}

public sealed record PasskeySignInOutcome(PasskeySignInStatus Status, string? UserId = null, IssuedTokens? Tokens = null, string? Reason = null);

/// <summary>A sign-in challenge as the client gets it: the id it sends back, and the WebAuthn request options.</summary>
public sealed record PasskeySignInChallenge(string ChallengeId, AssertionOptions Options);

/// <summary>
/// The WebAuthn ceremonies over fido2-net-lib, which checks origin, RP ID hash, challenge, type, the user-present and
/// user-verified flags, the attestation and the signatures; this service adds what the library leaves to the relying
/// party: challenges that are stored only as hashes, live 5 minutes and are spent once (a conditional delete), a credential
/// id that belongs to one account (an index row claimed by insert), signature counters that must not go backwards, and a
/// sign-in that obeys the account's state like a password login.
/// </summary>
public sealed partial class PasskeyService(
    IOptions<PasskeyOptions> options, PasskeyStore passkeys, PasskeyChallengeStore challenges, UserStore users, SessionService sessions,
    IOptions<AuthOptions> authOptions, TimeProvider clock, ILogger<PasskeyService> logger)
{
    /// <summary>How long a challenge can be answered (ASVS 5.0 and WebAuthn's recommended ceremony timeout range).</summary>
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(5);

    /// <summary>256 random bits per challenge.</summary>
    public const int ChallengeBytes = 32;

    public const int MaxNameLength = 64;
    private const int MaxOptimisticRetries = 4;

    /// <summary>
    /// A passkey sign-in with user verification is multi-factor (something you have, unlocked by something you know or
    /// are: NIST SP 800-63B §5.1.9, a multi-factor cryptographic authenticator): RFC 8176 <c>hwk</c> (proof of possession
    /// of a key) and <c>user</c> (user presence and verification), <c>aal2</c>.
    /// </summary>
    public static SessionAssurance VerifiedAssurance { get; } = new(["hwk", "user"], SessionAssurance.MultiFactor);

    /// <summary>Without user verification (never accepted: every ceremony requires it) a passkey is one factor.</summary>
    public static SessionAssurance PresenceOnlyAssurance { get; } = new(["hwk"], SessionAssurance.SingleFactor);

    private readonly Lazy<Fido2> _fido2 = new(() => CreateLibrary(options.Value));

    public bool Enabled => options.Value.Enabled;

    private Fido2Configuration Configuration => CreateConfiguration(options.Value);

    private static Fido2Configuration CreateConfiguration(PasskeyOptions settings) => new()
    {
        RPID = settings.RelyingPartyId!.Trim(),
        RPName = settings.DisplayName,
        Origins = new HashSet<string>(settings.OriginList, StringComparer.Ordinal),
        ChallengeSize = ChallengeBytes,
        Timeout = (uint)ChallengeLifetime.TotalMilliseconds,
    };

    private static Fido2 CreateLibrary(PasskeyOptions settings) => new(CreateConfiguration(settings));

    private static readonly AuthenticatorSelection Selection = new()
    {
        ResidentKey = ResidentKeyRequirement.Required,
        UserVerification = UserVerificationRequirement.Required,
    };

    /// <summary>The creation options for a new passkey of the account (its passkeys excluded); null if the account is gone.</summary>
    public async Task<CredentialCreateOptions?> StartRegistrationAsync(string userId, CancellationToken cancellationToken)
    {
        if (await users.GetAsync(userId, cancellationToken) is not { } account)
        {
            return null;
        }
        var existing = await passkeys.ListAsync(userId, cancellationToken);
        var created = _fido2.Value.RequestNewCredential(new RequestNewCredentialParams
        {
            User = UserOf(account.Profile),
            ExcludeCredentials = [.. existing.Select(p => new PublicKeyCredentialDescriptor(p.CredentialId))],
            AuthenticatorSelection = Selection,
            // Attestation "none": who made the authenticator is not asked (privacy; nothing here depends on it).
            AttestationPreference = AttestationConveyancePreference.None,
        });
        await challenges.IssueAsync(new PasskeyChallenge(PasskeyChallengeStore.RegistrationId(userId), PasskeyCeremony.Registration, userId,
            HashChallenge(created.Challenge), clock.GetUtcNow() + ChallengeLifetime), cancellationToken);
        return created;
    }

    /// <summary>Verifies the attestation against the account's latest registration challenge (spent here) and stores the passkey.</summary>
    public async Task<PasskeyRegistrationOutcome> FinishRegistrationAsync(string userId, AuthenticatorAttestationRawResponse response, string? name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        byte[]? challenge;
        try
        {
            challenge = AuthenticatorAttestationResponse.Parse(response).Challenge;
        }
        catch (Exception malformed) when (IsMalformed(malformed))
        {
            return new(PasskeyRegistrationStatus.Invalid, Reason: "malformed response");
        }
        if (await SpendAsync(PasskeyChallengeStore.RegistrationId(userId), PasskeyCeremony.Registration, challenge, cancellationToken) is { } refused)
        {
            return new(PasskeyRegistrationStatus.Invalid, Reason: refused);
        }
        if (await users.GetAsync(userId, cancellationToken) is not { } account)
        {
            return new(PasskeyRegistrationStatus.AccountGone);
        }
        var existing = await passkeys.ListAsync(userId, cancellationToken);
        var original = CredentialCreateOptions.Create(Configuration, challenge!, UserOf(account.Profile), Selection, AttestationConveyancePreference.None,
            [.. existing.Select(p => new PublicKeyCredentialDescriptor(p.CredentialId))], null, PubKeyCredParam.Defaults);
        RegisteredPublicKeyCredential credential;
        try
        {
            credential = await _fido2.Value.MakeNewCredentialAsync(new MakeNewCredentialParams
            {
                AttestationResponse = response,
                OriginalOptions = original,
                IsCredentialIdUniqueToUserCallback = async (candidate, token) => await passkeys.FindOwnerAsync(Passkey.IdOf(candidate.CredentialId), token) is null,
            }, cancellationToken);
        }
        catch (Fido2VerificationException taken) when (taken.Code == Fido2ErrorCode.NonUniqueCredentialId)
        {
            return new(PasskeyRegistrationStatus.CredentialTaken, Reason: "credential registered already");
        }
        catch (Exception failed) when (IsMalformed(failed))
        {
            return new(PasskeyRegistrationStatus.Invalid, Reason: ReasonOf(failed));
        }
        if (credential.Id.Length > 1023)
        {
            // WebAuthn §5.8.3: credential ids are at most 1023 bytes.
            return new(PasskeyRegistrationStatus.Invalid, Reason: "credential id too long");
        }
        var now = clock.GetUtcNow();
        var passkey = new Passkey
        {
            Id = Passkey.IdOf(credential.Id),
            UserId = userId,
            CredentialId = credential.Id,
            PublicKey = credential.PublicKey,
            SignCount = credential.SignCount,
            Name = string.IsNullOrWhiteSpace(name) ? "Passkey" : name.Trim(),
            CreatedAt = now,
        };
        return await passkeys.TryAddAsync(passkey, cancellationToken) switch
        {
            PasskeyAddStatus.Added => new(PasskeyRegistrationStatus.Registered, passkey),
            PasskeyAddStatus.AccountGone => new(PasskeyRegistrationStatus.AccountGone),
            _ => new(PasskeyRegistrationStatus.CredentialTaken, Reason: "credential registered already"),
        };
    }

    public Task<IReadOnlyList<Passkey>> ListAsync(string userId, CancellationToken cancellationToken) => passkeys.ListAsync(userId, cancellationToken);

    /// <summary>Deletes one of the account's passkeys; false if it has none with this id.</summary>
    public Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken) =>
        IsPasskeyId(id) ? passkeys.DeleteAsync(userId, id, cancellationToken) : Task.FromResult(false);

    /// <summary>A discoverable-credential sign-in challenge: no account is named, the authenticator offers its passkeys for this RP.</summary>
    public async Task<PasskeySignInChallenge> StartSignInAsync(CancellationToken cancellationToken)
    {
        var requested = _fido2.Value.GetAssertionOptions(new GetAssertionOptionsParams { UserVerification = UserVerificationRequirement.Required });
        string id = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        await challenges.IssueAsync(new PasskeyChallenge(id, PasskeyCeremony.SignIn, null, HashChallenge(requested.Challenge), clock.GetUtcNow() + ChallengeLifetime), cancellationToken);
        return new PasskeySignInChallenge(id, requested);
    }

    /// <summary>
    /// Spends the challenge, finds the passkey through its index row, has the library verify the assertion, refuses a
    /// counter that went backwards, records the use (conditional on the passkey as read) and starts a session as a
    /// password login does: not for a deleted account, not for an unverified address when that is required.
    /// </summary>
    public async Task<PasskeySignInOutcome> SignInAsync(string challengeId, AuthenticatorAssertionRawResponse response, string? userAgent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        byte[]? challenge;
        AuthenticatorData authenticatorData;
        try
        {
            var parsed = AuthenticatorAssertionResponse.Parse(response);
            (challenge, authenticatorData) = (parsed.Challenge, parsed.AuthenticatorData);
        }
        catch (Exception malformed) when (IsMalformed(malformed))
        {
            return Refused(null, "malformed response");
        }
        if (!IsChallengeId(challengeId))
        {
            return Refused(null, "unknown challenge");
        }
        if (await SpendAsync(challengeId, PasskeyCeremony.SignIn, challenge, cancellationToken) is { } refused)
        {
            return Refused(null, refused);
        }
        string id = Passkey.IdOf(response.RawId);
        if (await passkeys.FindOwnerAsync(id, cancellationToken) is not { } owner ||
            await passkeys.GetAsync(owner, id, cancellationToken) is not { } passkey)
        {
            return Refused(null, "unknown credential");
        }
        if (await users.GetAsync(owner, cancellationToken) is not { } account)
        {
            return Refused(owner, "account deleted");
        }
        VerifyAssertionResult verified;
        try
        {
            verified = await _fido2.Value.MakeAssertionAsync(new MakeAssertionParams
            {
                AssertionResponse = response,
                OriginalOptions = AssertionOptions.Create(Configuration, challenge!, [], UserVerificationRequirement.Required, null),
                StoredPublicKey = passkey.PublicKey,
                StoredSignatureCounter = passkey.SignCount,
                IsUserHandleOwnerOfCredentialIdCallback = (claim, _) => Task.FromResult(claim.UserHandle.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(owner))),
            }, cancellationToken);
        }
        catch (Fido2VerificationException counter) when (counter.Code == Fido2ErrorCode.InvalidSignCount)
        {
            LogPossibleClone(owner, passkey.SignCount, authenticatorData.SignCount);
            return Refused(owner, "signature counter went backwards");
        }
        catch (Exception failed) when (IsMalformed(failed))
        {
            return Refused(owner, ReasonOf(failed));
        }
        if (await RecordUseAsync(passkey, verified.SignCount, cancellationToken) is { } notRecorded)
        {
            return Refused(owner, notRecorded);
        }
        // Told only to someone who proved the passkey, as a password login tells it only after the password.
        if (authOptions.Value.RequireVerifiedEmail && !account.Profile.EmailVerified)
        {
            return new(PasskeySignInStatus.EmailNotVerified, owner, Reason: "email not verified");
        }
        var assurance = authenticatorData.UserVerified ? VerifiedAssurance : PresenceOnlyAssurance;
        // Null when the account was deleted since it was read: no session outlives it.
        if (await sessions.StartAsync(account.Profile, userAgent, rememberMe: true, assurance, cancellationToken) is not { } issued)
        {
            return Refused(owner, "account deleted");
        }
        return new(PasskeySignInStatus.SignedIn, owner, issued);
    }

    /// <summary>
    /// The new counter, written only over the value it was checked against; when another sign-in wrote meanwhile, the
    /// check runs again against what that one stored. Null when recorded, else why not.
    /// </summary>
    private async Task<string?> RecordUseAsync(Passkey passkey, uint signCount, CancellationToken cancellationToken)
    {
        var current = passkey;
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            // WebAuthn §7.2 step 22: when either counter is non-zero, the new one must be greater. Authenticators
            // that do not count (synced passkeys) always report 0 and pass.
            if ((signCount > 0 || current.SignCount > 0) && signCount <= current.SignCount)
            {
                LogPossibleClone(current.UserId, current.SignCount, signCount);
                return "signature counter went backwards";
            }
            switch (await passkeys.TryRecordUseAsync(current, signCount, clock.GetUtcNow(), cancellationToken))
            {
                case WriteOutcome.Done:
                    return null;
                case WriteOutcome.NotFound:
                    return "passkey deleted";
            }
            if (await passkeys.GetAsync(current.UserId, current.Id, cancellationToken) is not { } reread)
            {
                return "passkey deleted";
            }
            current = reread;
        }
        return "passkey kept changing";
    }

    /// <summary>Spends the live challenge of <paramref name="id"/> if <paramref name="presented"/> is it. Null when spent by this call, else why not.</summary>
    private async Task<string?> SpendAsync(string id, PasskeyCeremony ceremony, byte[]? presented, CancellationToken cancellationToken)
    {
        if (presented is not { Length: ChallengeBytes })
        {
            return "not our challenge";
        }
        var stored = await challenges.GetAsync(id, cancellationToken);
        if (stored is null || stored.Ceremony != ceremony)
        {
            return "unknown challenge";
        }
        if (stored.ExpiresAt <= clock.GetUtcNow())
        {
            return "expired challenge";
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(HashChallenge(presented)), Encoding.ASCII.GetBytes(stored.ChallengeHash)))
        {
            return "challenge mismatch";
        }
        return await challenges.TryConsumeAsync(stored, cancellationToken) ? null : "challenge spent";
    }

    private static PasskeySignInOutcome Refused(string? userId, string reason) => new(PasskeySignInStatus.Invalid, userId, Reason: reason);

    private static Fido2User UserOf(UserProfile profile) => new()
    {
        // The user handle: the account id, never the email (WebAuthn §14.6.1: no personal data in it).
        Id = Encoding.UTF8.GetBytes(profile.Id),
        Name = profile.Email,
        DisplayName = string.IsNullOrWhiteSpace(profile.FullName) ? profile.Email : profile.FullName,
    };

    public static string HashChallenge(byte[] challenge) => System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(challenge));

    private static bool IsChallengeId(string? id) => id is { Length: 22 } && id.All(IsBase64UrlCharacter);

    private static bool IsPasskeyId(string? id) => id is { Length: 43 } && id.All(IsBase64UrlCharacter);

    private static bool IsBase64UrlCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    // The library reports a refused or malformed response with its own exception, and some malformed inputs (bad CBOR,
    // truncated authenticator data, a wrong key type) with the framework's: each is the client's fault, never a 500.
    private static bool IsMalformed(Exception exception) => exception is Fido2VerificationException or System.Text.Json.JsonException or FormatException
        or ArgumentException or InvalidOperationException or System.Formats.Cbor.CborContentException or CryptographicException
        or InvalidCastException or IndexOutOfRangeException or OverflowException or NullReferenceException or KeyNotFoundException or NotSupportedException;

    // The error code only: the library's messages can quote the client's data (origins, ids).
    private static string ReasonOf(Exception exception) =>
        exception is Fido2VerificationException verification ? verification.Code.ToString() : exception.GetType().Name;

    [LoggerMessage(EventId = 2301, Level = LogLevel.Warning, Message = "Passkey of user {UserId} refused: its signature counter went from {Stored} to {Presented}. The passkey may have been cloned.")]
    private partial void LogPossibleClone(string userId, uint stored, uint presented);
}
