using AuthFunctions.Storage;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Throttling;

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

/// <summary>The outcome of reserving a password check: a ticket to settle, or how long to wait.</summary>
public readonly record struct ThrottleReservation(string? Ticket, TimeSpan? RetryAfter)
{
    public bool Allowed => Ticket is not null;
}

/// <summary>
/// Per-account brute-force protection (ASVS 6.3.1, NIST SP 800-63B §5.2.2), in Table Storage so it holds
/// across instances. A password check is reserved before the hash is computed: the reservation is an
/// ETag-conditioned write (or an insert) of a pending ticket, and a pool admits only as many pending checks
/// as it has free attempts left. So concurrent guesses on any number of instances serialize on one row, and
/// at most <c>Throttle__FreeAttempts</c> passwords are checked before the doubling delays start (answered
/// 429 with Retry-After, without checking the password); an hour holds at most <c>Throttle__MaxFailuresPerHour</c>
/// failures. A request that finds the pool's free attempts all in flight waits briefly for them to settle
/// (so a burst of correct logins is served), then gets 429. A success resets the pool.
/// Counters are kept per pool: the account's shared "untrusted" pool (every client without a device
/// token; counted per email whether or not an account exists, so a 429 tells nothing), and one pool per
/// trusted device or session (OWASP's device-cookie defence), so an attacker can exhaust only the
/// untrusted pool while the owner's known browser still logs in.
/// </summary>
public sealed class LoginThrottle(ThrottleStore store, TimeProvider clock, IOptions<ThrottleOptions> options)
{
    public const string UntrustedPool = "throttle";
    private const int MaxOptimisticRetries = 16;
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);

    // A ticket not settled in this long belongs to a request that died; it stops holding its place.
    private static readonly TimeSpan TicketLifetime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxQueueWait = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan QueuePoll = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan BusyRetryAfter = TimeSpan.FromSeconds(1);

    public static string DevicePool(string deviceId) => "throttle-device-" + deviceId;

    public static string SessionPool(string sessionId) => "throttle-session-" + sessionId;

    /// <summary>Reserves one password check in <paramref name="pool"/> if the pool allows one now (waiting briefly while its free attempts are in flight).</summary>
    public async Task<ThrottleReservation> TryReserveAsync(string email, string pool, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        string ticket = Guid.NewGuid().ToString("N");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        for (int attempt = 0; attempt < MaxOptimisticRetries || waited.Elapsed < MaxQueueWait; attempt++)
        {
            var now = clock.GetUtcNow();
            var (state, version) = await store.GetAsync(email, pool, now, cancellationToken);
            if (state.LockedUntil is { } until && until > now)
            {
                return new ThrottleReservation(null, until - now);
            }
            // Free attempts left, counting the checks already in flight; after the delay, one probe at a time.
            int capacity = Math.Max(1, settings.FreeAttempts - state.Failures);
            if (state.Tickets.Count >= capacity)
            {
                if (waited.Elapsed >= MaxQueueWait)
                {
                    return new ThrottleReservation(null, BusyRetryAfter);
                }
                await Task.Delay(QueuePoll, cancellationToken);
                continue;
            }
            var reserved = state with { Tickets = [.. state.Tickets, new ThrottleTicket(ticket, now + TicketLifetime)] };
            if (await store.TryWriteAsync(email, pool, reserved, version, cancellationToken))
            {
                return new ThrottleReservation(ticket, null);
            }
        }
        // Still losing the race after many rounds: so many concurrent attempts on one account are an attack. Fail closed.
        return new ThrottleReservation(null, BusyRetryAfter);
    }

    /// <summary>The reserved check failed: count it (starting or lengthening a delay). Returns the delay it started, if any.</summary>
    public async Task<TimeSpan?> RecordFailureAsync(string email, string pool, string ticket, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            var now = clock.GetUtcNow();
            var (state, version) = await store.GetAsync(email, pool, now, cancellationToken);
            bool newWindow = now - state.WindowStart >= Window;
            var windowStart = newWindow ? now : state.WindowStart;
            int windowFailures = (newWindow ? 0 : state.WindowFailures) + 1;
            int failures = state.Failures + 1;

            DateTimeOffset? lockedUntil = null;
            if (failures >= settings.FreeAttempts)
            {
                double seconds = Math.Min(settings.MaxDelaySeconds, settings.BaseDelaySeconds * Math.Pow(2, Math.Min(30, failures - settings.FreeAttempts)));
                lockedUntil = now + TimeSpan.FromSeconds(seconds);
            }
            if (windowFailures >= settings.MaxFailuresPerHour)
            {
                var windowEnd = windowStart + Window;
                lockedUntil = lockedUntil is { } l && l > windowEnd ? l : windowEnd;
            }
            var updated = state with
            {
                Failures = failures, WindowFailures = windowFailures, WindowStart = windowStart, LockedUntil = lockedUntil,
                Tickets = [.. state.Tickets.Where(t => t.Id != ticket)],
            };
            if (await store.TryWriteAsync(email, pool, updated, version, cancellationToken))
            {
                return lockedUntil - now;
            }
        }
        throw new TableStorageException(412, "UpdateConditionNotSatisfied", "The failure counter kept changing.");
    }

    /// <summary>A correct password: the pool starts over (whatever else was in flight meanwhile).</summary>
    public async Task ResetAsync(string email, string pool, CancellationToken cancellationToken)
    {
        await store.DeleteAsync(email, pool, cancellationToken);
    }

    /// <summary>
    /// Deletes up to <paramref name="max"/> counters with nothing left to enforce: no delay in force, no
    /// check in flight, and no failure within the last hour's window (the NIST bound). Each delete is
    /// conditional on the row read, so a counter that just changed stays.
    /// </summary>
    public Task<int> DeleteStaleAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) =>
        store.DeleteIdleAsync(UntrustedPool, now - Window, now,
            pool => pool.Tickets.Count == 0 && (pool.LockedUntil is not { } until || until <= now), max, cancellationToken);
}
