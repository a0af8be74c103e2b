using AuthFunctions.Hosting;
using AuthFunctions.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthFunctions.Health;

public sealed record HealthResponse(string Status, string Storage);

public static class HealthEndpoints
{
    public static RouteGroupBuilder MapHealthEndpoints(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/health", Check).RequireRateLimiting(ClientRateLimiting.HealthPolicy);
        return api;
    }

    /// <summary>200 when the user store answers, 503 (Problem Details) when it does not.</summary>
    public static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> Check(HealthProbe probe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(probe);
        try
        {
            await probe.PingAsync(cancellationToken);
            return TypedResults.Ok(new HealthResponse("healthy", "reachable"));
        }
        catch (TableStorageException)
        {
            return Problems.StorageUnavailable();
        }
    }
}

/// <summary>Pings the users table (creating it on first use, as the store would).</summary>
public sealed class HealthProbe(TableClientFactory tables)
{
    private readonly TableClient _users = tables.Create("users");

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await _users.PingAsync(cancellationToken);
    }
}
