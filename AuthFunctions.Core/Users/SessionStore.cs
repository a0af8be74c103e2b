using AuthFunctions.Storage;
using Azure.Data.Tables;

namespace AuthFunctions.Users;

/// <summary>Session rows, kept in their user's partition of the <c>users</c> table.</summary>
public sealed class SessionStore(StorageTables tables)
{
    private static readonly string[] StateColumns = ["PartitionKey", "RowKey", "Email", "FullName", "CreatedAt", "LastLoginAt", "SessionEpoch", "EmailVerified", "Epoch"];
    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey"];
    /// <summary>
    /// The most a protected call waits for its session read (<see cref="GetStateAsync"/>) before it answers 503 with
    /// Retry-After. The read is one two-row query of one partition, milliseconds when storage is well; when storage
    /// hangs, or is out of this instance's reach, every second spent waiting is a second of the user's outage.
    /// </summary>
    public static readonly TimeSpan StateReadTimeout = TimeSpan.FromSeconds(2);

    private readonly StorageTable _users = tables.Get("users");
    private readonly StorageTable _usersForState = tables.Get("users").WithOperationTimeout(StateReadTimeout);

    /// <summary>
    /// Stores a new session and stamps the login on the profile, in one transaction of the user's partition: the merge
    /// needs the profile row to exist, so a login racing the account's deletion stores nothing once the profile is gone
    /// (false), and a session stored before that is in the partition the deletion sweeps after it.
    /// </summary>
    public async Task<bool> CreateAsync(Session session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var outcome = await _users.TransactAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateMerge, UserRows.LoginStamp(session.UserId, session.CreatedAt), Azure.ETag.All),
                new TableTransactionAction(TableTransactionActionType.Add, UserRows.ToRow(session)),
            ], cancellationToken);
        return outcome switch
        {
            WriteOutcome.Done => true,
            WriteOutcome.NotFound => false,
            // Session ids are random (128 bits): a row already there is this very write, committed by an attempt whose
            // answer was lost and then retried by the SDK, not another session's.
            _ when await _users.GetAsync(session.UserId, UserRows.SessionRowKey(session.Id), cancellationToken) is not null => true,
            _ => throw new InvalidOperationException("The session's transaction failed without a reason."),
        };
    }

    public async Task<Session?> GetAsync(string userId, string sessionId, CancellationToken cancellationToken)
    {
        var row = await _users.GetAsync(userId, UserRows.SessionRowKey(sessionId), cancellationToken);
        return row is null ? null : UserRows.ToSession(row.Value.Entity);
    }

    /// <summary>Replaces a session if nobody changed it since it was read (concurrent refreshes: exactly one wins).</summary>
    public async Task<bool> TryReplaceAsync(Session session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        return await _users.UpdateAsync(UserRows.ToRow(session), session.Version, TableUpdateMode.Replace, cancellationToken) == WriteOutcome.Done;
    }

    /// <summary>Carries a session into a new epoch (it survives a "log out others" or a password change made from it).</summary>
    public async Task MoveToEpochAsync(string userId, string sessionId, int epoch, CancellationToken cancellationToken)
    {
        var patch = new TableEntity(userId, UserRows.SessionRowKey(sessionId)) { ["Epoch"] = epoch };
        await _users.UpdateAsync(patch, Azure.ETag.All, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>Records a fresh authentication at a linked provider on a session; false when the session is gone (nothing written).</summary>
    public async Task<bool> MarkReauthenticatedAsync(string userId, string sessionId, DateTimeOffset authenticatedAt, CancellationToken cancellationToken)
    {
        var patch = new TableEntity(userId, UserRows.SessionRowKey(sessionId)) { ["ReauthenticatedAt"] = authenticatedAt };
        return await _users.UpdateAsync(patch, Azure.ETag.All, TableUpdateMode.Merge, cancellationToken) == WriteOutcome.Done;
    }

    public async Task<bool> DeleteAsync(string userId, string sessionId, CancellationToken cancellationToken) =>
        await _users.DeleteAsync(userId, UserRows.SessionRowKey(sessionId), cancellationToken: cancellationToken) == WriteOutcome.Done;

    public async Task<IReadOnlyList<Session>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        var sessions = new List<Session>();
        await foreach (var row in _users.QueryAsync(UserRows.SessionRowsFilter(userId), cancellationToken: cancellationToken))
        {
            sessions.Add(UserRows.ToSession(row));
        }
        return sessions;
    }

    /// <summary>The user's profile (null if the user is gone) and every session row, in one single-partition query.</summary>
    public async Task<(UserProfile? Profile, IReadOnlyList<Session> Sessions)> ListWithProfileAsync(string userId, CancellationToken cancellationToken)
    {
        UserProfile? profile = null;
        var all = new List<Session>();
        await foreach (var row in _users.QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {userId}"), cancellationToken: cancellationToken))
        {
            if (row.RowKey == UserRows.ProfileRowKey)
            {
                profile = UserRows.ToProfile(row);
            }
            else if (UserRows.IsSessionRow(row.RowKey))
            {
                all.Add(UserRows.ToSession(row));
            }
        }
        return (profile, all);
    }

    /// <summary>
    /// Deletes the session rows an epoch change ended (their refresh-token hashes with them), but never a
    /// session already in <paramref name="currentEpoch"/>: a login that raced the logout keeps its session.
    /// </summary>
    public async Task DeleteEndedAsync(string userId, int currentEpoch, CancellationToken cancellationToken)
    {
        var ended = (await ListAsync(userId, cancellationToken))
            .Where(session => session.Epoch < currentEpoch)
            .Select(session => (userId, UserRows.SessionRowKey(session.Id)))
            .ToList();
        await _users.DeleteAllAsync(ended, cancellationToken);
    }

    /// <summary>Deletes up to <paramref name="max"/> sessions (of any user) whose refresh token expired before <paramref name="now"/>; returns how many.</summary>
    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        string filter = TableClient.CreateQueryFilter(
            $"RowKey gt {UserRows.SessionRowKeyPrefix} and RowKey lt {UserRows.SessionRowKeyPrefix + "~"} and RefreshExpiresAt lt {now}");
        var expired = new List<(string PartitionKey, string RowKey)>();
        await foreach (var row in _users.QueryAsync(filter, KeyColumns, maxPerPage: Math.Min(max, 1000), cancellationToken))
        {
            expired.Add((row.PartitionKey, row.RowKey));
            if (expired.Count == max)
            {
                break;
            }
        }
        await _users.DeleteAllAsync(expired, cancellationToken);
        return expired.Count;
    }

    /// <summary>The user's profile and one session's epoch, in one round trip.</summary>
    public async Task<SessionState> GetStateAsync(string userId, string sessionId, CancellationToken cancellationToken)
    {
        string sessionRow = UserRows.SessionRowKey(sessionId);
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {userId} and (RowKey eq {UserRows.ProfileRowKey} or RowKey eq {sessionRow})");
        UserProfile? profile = null;
        int? epoch = null;
        await foreach (var row in _usersForState.QueryAsync(filter, StateColumns, cancellationToken: cancellationToken))
        {
            if (row.RowKey == UserRows.ProfileRowKey)
            {
                profile = UserRows.ToProfile(row);
            }
            else if (row.RowKey == sessionRow)
            {
                epoch = row.GetInt32("Epoch");
            }
        }
        return new SessionState(profile, epoch);
    }
}
