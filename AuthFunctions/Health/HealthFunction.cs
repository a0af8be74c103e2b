using AuthFunctions.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Http;

namespace AuthFunctions.Health;

public sealed record HealthResponse(string Status, string Storage);

public sealed class HealthFunction(HealthCache health)
{
    /// <summary>200 when the user store answers, 503 (Problem Details, <c>Retry-After</c>) when it does not. HEAD too, for load balancers and uptime probes.</summary>
    [Function("health")]
    [RateLimited(10)]
    [ProducesProblems(429, 503)]
    public async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> Check(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "options", Route = "health")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (await health.IsHealthyAsync(cancellationToken))
        {
            return TypedResults.Ok(new HealthResponse("healthy", "reachable"));
        }
        request.HttpContext.Response.Headers.RetryAfter = HttpResponseMiddleware.RetryAfterSeconds;
        return Problems.StorageUnavailable();
    }
}
