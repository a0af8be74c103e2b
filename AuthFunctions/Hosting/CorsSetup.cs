using AuthFunctions.Http;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Hosting;

/// <summary>Settings section <c>Cors</c>: which static sites may call the API from a browser.</summary>
public sealed class StaticSiteCorsOptions
{
    public const string Section = "Cors";

    /// <summary>
    /// <c>Cors__AllowedOrigins</c>: comma-separated origins (<c>https://app.example.com</c>). Empty
    /// (the default) adds no CORS headers, which is right on Azure, where the Functions host answers
    /// CORS from <c>siteConfig.cors</c> before the app sees the request.
    /// </summary>
    public string AllowedOrigins { get; set; } = "";

    internal string[] Origins => AllowedOrigins.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

internal sealed class StaticSiteCorsOptionsValidator : IValidateOptions<StaticSiteCorsOptions>
{
    public ValidateOptionsResult Validate(string? name, StaticSiteCorsOptions options)
    {
        foreach (var origin in options.Origins)
        {
            // An origin is scheme://host[:port] and nothing else; "*" is refused outright.
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") ||
                uri.GetLeftPart(UriPartial.Authority) != origin.TrimEnd('/') || origin.Contains('*', StringComparison.Ordinal))
            {
                return ValidateOptionsResult.Fail($"Cors__AllowedOrigins: '{origin}' is not an origin like https://app.example.com (no paths, no wildcards).");
            }
        }
        return ValidateOptionsResult.Success;
    }
}

public static class CorsSetup
{
    public const string PolicyName = "static-sites";

    public static IServiceCollection AddStaticSiteCors(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StaticSiteCorsOptions>().Bind(configuration.GetSection(StaticSiteCorsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StaticSiteCorsOptions>, StaticSiteCorsOptionsValidator>();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<StaticSiteCorsOptions>>((cors, settings) => cors.AddPolicy(PolicyName, policy => policy
                .WithOrigins([.. settings.Value.Origins.Select(o => o.TrimEnd('/'))])
                .WithMethods("GET", "POST", "PATCH", "DELETE")
                .WithHeaders("Authorization", "Content-Type")
                // Bearer tokens, not cookies: browsers send no credentials, so none are allowed (ASVS 3.4.x).
                .DisallowCredentials()
                // Scripts may read the challenge and the back-off of error answers.
                .WithExposedHeaders("WWW-Authenticate", "Retry-After")
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        return services;
    }
}

/// <summary>
/// CORS for static sites calling the functions from a browser, when <c>Cors__AllowedOrigins</c> names them (local runs;
/// on Azure leave it empty and let <c>siteConfig.cors</c> answer: one layer only). Every function declares OPTIONS so the
/// host routes preflights here: a preflight is answered 204 (with the CORS headers when the origin is allowed) and never
/// reaches the function; any other OPTIONS is 405. Other requests get the headers as the response starts, so error
/// answers (401, 429, 503) carry them too.
/// </summary>
public sealed class StaticSiteCorsMiddleware(ICorsService cors, ICorsPolicyProvider policies) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.GetHttpContext() is not { } http)
        {
            await next(context);
            return;
        }
        bool isOptions = HttpMethods.IsOptions(http.Request.Method);
        if (http.Request.Headers.Origin.Count > 0 && await policies.GetPolicyAsync(http, CorsSetup.PolicyName) is { } policy)
        {
            var result = cors.EvaluatePolicy(http, policy);
            cors.ApplyResult(result, http.Response);
            if (result.IsPreflightRequest)
            {
                context.Answer(TypedResults.NoContent());
                return;
            }
        }
        if (isOptions)
        {
            http.Response.Headers.Allow = string.Join(", ", FunctionCatalog.For(context.FunctionDefinition)?.Methods ?? []);
            context.Answer(TypedResults.Problem("OPTIONS answers CORS preflights only.", statusCode: StatusCodes.Status405MethodNotAllowed, title: "Method not allowed"));
            return;
        }
        await next(context);
    }
}
