using System.Text.Json;
using System.Text.Json.Nodes;
using AuthFunctions.Http;
using Microsoft.Azure.Functions.Worker.Http;

namespace AuthFunctions.Hosting;

/// <summary>
/// <c>GET /api/openapi.json</c>: the OpenAPI document of the HTTP functions, generated once from their own attributes
/// (trigger route and methods, <see cref="RequireAccessTokenAttribute"/>, <see cref="AcceptsBodyAttribute"/>,
/// <see cref="ProducesProblemsAttribute"/> and the result union each returns): the functions are the only source.
/// </summary>
public static class ApiDocument
{
    private static readonly Lazy<string> Document = new(() => ApiDocumentWriter.Write(FunctionCatalog.Instance).ToJsonString(new JsonSerializerOptions { WriteIndented = false }));

    [Function("openapi")]
    public static IResult Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", "options", Route = "openapi.json")] HttpRequest request) =>
        TypedResults.Text(Document.Value, "application/json; charset=utf-8");
}

/// <summary>Builds the OpenAPI 3.1 document from a <see cref="FunctionCatalog"/>.</summary>
public static class ApiDocumentWriter
{
    public static JsonObject Write(FunctionCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var paths = new JsonObject();
        // The document describes the API, not itself.
        foreach (var function in catalog.All.Where(f => f.Method.DeclaringType != typeof(ApiDocument)))
        {
            foreach (string method in function.Methods.Where(m => m != "OPTIONS"))
            {
                string path = "/api/" + function.RouteFor(method);
                var item = paths[path] as JsonObject ?? new JsonObject();
                paths[path] = item;
                item[method.ToLowerInvariant()] = Operation(function, method);
            }
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.1",
            ["info"] = new JsonObject
            {
                ["title"] = "AuthFunctions",
                ["version"] = "1",
                ["description"] = "Email + password authentication for static sites. Every error is RFC 9457 Problem Details.",
            },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject
                {
                    ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer", ["bearerFormat"] = "JWT", ["description"] = "An access token from login or refresh (RFC 6750)." },
                },
            },
        };
    }

    private static JsonObject Operation(HttpFunction function, string method)
    {
        var operation = new JsonObject { ["operationId"] = function.Methods.Count(m => m != "OPTIONS") > 1 ? $"{function.Name}-{method.ToLowerInvariant()}" : function.Name };
        if (function.RequiresAccessToken)
        {
            operation["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() });
        }
        var routeParameters = function with { Route = function.RouteFor(method) };
        if (routeParameters.RouteParameters.Count > 0)
        {
            operation["parameters"] = new JsonArray([.. routeParameters.RouteParameters.Select(p => (JsonNode)new JsonObject
            {
                ["name"] = p, ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" },
            })]);
        }
        if (function.BodyFor(method) is { } body)
        {
            var content = new JsonObject();
            foreach (string type in body.ContentTypes)
            {
                content[type] = new JsonObject { ["schema"] = ApiSchemas.For(body.Type) };
            }
            operation["requestBody"] = new JsonObject { ["required"] = true, ["content"] = content };
        }
        var responses = new JsonObject();
        foreach (var (status, type) in function.SuccessesFor(method))
        {
            responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = type is null
                ? new JsonObject { ["description"] = "Success" }
                : new JsonObject { ["description"] = "Success", ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = ApiSchemas.For(type) } } };
        }
        foreach (int status in function.ProblemsFor(method))
        {
            responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["description"] = "Problem Details (RFC 9457)",
                ["content"] = new JsonObject { ["application/problem+json"] = new JsonObject { ["schema"] = ApiSchemas.ProblemDetails() } },
            };
        }
        operation["responses"] = responses;
        return operation;
    }
}
