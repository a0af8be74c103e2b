using System.Text.Json.Serialization;
using AuthFunctions.Storage;
using Azure;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Auth;

/// <summary>Settings section <c>Throttle</c>: per-account brute-force protection.</summary>
public sealed class ThrottleOptions
{
    public const string Section = "Throttle";

    /// <summary><c>Throttle__FreeAttempts</c>: consecutive failures allowed before delays start.</summary>
    public int FreeAttempts { get; set; } = 5;

    /// <summary><c>Throttle__BaseDelaySeconds</c>: the first delay; each further failure doubles it.</summary>
    public int BaseDelaySeconds { get; set; } = 1;

    /// <summary><c>Throttle__MaxDelaySeconds</c>: the longest single delay.</summary>
    public int MaxDelaySeconds { get; set; } = 900;

    /// <summary><c>Throttle__MaxFailuresPerHour</c>: NIST SP 800-63B §5.2.2 allows at most 100 consecutive failures per account.</summary>
    public int MaxFailuresPerHour { get; set; } = 100;
}

internal sealed class ThrottleOptionsValidator : IValidateOptions<ThrottleOptions>
{
    public ValidateOptionsResult Validate(string? name, ThrottleOptions options)
    {
        var failures = new List<string>();
        if (options.FreeAttempts is < 1 or > 20)
        {
            failures.Add("Throttle__FreeAttempts must be between 1 and 20.");
        }
        if (options.BaseDelaySeconds is < 1 or > 60)
        {
            failures.Add("Throttle__BaseDelaySeconds must be between 1 and 60.");
        }
        if (options.MaxDelaySeconds < options.BaseDelaySeconds || options.MaxDelaySeconds > 3600)
        {
            failures.Add("Throttle__MaxDelaySeconds must be at least the base delay and at most 3600.");
        }
        if (options.MaxFailuresPerHour is < 1 or > 100)
        {
            failures.Add("Throttle__MaxFailuresPerHour must be between 1 and 100 (NIST SP 800-63B).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Failure counters of one email address, beside its index row in the <c>emails</c> table.</summary>
public sealed record ThrottleEntity : ITableEntity
{
    public const string ThrottleRowKey = "throttle";

    public required string PartitionKey { get; init; }

    public string RowKey { get; init; } = ThrottleRowKey;

    public int ConsecutiveFailures { get; init; }

    public DateTimeOffset? LockedUntil { get; init; }

    public DateTimeOffset WindowStart { get; init; }

    public int WindowFailures { get; init; }
}

[JsonSerializable(typeof(ThrottleEntity))]
internal sealed partial class ThrottleJson : JsonSerializerContext;

public readonly record struct ThrottleState(TimeSpan? RetryAfter, bool HasFailures);

/// <summary>
/// Per-account brute-force protection (ASVS 6.3.1, NIST SP 800-63B §5.2.2), in Table Storage so it
/// holds across instances: after a few consecutive failures each further one costs a doubling
/// delay (answered 429 with Retry-After, without checking the password), and an hour holds at most
/// 100 failures. A success resets it, so the real user is never locked out for longer than the
/// current delay. Counted per email address whether or not an account exists, so a 429 does not
/// tell an attacker which emails are registered.
/// </summary>
public sealed class LoginThrottle(TableClientFactory tables, TimeProvider clock, IOptions<ThrottleOptions> options)
{
    private const int MaxOptimisticRetries = 8;
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private readonly TableClient _table = tables.Create("emails");

    public async Task<ThrottleState> CheckAsync(string email, CancellationToken cancellationToken)
    {
        var row = await _table.GetEntityIfExistsAsync(TableKey.Encode(email), ThrottleEntity.ThrottleRowKey, ThrottleJson.Default.ThrottleEntity, cancellationToken);
        if (row is null)
        {
            return new ThrottleState(null, false);
        }
        var now = clock.GetUtcNow();
        TimeSpan? wait = row.Value.LockedUntil is { } until && until > now ? until - now : null;
        return new ThrottleState(wait, row.Value.ConsecutiveFailures > 0);
    }

    /// <summary>Counts a failure; returns the delay now imposed, if any.</summary>
    public async Task<TimeSpan?> RecordFailureAsync(string email, CancellationToken cancellationToken)
    {
        string key = TableKey.Encode(email);
        var settings = options.Value;
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            var now = clock.GetUtcNow();
            var existing = await _table.GetEntityIfExistsAsync(key, ThrottleEntity.ThrottleRowKey, ThrottleJson.Default.ThrottleEntity, cancellationToken);
            var current = existing?.Value ?? new ThrottleEntity { PartitionKey = key, WindowStart = now };
            bool newWindow = now - current.WindowStart >= Window;
            int failures = current.ConsecutiveFailures + 1;
            int windowFailures = newWindow ? 1 : current.WindowFailures + 1;
            var windowStart = newWindow ? now : current.WindowStart;

            DateTimeOffset? lockedUntil = null;
            if (failures > settings.FreeAttempts)
            {
                double seconds = Math.Min(settings.MaxDelaySeconds, settings.BaseDelaySeconds * Math.Pow(2, Math.Min(30, failures - settings.FreeAttempts - 1)));
                lockedUntil = now + TimeSpan.FromSeconds(seconds);
            }
            if (windowFailures >= settings.MaxFailuresPerHour)
            {
                var windowEnd = windowStart + Window;
                lockedUntil = lockedUntil is { } l && l > windowEnd ? l : windowEnd;
            }

            var updated = current with { ConsecutiveFailures = failures, WindowFailures = windowFailures, WindowStart = windowStart, LockedUntil = lockedUntil };
            var result = existing is null
                ? await _table.AddEntityAsync(updated, ThrottleJson.Default.ThrottleEntity, cancellationToken)
                : await _table.UpdateEntityAsync(updated, existing.ETag, TableUpdateMode.Replace, ThrottleJson.Default.ThrottleEntity, cancellationToken);
            if (result.Succeeded)
            {
                return lockedUntil - now;
            }
        }
        throw new TableStorageException(412, "UpdateConditionNotSatisfied", "The failure counter kept changing.");
    }

    public async Task ResetAsync(string email, CancellationToken cancellationToken)
    {
        await _table.DeleteEntityAsync(TableKey.Encode(email), ThrottleEntity.ThrottleRowKey, ETag.All, cancellationToken);
    }
}
