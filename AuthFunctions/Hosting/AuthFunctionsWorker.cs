using AuthFunctions.Http;
using Microsoft.Azure.Functions.Worker.Builder;

namespace AuthFunctions.Hosting;

/// <summary>The worker's table of contents: services per feature, then the worker middleware in order. Program.cs runs it.</summary>
public static class AuthFunctionsWorker
{
    public static FunctionsApplicationBuilder CreateBuilder(string[] args)
    {
        // No watching of settings files: the app is configured by environment variables, and a reloading file makes
        // the host builder watch its content root's whole tree at start-up (README, Benchmarks). The Functions builder
        // does not pass its arguments to the host settings it reads this switch from, so it is set where it looks first.
        Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        builder.ConfigureLogLevels();
        builder.Services.AddAuthCore(builder.Configuration);
        builder.Services.AddHttpFeatures(builder.Configuration);
        builder.ConfigureTelemetry();

        // Outermost: headers on every answer and the 503 for storage failures; CORS answers preflights before any limit
        // counts them; the per-client limit runs before the token check, so bad tokens are limited too.
        builder.UseMiddleware<HttpResponseMiddleware>();
        builder.UseMiddleware<StaticSiteCorsMiddleware>();
        builder.UseMiddleware<ClientRateLimitMiddleware>();
        builder.UseWhen<AccessTokenMiddleware>(context => FunctionCatalog.For(context.FunctionDefinition)?.RequiresAccessToken == true);
        return builder;
    }
}
