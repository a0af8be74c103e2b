using AuthFunctions.Account;
using AuthFunctions.Auth;
using AuthFunctions.Federation;
using AuthFunctions.Http;
using AuthFunctions.Passkeys;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Hosting;

/// <summary>What the HTTP functions need beside the services: JSON contracts, Problem Details, rate limits, CORS, the event logs.</summary>
public static class HttpFeatures
{
    public static IServiceCollection AddHttpFeatures(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section))
            .Validate(o => o.PermitsPerMinute is >= 1 and <= 100_000, "RateLimit__PermitsPerMinute must be between 1 and 100000.")
            .ValidateOnStart();
        services.AddSingleton<ClientRateLimitMiddleware>();
        services.AddStaticSiteCors(configuration);
        services.AddApiJson();
        services.AddProblemDetails();
        services.AddSingleton<AuthEvents>();
        services.AddSingleton<AccountEvents>();
        services.AddSingleton<Mfa.MfaEvents>();
        services.AddSingleton<PasskeyEvents>();
        services.AddSingleton<FederationEvents>();
        return services;
    }
}
