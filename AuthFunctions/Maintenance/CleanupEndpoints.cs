using AuthFunctions.Http;
using System.Net;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthFunctions.Maintenance;

/// <summary>The host's answer format for a custom handler's non-HTTP trigger (its own PascalCase names, not the API's snake_case).</summary>
public sealed record InvocationResponse(
    [property: JsonPropertyName("Outputs")] IReadOnlyDictionary<string, string> Outputs,
    [property: JsonPropertyName("Logs")] IReadOnlyList<string> Logs,
    [property: JsonPropertyName("ReturnValue")] string? ReturnValue);

/// <summary>
/// The <c>cleanup</c> timer function. A custom handler receives a timer trigger as a POST to
/// <c>/cleanup</c> (the function's name, outside <c>/api</c>) with the invocation payload, and answers the
/// invocation response. Only the host may call it: behind the host it is not an HTTP route at all, and
/// standalone it answers only callers on this machine.
/// </summary>
public static class CleanupEndpoints
{
    public static IEndpointRouteBuilder MapCleanupFunction(this IEndpointRouteBuilder app)
    {
        app.MapPost("/cleanup", Run).ExcludeFromDescription();
        return app;
    }

    public static async Task<Results<Ok<InvocationResponse>, ProblemHttpResult>> Run(HttpContext context, CleanupService cleanup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Connection.RemoteIpAddress is not { } caller || !IPAddress.IsLoopback(caller))
        {
            return TypedResults.Problem("Not found.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
        var report = await cleanup.RunAsync(cancellationToken);
        return TypedResults.Ok(new InvocationResponse(new Dictionary<string, string>(), [report.ToString()], null));
    }
}
