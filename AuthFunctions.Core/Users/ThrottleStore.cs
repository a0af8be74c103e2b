using System.Globalization;
using AuthFunctions.Storage;
using Azure;
using Azure.Data.Tables;

namespace AuthFunctions.Users;

/// <summary>A password check in flight: it holds a place in its pool until settled or expired.</summary>
public readonly record struct ThrottleTicket(string Id, DateTimeOffset ExpiresAt);

/// <summary>One throttle pool: settled failures, the hour's window, the delay in force, and the checks in flight.</summary>
public sealed record ThrottlePool(int Failures, int WindowFailures, DateTimeOffset WindowStart, DateTimeOffset? LockedUntil, IReadOnlyList<ThrottleTicket> Tickets)
{
    public static ThrottlePool Empty(DateTimeOffset now) => new(0, 0, now, null, []);
}

/// <summary>A pool as read, with the version a conditional write needs (null: no row yet).</summary>
public readonly record struct StoredThrottlePool(ThrottlePool Pool, ETag? Version);

/// <summary>
/// The throttle counters: one row per pool beside the email's index row in the <c>emails</c> table (partition = the
/// encoded email, row key = the pool's name). Every write is conditional on the version read (or an insert), so
/// concurrent writers on any instance serialize on the row.
/// </summary>
public sealed class ThrottleStore(StorageTables tables)
{
    private readonly StorageTable _table = tables.Get("emails");

    /// <summary>The pool now; tickets past their expiry are left out.</summary>
    public async Task<StoredThrottlePool> GetAsync(string email, string pool, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var existing = await _table.GetAsync(TableKey.Encode(email), pool, cancellationToken);
        return existing is { } row ? new(Read(row.Entity, now), row.ETag) : new(ThrottlePool.Empty(now), null);
    }

    /// <summary>Writes the pool if nobody changed it since <paramref name="version"/> was read (an insert when there was no row).</summary>
    public async Task<bool> TryWriteAsync(string email, string pool, ThrottlePool state, ETag? version, CancellationToken cancellationToken)
    {
        var row = ToRow(TableKey.Encode(email), pool, state);
        var written = version is { } etag
            ? await _table.UpdateAsync(row, etag, TableUpdateMode.Replace, cancellationToken)
            : await _table.InsertAsync(row, cancellationToken);
        return written == WriteOutcome.Done;
    }

    public async Task DeleteAsync(string email, string pool, CancellationToken cancellationToken) =>
        await _table.DeleteAsync(TableKey.Encode(email), pool, cancellationToken: cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="max"/> pools whose name starts with <paramref name="poolPrefix"/>, untouched since
    /// <paramref name="idleSince"/>, that <paramref name="idle"/> finds with nothing left to enforce; each delete is
    /// conditional on the row read, so a pool that just changed stays.
    /// </summary>
    public async Task<int> DeleteIdleAsync(string poolPrefix, DateTimeOffset idleSince, DateTimeOffset now, Func<ThrottlePool, bool> idle, int max, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(idle);
        string filter = TableClient.CreateQueryFilter($"RowKey ge {poolPrefix} and RowKey lt {poolPrefix + "~"} and WindowStart lt {idleSince}");
        int deleted = 0;
        await foreach (var row in _table.QueryAsync(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken))
        {
            if (idle(Read(row, now)) &&
                await _table.DeleteAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken) == WriteOutcome.Done &&
                ++deleted == max)
            {
                break;
            }
        }
        return deleted;
    }

    private static ThrottlePool Read(TableEntity row, DateTimeOffset now)
    {
        var tickets = new List<ThrottleTicket>();
        foreach (var entry in (row.GetString("Pending") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split(':');
            if (parts.Length == 2 && long.TryParse(parts[1], CultureInfo.InvariantCulture, out long expires) &&
                DateTimeOffset.FromUnixTimeMilliseconds(expires) > now)
            {
                tickets.Add(new ThrottleTicket(parts[0], DateTimeOffset.FromUnixTimeMilliseconds(expires)));
            }
        }
        return new ThrottlePool(row.GetInt32("ConsecutiveFailures") ?? 0, row.GetInt32("WindowFailures") ?? 0,
            row.GetTime("WindowStart") ?? now, row.GetTime("LockedUntil"), tickets);
    }

    private static TableEntity ToRow(string key, string pool, ThrottlePool state) => new(key, pool)
    {
        ["ConsecutiveFailures"] = state.Failures,
        ["WindowFailures"] = state.WindowFailures,
        ["WindowStart"] = state.WindowStart,
        ["LockedUntil"] = state.LockedUntil,
        ["Pending"] = string.Join(' ', state.Tickets.Select(t => $"{t.Id}:{t.ExpiresAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}")),
    };
}
