using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace ResourceApi;

/// <summary>Settings section <c>AuthFunctions</c> (environment variables <c>AuthFunctions__JwksUrl</c>, …).</summary>
public sealed record AuthFunctionsSettings(Uri JwksUrl, string Issuer, string Audience);

/// <summary>A service of its own that trusts AuthFunctions' access tokens, knowing only its JWKS URL, issuer and audience.</summary>
public static class ResourceApiApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var settings = ReadSettings(builder.Configuration.GetSection("AuthFunctions"));

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
        {
            // No OIDC discovery: the keys come from the JWKS URL alone. A token whose kid is not in the cached set
            // makes the manager fetch the set again (at most every RefreshInterval), which is how a key rotation
            // reaches this service; otherwise the set is refetched every AutomaticRefreshInterval.
            options.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                settings.JwksUrl.ToString(), new JwksRetriever(settings.Issuer), new HttpDocumentRetriever { RequireHttps = !settings.JwksUrl.IsLoopback })
            {
                AutomaticRefreshInterval = TimeSpan.FromMinutes(10),
                RefreshInterval = TimeSpan.FromSeconds(30),
            };
            options.MapInboundClaims = false;
            options.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = settings.Issuer,
                ValidAudience = settings.Audience,
                // Only what AuthFunctions issues: ES256 access tokens (RFC 8725 §3.1, RFC 9068 §4).
                ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                ValidTypes = ["at+jwt", "application/at+jwt"],
                ClockSkew = TimeSpan.FromSeconds(30),
                NameClaimType = "email",
            };
        });
        builder.Services.AddAuthorization();

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/orders", Orders).RequireAuthorization();
        return app;
    }

    /// <summary>The caller's orders: here just who the token says the caller is.</summary>
    public static IResult Orders(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return Results.Ok(new { user_id = user.FindFirstValue("sub"), email = user.Identity?.Name, orders = Array.Empty<object>() });
    }

    /// <summary>Defaults: AuthFunctions running locally (<c>scripts/run</c>) with its default issuer and audience.</summary>
    private static AuthFunctionsSettings ReadSettings(IConfigurationSection section)
    {
        if (!Uri.TryCreate(section["JwksUrl"] ?? "http://localhost:7071/api/.well-known/jwks.json", UriKind.Absolute, out var jwksUrl))
        {
            throw new InvalidOperationException("AuthFunctions__JwksUrl must be the absolute URL of AuthFunctions' /api/.well-known/jwks.json.");
        }
        return new AuthFunctionsSettings(jwksUrl, section["Issuer"] ?? "authfunctions", section["Audience"] ?? "authfunctions-clients");
    }
}
