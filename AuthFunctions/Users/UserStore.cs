using AuthFunctions.Auth;
using AuthFunctions.Storage;
using Azure;

namespace AuthFunctions.Users;

public enum RegisterStatus
{
    Created,
    EmailTaken,
}

public readonly record struct RegisterOutcome(RegisterStatus Status, UserEntity? User);

/// <summary>What the revocation check needs, from one single-partition query.</summary>
public readonly record struct SessionState(UserPartitionRow? Profile, UserPartitionRow? Session)
{
    /// <summary>The user exists, the session exists (ended sessions are deleted) and belongs to the user's current epoch.</summary>
    public bool IsLive => Profile is not null && Session is not null && Session.Epoch == Profile.SessionEpoch;
}

/// <summary>Users, their email index and their sessions in Table Storage. Endpoints see outcomes, never Table status codes.</summary>
public sealed partial class UserStore
{
    // An index row whose user row never appeared (the writer died between the two inserts) is
    // reclaimed by the next registration of that email after this long.
    private static readonly TimeSpan OrphanAge = TimeSpan.FromSeconds(30);
    private const int MaxOptimisticRetries = 8;

    private readonly TableClient _users;
    private readonly TableClient _emails;
    private readonly TimeProvider _clock;
    private readonly ILogger<UserStore> _logger;
    private readonly RevocationCache _revocations;

    public UserStore(TableClientFactory tables, TimeProvider clock, RevocationCache revocations, ILogger<UserStore> logger)
    {
        _revocations = revocations;
        ArgumentNullException.ThrowIfNull(tables);
        _users = tables.Create("users");
        _emails = tables.Create("emails");
        _clock = clock;
        _logger = logger;
    }

