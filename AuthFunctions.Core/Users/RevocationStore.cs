using System.Globalization;
using AuthFunctions.Storage;
using Azure.Data.Tables;

namespace AuthFunctions.Users;

public enum RevocationKind
{
    /// <summary>One session ended (logout of this session, session deletion, refresh-token reuse or expiry).</summary>
    Session,

    /// <summary>The user's session epoch moved on (logout everywhere or of the others, password change or reset); one session may be kept.</summary>
    Epoch,

    /// <summary>Every session of the user ended for good (account deletion).</summary>
    User,
}

/// <summary>One row of the revocation feed: what ended, and when (the writer's clock).</summary>
public sealed record Revocation(RevocationKind Kind, string UserId, string? SessionId, int Epoch, DateTimeOffset At)
{
    public static Revocation SessionEnded(string userId, string sessionId, DateTimeOffset at) => new(RevocationKind.Session, userId, sessionId, 0, at);

    public static Revocation EpochMoved(string userId, int epoch, string? keptSessionId, DateTimeOffset at) => new(RevocationKind.Epoch, userId, keptSessionId, epoch, at);

    public static Revocation UserEnded(string userId, DateTimeOffset at) => new(RevocationKind.User, userId, null, int.MaxValue, at);
}

/// <summary>
/// The <c>revocations</c> table: a time-ordered feed that every instance polls. PartitionKey is the UTC minute
/// of the row (<c>yyyyMMddHHmm</c>), RowKey the row's time in ticks (19 digits, so string order is time order)
/// plus a random suffix: "everything since t" is one range query over the partitions from t's minute on, and
/// old minutes are whole partitions to delete.
/// </summary>
public sealed class RevocationStore(StorageTables tables)
{
    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey"];
    private readonly StorageTable _feed = tables.Get("revocations");

    public static string Bucket(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);

    private static string TimeKey(DateTimeOffset at) => at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    public async Task AppendAsync(Revocation revocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(revocation);
        while (true)
        {
            var row = new TableEntity(Bucket(revocation.At), TimeKey(revocation.At) + "-" + Guid.NewGuid().ToString("N")[..12])
            {
                ["Kind"] = revocation.Kind.ToString(),
                ["UserId"] = revocation.UserId,
                ["SessionId"] = revocation.SessionId,
                ["Epoch"] = revocation.Epoch,
            };
            if (await _feed.InsertAsync(row, cancellationToken) != WriteOutcome.AlreadyExists)
            {
                return;
            }
        }
    }

    /// <summary>Every row written at or after <paramref name="since"/> (by the writers' clocks), in one range query.</summary>
    public async Task<IReadOnlyList<Revocation>> ReadSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        string filter = TableClient.CreateQueryFilter($"PartitionKey ge {Bucket(since)} and RowKey ge {TimeKey(since)}");
        var rows = new List<Revocation>();
        await foreach (var row in _feed.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            if (ToRevocation(row) is { } revocation)
            {
                rows.Add(revocation);
            }
        }
        return rows;
    }

    /// <summary>Deletes up to <paramref name="max"/> rows of the minutes wholly before <paramref name="before"/>; returns how many.</summary>
    public async Task<int> DeleteBeforeAsync(DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        string filter = TableClient.CreateQueryFilter($"PartitionKey lt {Bucket(before)}");
        var old = new List<(string PartitionKey, string RowKey)>();
        await foreach (var row in _feed.QueryAsync(filter, KeyColumns, maxPerPage: Math.Min(max, 1000), cancellationToken))
        {
            old.Add((row.PartitionKey, row.RowKey));
            if (old.Count == max)
            {
                break;
            }
        }
        await _feed.DeleteAllAsync(old, cancellationToken);
        return old.Count;
    }

    private static Revocation? ToRevocation(TableEntity row)
    {
        if (!Enum.TryParse<RevocationKind>(row.GetString("Kind"), out var kind) || row.GetString("UserId") is not { } userId ||
            !long.TryParse(row.RowKey.AsSpan(0, Math.Min(19, row.RowKey.Length)), NumberStyles.None, CultureInfo.InvariantCulture, out long ticks) ||
            ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return null;
        }
        return new Revocation(kind, userId, row.GetString("SessionId"), row.GetInt32("Epoch") ?? 0, new DateTimeOffset(ticks, TimeSpan.Zero));
    }
}
