using AuthFunctions.Accounts;
using AuthFunctions.Mfa;
using AuthFunctions.Sessions;
using AuthFunctions.Storage;
using AuthFunctions.Tokens;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Federation;

/// <summary>The <c>error</c> values a sign-in or link returns to the static site in the fragment of <c>return_to</c>.</summary>
public static class FederationErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string AccessDenied = "access_denied";
    public const string TemporarilyUnavailable = "temporarily_unavailable";
    public const string ServerError = "server_error";

    /// <summary>The provider's email belongs to an account that has not linked this identity: sign in there and link it.</summary>
    public const string AccountExists = "account_exists";

    /// <summary>The provider gave no email address; an account needs one.</summary>
    public const string EmailRequired = "email_required";

    /// <summary>A link of an identity that another account holds, or of a second identity of a provider already linked.</summary>
    public const string IdentityInUse = "identity_in_use";

    /// <summary>A sign-in again with an identity already linked, which the provider did not show to be fresh (<c>auth_time</c>).</summary>
    public const string LoginRequired = "login_required";

    /// <summary>Errors a provider may send (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6), passed on as they are; any other is <see cref="ServerError"/>.</summary>
    internal static readonly IReadOnlySet<string> FromProvider = new HashSet<string>(StringComparer.Ordinal)
    {
        InvalidRequest, AccessDenied, TemporarilyUnavailable, ServerError, "unauthorized_client", "unsupported_response_type", "invalid_scope",
        "interaction_required", LoginRequired, "account_selection_required", "consent_required",
    };
}

/// <summary>Where the callback sends the browser, and what happened (for the log).</summary>
public sealed record FederationRedirect(string Location, string Outcome, string? UserId = null);

/// <summary>The query of a provider's redirect to the callback.</summary>
public sealed record CallbackParameters(string? Code, string? State, string? Error, string? Issuer);

public enum ExchangeStatus
{
    SignedIn,
    Invalid,

    /// <summary><c>Auth__RequireVerifiedEmail</c> is on and the account's address is not verified.</summary>
    EmailNotVerified,

    /// <summary>The account has an active second factor: <see cref="ExchangeOutcome.MfaToken"/> finishes the sign-in at <c>login-mfa</c>.</summary>
    MfaRequired,
}

public sealed record ExchangeOutcome(ExchangeStatus Status, string? UserId = null, IssuedTokens? Tokens = null, string? MfaToken = null);

public enum UnlinkStatus
{
    Unlinked,
    NotLinked,

    /// <summary>The account has no password and no other identity: unlinking would lock its owner out.</summary>
    OnlyWayToSignIn,

    /// <summary>The account changed meanwhile (another unlink, a password set): nothing was written.</summary>
    Conflict,
    AccountGone,
}

