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
        // HEAD too, for load balancers and uptime probes; Kestrel sends HEAD answers without a body.
        api.MapMethods("/health", [HttpMethods.Get, HttpMethods.Head], Check);
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

/// <summary>Reads at most one row of the users table: the cheapest call that proves the store answers (and creates the table on first use, as the store would).</summary>
public sealed class HealthProbe(StorageTables tables)
{
    private static readonly string[] KeysOnly = ["PartitionKey"];
    private readonly StorageTable _users = tables.Get("users");

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await foreach (var _ in _users.QueryAsync(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {""}"), KeysOnly, maxPerPage: 1, cancellationToken))
        {
            break;
        }
    }
}
