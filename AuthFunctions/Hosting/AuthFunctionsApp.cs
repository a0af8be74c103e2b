using AuthFunctions.Account;
using AuthFunctions.Http;
using AuthFunctions.Auth;
using AuthFunctions.Email;
using AuthFunctions.Health;
using AuthFunctions.Maintenance;
using AuthFunctions.Passwords;
using AuthFunctions.Storage;
using AuthFunctions.Profile;
using AuthFunctions.ResourceServers;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Hosting;

/// <summary>The app's table of contents: services, then middleware and endpoints. Tests build the same app.</summary>
public static class AuthFunctionsApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // No watching of settings files: the app is configured by environment variables, and the host's
        // default watcher walks the working directory's whole tree at start-up (README, Benchmarks).
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        builder.ConfigureLogLevels();
        builder.ConfigureCustomHandlerHosting();
        builder.Services.AddTableStorage(builder.Configuration);
        builder.Services.AddAuthFunctions(builder.Configuration);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseAuthFunctions();
        return app;
    }

    public static IServiceCollection AddAuthFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddSingleton<IPostConfigureOptions<AuthOptions>, AuthOptionsSetup>();
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<ThrottleOptions>().Bind(configuration.GetSection(ThrottleOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ThrottleOptions>, ThrottleOptionsValidator>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<CredentialCheck>();
        services.AddSingleton<DeviceTokens>();
        services.AddSingleton<AccountService>();
        services.AddClientRateLimiting(configuration);
        services.AddStaticSiteCors(configuration);
        services.AddMetrics();
        services.AddOptions<PasswordHashingOptions>().Bind(configuration.GetSection(PasswordHashingOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordHashingOptions>, PasswordHashingOptionsValidator>();
        services.AddSingleton<HashingThreads>();
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<TokenService>();
        services.AddOptions<IntrospectionOptions>().Bind(configuration.GetSection(IntrospectionOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IntrospectionOptions>, IntrospectionOptionsValidator>();
        services.AddSingleton<IntrospectionClients>();
        services.AddSingleton<RevocationStore>();
        services.AddSingleton<RevocationFeed>();
        services.AddHostedService<RevocationPoller>();
        services.AddSingleton<SessionService>();
        services.AddSingleton<UserStore>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<AuthEvents>();
        services.AddAccountLifecycle(configuration);
        services.AddSingleton<HealthProbe>();
        services.AddSingleton<CleanupService>();
        services.AddSingleton<HealthCache>();
        services.AddSingleton<StartupWarmUp>();
        services.AddHostedService(provider => provider.GetRequiredService<StartupWarmUp>());
        services.ConfigureHttpJsonOptions(json =>
        {
            // Responses use the OAuth 2 style of the contract (access_token, full_name), not the web default camelCase.
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, AuthJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ProfileJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, HealthJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, MaintenanceJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ResourceServersJson.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, AccountJson.Default);
        });
        services.AddProblemDetails();
        services.AddApiDocument();
        services.AddExceptionHandler<StorageExceptionHandler>();
        return services;
    }

    /// <summary>Email (SMTP through the background outbox) and the account lifecycle services.</summary>
    public static IServiceCollection AddAccountLifecycle(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EmailOptions>().Bind(configuration.GetSection(EmailOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        services.AddSingleton<IEmailSender, SmtpEmailSender>();
        services.AddSingleton<EmailOutbox>();
        services.AddHostedService(provider => provider.GetRequiredService<EmailOutbox>());
        services.AddSingleton<LinkEmails>();
        services.AddSingleton<LinkTokenStore>();
        services.AddSingleton<AccountLifecycleService>();
        services.AddSingleton<AccountEvents>();
        return services;
    }

    public static WebApplication UseAuthFunctions(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // First: the client address (from the host's X-Forwarded-For) feeds rate limits and logs.
        app.UseForwardedHeaders();
        app.Use(SecurityHeaders);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        // After routing so preflights match the functions' endpoints; its headers are added as the
        // response starts, so error answers (401, 429, 503) carry them too.
        app.UseCors(CorsSetup.PolicyName);
        // After routing (it reads the endpoint's metadata), before the endpoints run.
        app.UseRateLimiter();
        app.UseMiddleware<AccessTokenMiddleware>();

        app.MapReadinessProbe();
        app.MapCleanupFunction();
        app.MapApiDocument();
        var api = app.MapGroup("/api");
        var authenticated = api.MapGroup("").WithMetadata(RequireAccessTokenMetadata.Instance);
        api.MapAuthEndpoints(authenticated);
        api.MapHealthEndpoints();
        api.MapResourceServerEndpoints();
        authenticated.MapProfileEndpoints();
        api.MapAccountEndpoints(authenticated);
        return app;
    }

    /// <summary>
    /// No response of an auth API may be cached (tokens, user data, errors alike): RFC 6749 §5.1, ASVS 14.3.2. The one
    /// exception is a success of an endpoint marked <see cref="PublicCacheMetadata"/> (the public JWKS).
    /// </summary>
    private static Task SecurityHeaders(HttpContext context, Func<Task> next)
    {
        context.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            var headers = context.Response.Headers;
            if (context.Response.StatusCode == StatusCodes.Status200OK && context.GetEndpoint()?.Metadata.GetMetadata<PublicCacheMetadata>() is { } cacheable)
            {
                headers.CacheControl = cacheable.CacheControl;
            }
            else
            {
                headers.CacheControl = "no-store";
                headers.Pragma = "no-cache";
            }
            headers.XContentTypeOptions = "nosniff";
            return Task.CompletedTask;
        }, context);
        return next();
    }
}
