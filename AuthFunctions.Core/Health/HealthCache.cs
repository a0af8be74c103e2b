using AuthFunctions.Storage;

namespace AuthFunctions.Health;

/// <summary>
/// The probe's last outcome, healthy or not, for <see cref="Lifetime"/> per instance, and at most one
/// probe in flight: callers that arrive during a probe share it. Monitors and load balancers poll
/// health, and so can anyone; without this every call would be a storage request.
/// </summary>
public sealed class HealthCache(HealthProbe probe, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private Task<bool>? _current;
    private DateTimeOffset _expires;

    public Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        Task<bool> outcome;
        lock (_lock)
        {
            // A probe that failed unexpectedly (not a storage outage) is not kept: the next caller probes again.
            if (_current is null || (_current.IsCompleted && (!_current.IsCompletedSuccessfully || clock.GetUtcNow() >= _expires)))
            {
                _current = ProbeAsync();
            }
            outcome = _current;
        }
        // One caller giving up does not cancel the probe the others wait for.
        return outcome.WaitAsync(cancellationToken);
    }

    private async Task<bool> ProbeAsync()
    {
        await Task.Yield();
        bool healthy;
        try
        {
            // Bounded by the storage client's own operation timeout.
            await probe.PingAsync(CancellationToken.None);
            healthy = true;
        }
        catch (TableStorageException)
        {
            healthy = false;
        }
        lock (_lock)
        {
            _expires = clock.GetUtcNow() + Lifetime;
        }
        return healthy;
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
