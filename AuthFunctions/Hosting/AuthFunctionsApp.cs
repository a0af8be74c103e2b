using AuthFunctions.Storage;

namespace AuthFunctions.Hosting;

/// <summary>The app's table of contents: services, then middleware and endpoints. Tests build the same app.</summary>
public static class AuthFunctionsApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.ConfigureCustomHandlerHosting();
        builder.Services.AddTableStorage(builder.Configuration);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapReadinessProbe();
        return app;
    }
}
