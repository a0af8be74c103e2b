using AuthFunctions;
using AuthFunctions.Hosting;
using AuthFunctions.Http;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Options;

// No watching of settings files: the app is configured by environment variables (README, Benchmarks).
var builder = FunctionsApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
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
builder.UseWhen<AccessTokenMiddleware>(context => FunctionCatalog.Instance.Find(context.FunctionDefinition.Name)?.RequiresAccessToken == true);

try
{
    await builder.Build().RunAsync();
    return 0;
}
catch (OptionsValidationException invalid)
{
    // A misconfigured instance says which settings to fix and exits with a plain failure code,
    // rather than ending as an unhandled exception (an abort, with a dump where dumps are on).
    foreach (string failure in invalid.Failures)
    {
        await Console.Error.WriteLineAsync($"AuthFunctions cannot start: {failure}");
    }
    return 1;
}
