using AuthFunctions.Storage;
using AuthFunctions.Users;

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

/// <summary>The cheapest call that proves the user store answers (see <see cref="UserStore.PingAsync"/>).</summary>
public sealed class HealthProbe(UserStore users)
{
    public Task PingAsync(CancellationToken cancellationToken) => users.PingAsync(cancellationToken);
}
