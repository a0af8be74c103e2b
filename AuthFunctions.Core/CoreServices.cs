using AuthFunctions.Email;
using AuthFunctions.Health;
using AuthFunctions.Maintenance;
using AuthFunctions.Passwords;
using AuthFunctions.ResourceServers;
using AuthFunctions.Storage;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;
using AuthFunctions.Tokens;
using AuthFunctions.Sessions;
using AuthFunctions.Throttling;
using AuthFunctions.Accounts;
using AuthFunctions.Backup;
using AuthFunctions.Mfa;
using AuthFunctions.Passkeys;
using AuthFunctions.Federation;

namespace AuthFunctions;

/// <summary>
/// The services behind the functions, one registration call per feature; the worker's Program.cs calls
/// <see cref="AddAuthCore"/>, and the in-process tests build the same container over real Azurite.
/// </summary>
public static class CoreServices
{
    public static IServiceCollection AddAuthCore(this IServiceCollection services, IConfiguration configuration)
    {
        // The system clock, unless a .NET startup hook (DOTNET_STARTUP_HOOKS: code already running in this process) put
        // another one here: the tests' hook does, to move time in the worker the real host runs.
        services.AddSingleton(AppContext.GetData("AuthFunctions.TimeProvider") as TimeProvider ?? TimeProvider.System);
        services.AddMetrics();
        return services
            .AddTableStorage(configuration)
            .AddPasswords(configuration)
            .AddTokens(configuration)
            .AddSessions()
            .AddThrottling(configuration)
            .AddAccounts()
            .AddEmail(configuration)
            .AddResourceServers(configuration)
            .AddMaintenance()
            .AddBackup(configuration)
            .AddMfa(configuration)
            .AddPasskeys(configuration)
            .AddFederation(configuration);
    }

    public static IServiceCollection AddPasswords(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PasswordHashingOptions>().Bind(configuration.GetSection(PasswordHashingOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordHashingOptions>, PasswordHashingOptionsValidator>();
        services.AddSingleton<HashingThreads>();
        services.AddSingleton<PasswordHasher>();
        services.AddOptions<PasswordPolicyOptions>().Bind(configuration.GetSection(PasswordPolicyOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordPolicyOptions>, PasswordPolicyOptionsValidator>();
        services.AddSingleton(provider => new NewPasswordPolicy(provider.GetRequiredService<IOptions<PasswordPolicyOptions>>(), provider.GetRequiredService<HashingThreads>(),
            NewPasswordPolicy.AppNames(configuration["Auth:Issuer"], configuration["Email:From"])));
        return services;
    }

    /// <summary>Signing and validating access tokens, device tokens, and the revocation feed every instance polls.</summary>
    public static IServiceCollection AddTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<IPostConfigureOptions<AuthOptions>, AuthOptionsSetup>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<DeviceTokens>();
        services.AddSingleton<RevocationStore>();
        services.AddSingleton<RevocationFeed>();
        services.AddHostedService<RevocationPoller>();
        return services;
    }

    public static IServiceCollection AddSessions(this IServiceCollection services)
    {
        services.AddSingleton<UserStore>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<SessionService>();
        services.AddSingleton<StartupWarmUp>();
        services.AddHostedService(provider => provider.GetRequiredService<StartupWarmUp>());
        return services;
    }

    public static IServiceCollection AddThrottling(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ThrottleOptions>().Bind(configuration.GetSection(ThrottleOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ThrottleOptions>, ThrottleOptionsValidator>();
        services.AddSingleton<ThrottleStore>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<CredentialCheck>();
        return services;
    }

    public static IServiceCollection AddAccounts(this IServiceCollection services)
    {
        services.AddSingleton<AccountService>();
        services.AddSingleton<LinkTokenStore>();
        services.AddSingleton<AccountLifecycleService>();
        return services;
    }

    /// <summary>SMTP through the bounded background outbox, and the link emails.</summary>
    public static IServiceCollection AddEmail(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EmailOptions>().Bind(configuration.GetSection(EmailOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        services.AddSingleton<IEmailSender, SmtpEmailSender>();
        services.AddSingleton<EmailOutbox>();
        services.AddHostedService(provider => provider.GetRequiredService<EmailOutbox>());
        services.AddSingleton<LinkEmails>();
        return services;
    }

    public static IServiceCollection AddResourceServers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IntrospectionOptions>().Bind(configuration.GetSection(IntrospectionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IntrospectionOptions>, IntrospectionOptionsValidator>();
        services.AddSingleton<IntrospectionClients>();
        return services;
    }

    public static IServiceCollection AddMaintenance(this IServiceCollection services)
    {
        services.AddSingleton<HealthProbe>();
        services.AddSingleton<HealthCache>();
        services.AddSingleton<CleanupService>();
        return services;
    }

    /// <summary>The second factor: authenticator apps (TOTP) with recovery codes, the sign-in's second step and step-up.</summary>
    public static IServiceCollection AddMfa(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MfaOptions>().Bind(configuration.GetSection(MfaOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MfaOptions>, MfaOptionsValidator>();
        services.AddSingleton<IPostConfigureOptions<MfaOptions>, MfaOptionsSetup>();
        services.AddSingleton<SecretProtector>();
        services.AddSingleton<MfaStore>();
        services.AddSingleton<MfaService>();
        return services;
    }

    /// <summary>WebAuthn registration and passwordless sign-in (off without <c>Passkeys__RelyingPartyId</c> and <c>Passkeys__Origins</c>).</summary>
    public static IServiceCollection AddPasskeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PasskeyOptions>().Bind(configuration.GetSection(PasskeyOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasskeyOptions>, PasskeyOptionsValidator>();
        services.AddSingleton<PasskeyStore>();
        services.AddSingleton<PasskeyChallengeStore>();
        services.AddSingleton<PasskeyService>();
        services.AddHostedService<PasskeyStartupNotice>();
        return services;
    }

    /// <summary>OpenID Connect sign-in: the providers' settings, the relying-party client, the one-time rows and identities.</summary>
    public static IServiceCollection AddFederation(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OidcOptions>().Bind(configuration.GetSection(OidcOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OidcOptions>, OidcOptionsValidator>();
        services.AddSingleton<IPostConfigureOptions<OidcOptions>, OidcOptionsSetup>();
        services.AddSingleton<OidcClient>();
        services.AddSingleton<FederationFlowStore>();
        services.AddSingleton<IdentityStore>();
        services.AddSingleton<FederationService>();
        return services;
    }
}