/// <summary>
/// OpenID Connect sign-in for the static site (authorization code flow with PKCE, OpenID Connect Core 1.0 §3.1; RFC 9700):
/// start → the provider → callback (code redeemed, ID token validated, account resolved) → a one-time login code in the
/// fragment of the site's page → exchange (the site's own PKCE verifier) → the usual token pair. Also links and unlinks
/// identities of a signed-in account. The flow's <c>state</c> is <c>{index of return_to}.{256 random bits}</c>: a
/// replayed state still says which of the configured pages to send its error to, and nothing else.
/// </summary>
public sealed partial class FederationService(
    IOptions<OidcOptions> options, OidcClient oidc, FederationFlowStore flows, IdentityStore identities, UserStore users, SessionService sessions,
    MfaService mfa, IOptions<AuthOptions> auth, TimeProvider clock, ILogger<FederationService> logger)
{
    public static readonly TimeSpan FlowLifetime = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan LoginCodeLifetime = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan LinkTicketLifetime = TimeSpan.FromSeconds(60);

    /// <summary>A claim whose account never appeared is another sign-in's that died midway (or a deletion's leftover) after this long.</summary>
    private static readonly TimeSpan OrphanAge = TimeSpan.FromSeconds(30);
    private const int MaxResolveAttempts = 20;
    private const int MaxProviderMethods = 8;

    private OidcOptions Options => options.Value;

    public bool Enabled => Options.Enabled;

    public OidcProviderOptions? FindProvider(string name) => Options.Find(name);

    /// <summary>The index of <paramref name="returnTo"/> among <c>Oidc__ReturnUrls</c>, compared exactly; null for anything else.</summary>
    public int? ReturnUrlIndex(string? returnTo)
    {
        int index = returnTo is null ? -1 : Options.ReturnUrlList.ToList().FindIndex(url => string.Equals(url, returnTo, StringComparison.Ordinal));
        return index < 0 ? null : index;
    }

    public Task<string> StartSignInAsync(OidcProviderOptions provider, int returnUrl, string siteChallenge, CancellationToken cancellationToken) =>
        StartAsync(provider, returnUrl, flow => flow with { SiteChallenge = siteChallenge }, cancellationToken);

    /// <summary>Spends a link ticket and sends the browser to the provider to add an identity to the ticket's account; null when the ticket is not good.</summary>
    public async Task<string?> StartLinkAsync(OidcProviderOptions provider, int returnUrl, string? ticket, CancellationToken cancellationToken)
    {
        if (!FederationSecrets.IsSecret(ticket) || await flows.TakeLinkTicketAsync(FederationSecrets.Hash(ticket!), cancellationToken) is not { } held ||
            held.ExpiresAt <= clock.GetUtcNow() || await users.GetAsync(held.UserId, cancellationToken) is null)
        {
            return null;
        }
        return await StartAsync(provider, returnUrl, flow => flow with { LinkUserId = held.UserId, LinkSessionId = held.SessionId }, cancellationToken);
    }

    public async Task<(string Ticket, TimeSpan Lifetime)> CreateLinkTicketAsync(AuthenticatedUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        string ticket = FederationSecrets.NewSecret();
        await flows.SaveLinkTicketAsync(FederationSecrets.Hash(ticket), new LinkTicket(user.UserId, user.SessionId, clock.GetUtcNow() + LinkTicketLifetime), cancellationToken);
        return (ticket, LinkTicketLifetime);
    }

    private async Task<string> StartAsync(OidcProviderOptions provider, int returnUrl, Func<FederationFlow, FederationFlow> shape, CancellationToken cancellationToken)
    {
        string returnTo = Options.ReturnUrlList[returnUrl];
        Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await oidc.ConfigurationAsync(provider, cancellationToken);
        }
        catch (ProviderUnavailableException unavailable)
        {
            LogProviderUnavailable(provider.Name!, unavailable.Message);
            return WithFragment(returnTo, "error", FederationErrors.TemporarilyUnavailable);
        }
        string key = FederationSecrets.NewSecret();
        string state = $"{returnUrl}.{FederationSecrets.NewSecret()}";
        var flow = shape(new FederationFlow(provider.Name!, returnTo, key, clock.GetUtcNow() + FlowLifetime));
        await flows.SaveFlowAsync(FederationSecrets.Hash(state), flow, cancellationToken);
        // A link asks the provider for a fresh sign-in: it adds a way into the account, or stands in for a password.
        return OidcClient.AuthorizationUrl(configuration, provider, Options.RedirectUri(provider.Name!), state,
            FederationSecrets.Derive(key, "nonce", state), FederationSecrets.Derive(key, "pkce", state), freshSignIn: flow.LinkUserId is not null);
    }

    /// <summary>
    /// The provider's answer. Null when the <c>state</c> is not one of ours at all (there is no page to return to);
    /// otherwise the page with a login code, <c>linked</c>, or an error in its fragment. The flow is spent first, so a
    /// replayed state creates nothing.
    /// </summary>
    public async Task<FederationRedirect?> CallbackAsync(OidcProviderOptions provider, CallbackParameters parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(parameters);
        if (!TryReadState(parameters.State, out int returnUrl))
        {
            return null;
        }
        string state = parameters.State!;
        string returnTo = Options.ReturnUrlList[returnUrl];
        var flow = await flows.TakeFlowAsync(FederationSecrets.Hash(state), cancellationToken);
        if (flow is null || flow.ExpiresAt <= clock.GetUtcNow() || flow.Provider != provider.Name || flow.ReturnTo != returnTo)
        {
            return Error(returnTo, FederationErrors.InvalidRequest, "state unknown, spent or expired");
        }
        if (parameters.Error is { } error)
        {
            return Error(returnTo, FederationErrors.FromProvider.Contains(error) ? error : FederationErrors.ServerError, "the provider answered with an error");
        }
        // RFC 9207: an authorization response that names another issuer is a mix-up attack.
        if (parameters.Issuer is { } issuer && !string.Equals(issuer.TrimEnd('/'), provider.Issuer, StringComparison.Ordinal))
        {
            return Error(returnTo, FederationErrors.InvalidRequest, "the authorization response names another issuer");
        }
        if (string.IsNullOrEmpty(parameters.Code) || parameters.Code.Length > 2048)
        {
            return Error(returnTo, FederationErrors.InvalidRequest, "no authorization code");
        }
        ProviderIdentity identity;
        try
        {
            identity = await oidc.RedeemAsync(provider, parameters.Code, Options.RedirectUri(provider.Name!),
                FederationSecrets.Derive(flow.Key, "pkce", state), FederationSecrets.Derive(flow.Key, "nonce", state), cancellationToken);
        }
        catch (ProviderUnavailableException unavailable)
        {
            LogProviderUnavailable(provider.Name!, unavailable.Message);
            return Error(returnTo, FederationErrors.TemporarilyUnavailable, "the provider is unavailable");
        }
        catch (IdTokenRejectedException rejected)
        {
            return Error(returnTo, FederationErrors.InvalidRequest, rejected.Message);
        }
        return flow.LinkUserId is { } userId
            ? await LinkAsync(provider.Name!, identity, userId, flow.LinkSessionId, returnTo, cancellationToken)
            : await SignInAsync(provider.Name!, identity, flow, returnTo, cancellationToken);
    }

    private async Task<FederationRedirect> SignInAsync(string provider, ProviderIdentity identity, FederationFlow flow, string returnTo, CancellationToken cancellationToken)
    {
        var (userId, error) = await ResolveAccountAsync(provider, identity, cancellationToken);
        if (userId is null)
        {
            return Error(returnTo, error!, "the identity's account could not be resolved");
        }
        string code = FederationSecrets.NewSecret();
        var grant = new LoginCodeGrant(userId, flow.SiteChallenge!, Assurance(identity), clock.GetUtcNow() + LoginCodeLifetime);
        await flows.SaveLoginCodeAsync(FederationSecrets.Hash(code), grant, cancellationToken);
        return new FederationRedirect(WithFragment(returnTo, "code", code), "signed-in", userId);
    }

    /// <summary>
    /// The account of a provider identity: the one its claim names, or a new one (no password) when the identity and its
    /// email are new. An email an account already has is never linked silently (anyone who can register that address at
    /// some provider would take the account over): <see cref="FederationErrors.AccountExists"/>. Of concurrent first
    /// sign-ins with one identity exactly one claim's insert wins; the others wait for its account and sign in to it.
    /// </summary>
    private async Task<(string? UserId, string? Error)> ResolveAccountAsync(string provider, ProviderIdentity identity, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < MaxResolveAttempts; attempt++)
        {
            string newId = Guid.NewGuid().ToString("N");
            if (await identities.FindOwnerAsync(provider, identity.Subject, cancellationToken) is { } owner)
            {
                if (await users.GetAsync(owner.UserId, cancellationToken) is not null)
                {
                    return (owner.UserId, null);
                }
                if (clock.GetUtcNow() - owner.ClaimedAt < OrphanAge)
                {
                    // Another sign-in's claim whose account is being written right now.
                    await Task.Delay(TimeSpan.FromMilliseconds(50 * (attempt + 1)), cancellationToken);
                    continue;
                }
                if (!await identities.TryTakeOverAsync(provider, identity.Subject, owner, newId, cancellationToken))
                {
                    continue;
                }
                LogOrphanClaimTaken(provider, owner.UserId);
            }
            else
            {
                if (!CredentialRules.TryNormalizeEmail(identity.Email, out _, out _))
                {
                    return (null, FederationErrors.EmailRequired);
                }
                if (await users.FindByEmailAsync(NormalizedEmail(identity), cancellationToken) is not null)
                {
                    // The address may be the account a concurrent sign-in with this same identity just created (its claim
                    // comes before its account): then it is this identity's account, found on the next round.
                    if (await identities.FindOwnerAsync(provider, identity.Subject, cancellationToken) is not null)
                    {
                        continue;
                    }
                    return (null, FederationErrors.AccountExists);
                }
                if (!await identities.TryClaimAsync(provider, identity.Subject, newId, cancellationToken))
                {
                    continue;
                }
            }
            return await CreateAccountAsync(provider, identity, newId, cancellationToken);
        }
        return (null, FederationErrors.TemporarilyUnavailable);
    }

    private async Task<(string? UserId, string? Error)> CreateAccountAsync(string provider, ProviderIdentity identity, string userId, CancellationToken cancellationToken)
    {
        if (!CredentialRules.TryNormalizeEmail(identity.Email, out _, out _))
        {
            await identities.ReleaseAsync(provider, identity.Subject, userId, cancellationToken);
            return (null, FederationErrors.EmailRequired);
        }
        string email = NormalizedEmail(identity);
        string? name = identity.Name is { Length: > 0 } given && CredentialRules.FullNameProblem(given.Trim()) is null ? given.Trim() : null;
        var registered = await users.RegisterWithoutPasswordAsync(userId, email, name, identity.EmailVerified, cancellationToken);
        if (registered.Status == RegisterStatus.EmailTaken)
        {
            // A password registration of the same address got there first.
            await identities.ReleaseAsync(provider, identity.Subject, userId, cancellationToken);
            return (null, FederationErrors.AccountExists);
        }
        await identities.AddToAccountAsync(userId, new FederatedIdentity(provider, identity.Subject, email, clock.GetUtcNow()), cancellationToken);
        LogAccountCreated(provider, userId);
        return (userId, null);
    }

    private async Task<FederationRedirect> LinkAsync(string provider, ProviderIdentity identity, string userId, string? sessionId, string returnTo, CancellationToken cancellationToken)
    {
        if (await users.GetAsync(userId, cancellationToken) is null)
        {
            return Error(returnTo, FederationErrors.InvalidRequest, "the account to link to is gone");
        }
        var linked = await identities.ListAsync(userId, cancellationToken);
        if (linked.FirstOrDefault(i => i.Provider == provider) is { } existing)
        {
            return existing.Subject == identity.Subject
                ? await ReauthenticatedAsync(provider, identity, userId, sessionId, returnTo, cancellationToken)
                : Error(returnTo, FederationErrors.IdentityInUse, "the account has another identity of this provider");
        }
        var owner = await identities.FindOwnerAsync(provider, identity.Subject, cancellationToken);
        bool claimed = owner switch
        {
            null => await identities.TryClaimAsync(provider, identity.Subject, userId, cancellationToken),
            _ when owner.UserId == userId => true,
            _ => clock.GetUtcNow() - owner.ClaimedAt >= OrphanAge && await users.GetAsync(owner.UserId, cancellationToken) is null &&
                await identities.TryTakeOverAsync(provider, identity.Subject, owner, userId, cancellationToken),
        };
        if (!claimed)
        {
            return Error(returnTo, FederationErrors.IdentityInUse, "another account holds the identity");
        }
        string? email = CredentialRules.TryNormalizeEmail(identity.Email, out var normalized, out _) ? normalized : null;
        if (!await identities.AddToAccountAsync(userId, new FederatedIdentity(provider, identity.Subject, email, clock.GetUtcNow()), cancellationToken))
        {
            await identities.ReleaseAsync(provider, identity.Subject, userId, cancellationToken);
            return Error(returnTo, FederationErrors.InvalidRequest, "the account to link to is gone");
        }
        return new FederationRedirect(WithFragment(returnTo, "linked", provider), "linked", userId);
    }

    /// <summary>
    /// A link flow that came back with the identity the account already has: the signed-in user authenticated afresh at
    /// its provider. Recorded on the session that asked (an account without a password may then be deleted from it for
    /// <see cref="SessionService.ReauthenticationWindow"/>) when the ID token's <c>auth_time</c> shows it is fresh, since the
    /// provider may have answered from a sign-in of hours ago whatever <c>max_age</c> asked. A newly linked identity never
    /// counts: whoever holds a stolen access token could link their own.
    /// </summary>
    private async Task<FederationRedirect> ReauthenticatedAsync(string provider, ProviderIdentity identity, string userId, string? sessionId, string returnTo,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (identity.AuthenticatedAt is not { } at || at < now - SessionService.ReauthenticationWindow || at > now + OidcClient.ClockSkew)
        {
            return Error(returnTo, FederationErrors.LoginRequired, "the provider did not report a fresh sign-in (auth_time)");
        }
        // A provider clock ahead of ours must not lengthen the window.
        if (sessionId is null || !await sessions.MarkReauthenticatedAsync(userId, sessionId, at > now ? now : at, cancellationToken))
        {
            return Error(returnTo, FederationErrors.InvalidRequest, "the session that asked for the link has ended");
        }
        return new FederationRedirect(WithFragment(returnTo, "reauthenticated", provider), "reauthenticated", userId);
    }

    /// <summary>Spends a login code: only with the verifier of the challenge its sign-in started with, once, within a minute.</summary>
    public async Task<ExchangeOutcome> ExchangeAsync(string? code, string? verifier, string? userAgent, CancellationToken cancellationToken)
    {
        if (!FederationSecrets.IsSecret(code) || !FederationSecrets.IsVerifier(verifier))
        {
            return new ExchangeOutcome(ExchangeStatus.Invalid);
        }
        // Spent before it is checked: a wrong verifier burns the code too, so it cannot be guessed at.
        var grant = await flows.TakeLoginCodeAsync(FederationSecrets.Hash(code!), cancellationToken);
        if (grant is null || grant.ExpiresAt <= clock.GetUtcNow() || !FederationSecrets.FixedTimeEquals(FederationSecrets.S256(verifier!), grant.SiteChallenge))
        {
            return new ExchangeOutcome(ExchangeStatus.Invalid, grant?.UserId);
        }
        return await StartSessionAsync(grant.UserId, grant.Assurance, userAgent, cancellationToken);
    }

    /// <summary>
    /// The one place a federated sign-in becomes a session: what applies to every sign-in is decided here: a verified
    /// email where required, and for an account with an active second factor the same second step as after a password
    /// (an <c>mfa_token</c> for <c>login-mfa</c>, which finishes with <c>["fed","otp"]</c> at aal2): a provider's sign-in
    /// never skips the account's own factor (ASVS 5.0 V6.3).
    /// </summary>
    public async Task<ExchangeOutcome> StartSessionAsync(string userId, SessionAssurance assurance, string? userAgent, CancellationToken cancellationToken)
    {
        if (await users.GetAsync(userId, cancellationToken) is not { } account)
        {
            return new ExchangeOutcome(ExchangeStatus.Invalid, userId);
        }
        if (auth.Value.RequireVerifiedEmail && !account.Profile.EmailVerified)
        {
            return new ExchangeOutcome(ExchangeStatus.EmailNotVerified, userId);
        }
        var second = await mfa.BeginSecondStepAsync(account, assurance, OneTimeCode.None, rememberMe: true, cancellationToken);
        if (second.Status == SecondStepStatus.CodeRequired)
        {
            return new ExchangeOutcome(ExchangeStatus.MfaRequired, userId, MfaToken: second.MfaToken);
        }
        return await sessions.StartAsync(account.Profile, userAgent, rememberMe: true, assurance, cancellationToken) is { } tokens
            ? new ExchangeOutcome(ExchangeStatus.SignedIn, userId, tokens)
            : new ExchangeOutcome(ExchangeStatus.Invalid, userId);
    }

    public Task<IReadOnlyList<FederatedIdentity>> ListIdentitiesAsync(string userId, CancellationToken cancellationToken) =>
        identities.ListAsync(userId, cancellationToken);

    /// <summary>Unlinks a provider from the caller's account, unless it is the account's only way to sign in.</summary>
    public async Task<UnlinkStatus> UnlinkAsync(AuthenticatedUser user, string provider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (await users.GetAsync(user.UserId, cancellationToken) is not { } account)
        {
            return UnlinkStatus.AccountGone;
        }
        var linked = await identities.ListAsync(user.UserId, cancellationToken);
        if (linked.FirstOrDefault(i => i.Provider == provider) is not { } identity)
        {
            return UnlinkStatus.NotLinked;
        }
        if (account.PasswordHash.Length == 0 && linked.Count == 1)
        {
            return UnlinkStatus.OnlyWayToSignIn;
        }
        switch (await identities.RemoveFromAccountAsync(account, provider, cancellationToken))
        {
            case WriteOutcome.Done:
                await identities.ReleaseAsync(provider, identity.Subject, user.UserId, cancellationToken);
                return UnlinkStatus.Unlinked;
            case WriteOutcome.NotFound:
                return UnlinkStatus.NotLinked;
            default:
                return UnlinkStatus.Conflict;
        }
    }

    /// <summary>RFC 8176 <c>fed</c>, then the methods the provider reported (well-formed ones only); one factor as far as we can tell.</summary>
    private static SessionAssurance Assurance(ProviderIdentity identity) =>
        new(["fed", .. identity.Methods.Where(m => m is { Length: > 0 and <= 32 } && m.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') && m != "fed")
            .Distinct(StringComparer.Ordinal).Take(MaxProviderMethods)], SessionAssurance.SingleFactor);

    private static string NormalizedEmail(ProviderIdentity identity) =>
        CredentialRules.TryNormalizeEmail(identity.Email, out var email, out _) ? email : throw new InvalidOperationException("No usable email.");

    private bool TryReadState(string? state, out int returnUrl)
    {
        returnUrl = -1;
        int dot = state?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        return dot is > 0 and <= 3 && int.TryParse(state.AsSpan(0, dot), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out returnUrl) &&
            returnUrl < Options.ReturnUrlList.Count && FederationSecrets.IsSecret(state![(dot + 1)..]);
    }

    private FederationRedirect Error(string returnTo, string error, string reason)
    {
        LogRefused(error, reason);
        return new FederationRedirect(WithFragment(returnTo, "error", error), error);
    }

    private static string WithFragment(string returnTo, string name, string value) => $"{returnTo}#{name}={Uri.EscapeDataString(value)}";

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "OpenID Connect provider {Provider} is unavailable: {Reason}")]
    private partial void LogProviderUnavailable(string provider, string reason);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Information, Message = "Federated sign-in refused ({Error}): {Reason}.")]
    private partial void LogRefused(string error, string reason);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Information, Message = "Created account {UserId} for a new {Provider} identity.")]
    private partial void LogAccountCreated(string provider, string userId);

    [LoggerMessage(EventId = 6104, Level = LogLevel.Warning, Message = "Took over a {Provider} identity claim whose account {UserId} does not exist (a sign-in or deletion that died midway).")]
    private partial void LogOrphanClaimTaken(string provider, string userId);
}
