using AuthFunctions.Auth;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AuthFunctions.Hosting;

/// <summary>
/// <c>GET /api/openapi.json</c>: the OpenAPI document generated from the endpoints themselves (their typed request
/// bodies, result unions and Problem Details metadata), with the bearer scheme on every protected operation.
/// </summary>
public static class ApiDocument
{
    public const string Route = "/api/openapi.json";
    private const string BearerScheme = "bearer";

    public static IServiceCollection AddApiDocument(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "AuthFunctions",
                    Version = "1",
                    Description = "Email + password authentication for static sites. Every error is RFC 9457 Problem Details.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "An access token from login or refresh (RFC 6750).",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<RequireAccessTokenMetadata>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                }
                return Task.CompletedTask;
            });
        });

    public static IEndpointRouteBuilder MapApiDocument(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(Route);
        return endpoints;
    }
}