    public async Task<RegisterOutcome> RegisterAsync(string email, string passwordHash, string? fullName, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var user = new UserEntity
        {
            PartitionKey = Guid.NewGuid().ToString("N"),
            Email = email,
            FullName = fullName,
            PasswordHash = passwordHash,
            CreatedAt = now,
        };
        var index = new EmailIndexEntity(TableKey.Encode(email), "", user.Id, now);

        // The insert of the index row is the atomic claim on the email: of any number of concurrent
        // registrations exactly one gets Success.
        var claim = await _emails.AddEntityAsync(index, UserStorageJson.Default.EmailIndexEntity, cancellationToken);
        if (claim.Status == TableWriteStatus.Conflict && !await TryReclaimOrphanAsync(index, cancellationToken))
        {
            return new RegisterOutcome(RegisterStatus.EmailTaken, null);
        }

        try
        {
            await _users.AddEntityAsync(user, UserStorageJson.Default.UserEntity, cancellationToken);
        }
        catch (Exception)
        {
            // Leave no half-written registration behind; a crash before this point is healed by TryReclaimOrphanAsync.
            await _emails.DeleteEntityAsync(index.PartitionKey, index.RowKey, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return new RegisterOutcome(RegisterStatus.Created, user);
    }

    private async Task<bool> TryReclaimOrphanAsync(EmailIndexEntity claim, CancellationToken cancellationToken)
    {
        var existing = await _emails.GetEntityIfExistsAsync(claim.PartitionKey, claim.RowKey, UserStorageJson.Default.EmailIndexEntity, cancellationToken);
        if (existing is null)
        {
            // Deleted since our insert failed: try the claim once more.
            var retry = await _emails.AddEntityAsync(claim, UserStorageJson.Default.EmailIndexEntity, cancellationToken);
            return retry.Succeeded;
        }
        if (_clock.GetUtcNow() - existing.Value.CreatedAt < OrphanAge ||
            await _users.GetEntityIfExistsAsync(existing.Value.UserId, UserEntity.ProfileRowKey, UserStorageJson.Default.UserEntity, cancellationToken) is not null)
        {
            return false;
        }
        var takeover = await _emails.UpdateEntityAsync(claim, existing.ETag, TableUpdateMode.Replace, UserStorageJson.Default.EmailIndexEntity, cancellationToken);
        if (takeover.Succeeded)
        {
            LogOrphanReclaimed(existing.Value.UserId);
        }
        return takeover.Succeeded;
    }

    public async Task<TableEntity<UserEntity>?> FindByEmailAsync(string email, CancellationToken cancellationToken)
    {
        var index = await _emails.GetEntityIfExistsAsync(TableKey.Encode(email), "", UserStorageJson.Default.EmailIndexEntity, cancellationToken);
        if (index is null)
        {
            return null;
        }
        var user = await GetAsync(index.Value.UserId, cancellationToken);
        return user is not null && user.Value.Email == email ? user : null;
    }

    public async Task<TableEntity<UserEntity>?> GetAsync(string userId, CancellationToken cancellationToken)
    {
        return await _users.GetEntityIfExistsAsync(userId, UserEntity.ProfileRowKey, UserStorageJson.Default.UserEntity, cancellationToken);
    }

    /// <summary>Records a successful login (and a stronger hash when the stored one was below the configured cost).</summary>
    public async Task RecordLoginAsync(string userId, string? upgradedPasswordHash, CancellationToken cancellationToken)
    {
        var patch = new UserProfilePatch(userId) { LastLoginAt = _clock.GetUtcNow(), PasswordHash = upgradedPasswordHash };
        await _users.UpdateEntityAsync(patch, ETag.All, TableUpdateMode.Merge, UserStorageJson.Default.UserProfilePatch, cancellationToken);
    }

    public async Task<SessionEntity> CreateSessionAsync(UserEntity user, string sessionId, string refreshTokenHash, DateTimeOffset refreshExpiresAt, string? userAgent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = _clock.GetUtcNow();
        var session = new SessionEntity
        {
            PartitionKey = user.Id,
            RowKey = SessionEntity.RowKeyFor(sessionId),
            Epoch = user.SessionEpoch,
            CreatedAt = now,
            LastUsedAt = now,
            RefreshExpiresAt = refreshExpiresAt,
            RefreshTokenHash = refreshTokenHash,
            UserAgent = userAgent,
        };
        await _users.AddEntityAsync(session, UserStorageJson.Default.SessionEntity, cancellationToken);
        return session;
    }

    public async Task<TableEntity<SessionEntity>?> GetSessionAsync(string userId, string sessionId, CancellationToken cancellationToken)
    {
        return await _users.GetEntityIfExistsAsync(userId, SessionEntity.RowKeyFor(sessionId), UserStorageJson.Default.SessionEntity, cancellationToken);
    }

    /// <summary>Replaces a session if nobody changed it since it was read (concurrent refreshes: exactly one wins).</summary>
    public async Task<bool> TryReplaceSessionAsync(SessionEntity session, ETag ifMatch, CancellationToken cancellationToken)
    {
        var result = await _users.UpdateEntityAsync(session, ifMatch, TableUpdateMode.Replace, UserStorageJson.Default.SessionEntity, cancellationToken);
        return result.Succeeded;
    }

    /// <summary>Ends one session: its refresh token stops working and the middleware refuses its access tokens.</summary>
    public async Task<bool> EndSessionAsync(string userId, string sessionId, CancellationToken cancellationToken)
    {
        var result = await _users.DeleteEntityAsync(userId, SessionEntity.RowKeyFor(sessionId), cancellationToken: cancellationToken);
        // After the write: anything cached while it was in flight is dropped too.
        _revocations.Forget(userId);
        return result.Succeeded;
    }

    /// <summary>The user's sessions that are live now (current epoch, not revoked, refresh token not expired).</summary>
    public async Task<IReadOnlyList<SessionEntity>> ListLiveSessionsAsync(string userId, int epoch, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var sessions = new List<SessionEntity>();
        string filter = $"RowKey gt '{SessionEntity.RowKeyPrefix}' and RowKey lt '{SessionEntity.RowKeyPrefix}~'";
        await foreach (var row in _users.QueryPartitionAsync(userId, UserStorageJson.Default.SessionEntity, filter, cancellationToken))
        {
            if (row.Value.Epoch == epoch && row.Value.RefreshExpiresAt > now)
            {
                sessions.Add(row.Value);
            }
        }
        return sessions;
    }

    /// <summary>The user's profile and one session, in one round trip.</summary>
    public async Task<SessionState> GetSessionStateAsync(string userId, string sessionId, CancellationToken cancellationToken)
    {
        string sessionRow = SessionEntity.RowKeyFor(sessionId);
        string filter = $"RowKey eq '{UserEntity.ProfileRowKey}' or RowKey eq {TableClient.Quote(sessionRow)}";
        UserPartitionRow? profile = null;
        UserPartitionRow? session = null;
        await foreach (var row in _users.QueryPartitionAsync(userId, UserStorageJson.Default.UserPartitionRow, filter, cancellationToken))
        {
            if (row.Value.RowKey == UserEntity.ProfileRowKey)
            {
                profile = row.Value;
            }
            else if (row.Value.RowKey == sessionRow)
            {
                session = row.Value;
            }
        }
        return new SessionState(profile, session);
    }

    /// <summary>
    /// Ends every session of the user at once: bumps the session epoch (one ETag-guarded write is the
    /// whole revocation, on every instance) and records the logout time.
    /// </summary>
    public Task<bool> EndAllSessionsAsync(string userId, CancellationToken cancellationToken) =>
        StartNewEpochAsync(userId, keepSessionId: null, newPasswordHash: null, cancellationToken);

    /// <summary>
    /// Ends every session but <paramref name="keepSessionId"/> at once (optionally storing a new
    /// password hash in the same write): the epoch moves on, then the kept session is carried into it.
    /// </summary>
    public async Task<bool> StartNewEpochAsync(string userId, string? keepSessionId, string? newPasswordHash, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            var current = await _users.GetEntityIfExistsAsync(userId, UserEntity.ProfileRowKey, UserStorageJson.Default.UserEntity, cancellationToken);
            if (current is null)
            {
                return false;
            }
            int epoch = current.Value.SessionEpoch + 1;
            var patch = new UserProfilePatch(userId) { SessionEpoch = epoch, LoggedOutAt = _clock.GetUtcNow(), PasswordHash = newPasswordHash };
            var result = await _users.UpdateEntityAsync(patch, current.ETag, TableUpdateMode.Merge, UserStorageJson.Default.UserProfilePatch, cancellationToken);
            if (!result.Succeeded)
            {
                continue;
            }
            _revocations.Forget(userId);
            if (keepSessionId is not null)
            {
                var kept = new SessionEpochPatch(userId, SessionEntity.RowKeyFor(keepSessionId), epoch);
                await _users.UpdateEntityAsync(kept, ETag.All, TableUpdateMode.Merge, UserStorageJson.Default.SessionEpochPatch, cancellationToken);
            }
            return true;
        }
        throw new TableStorageException(412, "UpdateConditionNotSatisfied", "The user record kept changing; the sessions could not be ended.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reclaimed the email of an unfinished registration (user {UserId} was never written).")]
    private partial void LogOrphanReclaimed(string userId);
}
