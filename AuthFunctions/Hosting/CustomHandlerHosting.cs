using System.Globalization;
using System.Net;

namespace AuthFunctions.Hosting;

/// <summary>
/// Where the app listens. Under the Azure Functions host (custom handler) the host sets
/// <c>FUNCTIONS_CUSTOMHANDLER_PORT</c> and forwards requests to 127.0.0.1 on that port; it is bound
/// in code so that a platform <c>ASPNETCORE_URLS</c> cannot win. Standalone, the usual ASP.NET Core
/// URL settings apply, defaulting to <c>http://localhost:7071</c> like <c>func start</c>.
/// </summary>
public static class CustomHandlerHosting
{
    public const string PortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";
    public const string DefaultUrl = "http://localhost:7071";

    public static WebApplicationBuilder ConfigureCustomHandlerHosting(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string? port = Environment.GetEnvironmentVariable(PortVariable);
        if (!string.IsNullOrEmpty(port))
        {
            if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int portNumber) || portNumber is < 1 or > 65535)
            {
                throw new InvalidOperationException($"{PortVariable} must be a TCP port number.");
            }
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, portNumber));
        }
        else if (string.IsNullOrEmpty(builder.Configuration["urls"]) &&
                 string.IsNullOrEmpty(builder.Configuration["http_ports"]) &&
                 string.IsNullOrEmpty(builder.Configuration["https_ports"]) &&
                 !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
        });
        return builder;
    }

    /// <summary>The Functions host probes <c>GET /</c> until it gets any answer before it forwards traffic.</summary>
    public static IEndpointRouteBuilder MapReadinessProbe(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", () => TypedResults.Ok()).ExcludeFromDescription();
        return endpoints;
    }
}
