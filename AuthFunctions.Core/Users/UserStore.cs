using AuthFunctions.Storage;
using Azure;
using Azure.Data.Tables;

namespace AuthFunctions.Users;

/// <summary>Users and their email index in Table Storage. Callers see domain records and outcomes, never rows or status codes.</summary>
public sealed partial class UserStore(StorageTables tables, TimeProvider clock, ILogger<UserStore> logger)
{
    // An index row whose user row never appeared (the writer died between the two inserts) is
    // reclaimed by the next registration of that email after this long.
    private static readonly TimeSpan OrphanAge = TimeSpan.FromSeconds(30);
    private const int MaxOptimisticRetries = 8;
    private const string IndexRowKey = "";

    private readonly StorageTable _users = tables.Get("users");
    private readonly StorageTable _emails = tables.Get("emails");

    public async Task<RegisterOutcome> RegisterAsync(string email, string passwordHash, bool passwordNormalized, string? fullName, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var profile = new UserProfile(Guid.NewGuid().ToString("N"), email, fullName, now, null, 0);
        var index = new TableEntity(TableKey.Encode(email), IndexRowKey) { ["UserId"] = profile.Id, ["CreatedAt"] = now };

        // The insert of the index row is the atomic claim on the email: of any number of concurrent
        // registrations exactly one gets Done.
        var claim = await _emails.InsertAsync(index, cancellationToken);
        if (claim == WriteOutcome.AlreadyExists && !await TryReclaimOrphanAsync(index, cancellationToken))
        {
            return new RegisterOutcome(RegisterStatus.EmailTaken, null);
        }

        try
        {
            await _users.InsertAsync(UserRows.NewProfile(profile, passwordHash, passwordNormalized), cancellationToken);
        }
        catch (Exception)
        {
            // Leave no half-written registration behind; a crash before this point is healed by TryReclaimOrphanAsync.
            await _emails.DeleteAsync(index.PartitionKey, index.RowKey, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return new RegisterOutcome(RegisterStatus.Created, profile);
    }

    /// <summary>
    /// Registers an account without a password (a federated sign-in's), under the id its identity claim already names:
    /// the email is claimed by the insert of its index row as for any registration, so a password registration of the
    /// same address at the same moment gets <see cref="RegisterStatus.EmailTaken"/> on one side. A password can be set
    /// later through the password-reset email.
    /// </summary>
    public async Task<RegisterOutcome> RegisterWithoutPasswordAsync(string userId, string email, string? fullName, bool emailVerified, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var profile = new UserProfile(userId, email, fullName, now, null, 0, emailVerified);
        var index = new TableEntity(TableKey.Encode(email), IndexRowKey) { ["UserId"] = profile.Id, ["CreatedAt"] = now };
        var claim = await _emails.InsertAsync(index, cancellationToken);
        if (claim == WriteOutcome.AlreadyExists && !await TryReclaimOrphanAsync(index, cancellationToken))
        {
            return new RegisterOutcome(RegisterStatus.EmailTaken, null);
        }
        var row = UserRows.NewProfile(profile, passwordHash: "", passwordNormalized: true);
        row["EmailVerified"] = emailVerified;
        try
        {
            await _users.InsertAsync(row, cancellationToken);
        }
        catch (Exception)
        {
            await _emails.DeleteAsync(index.PartitionKey, index.RowKey, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return new RegisterOutcome(RegisterStatus.Created, profile);
    }

    private async Task<bool> TryReclaimOrphanAsync(TableEntity claim, CancellationToken cancellationToken)
    {
        var existing = await _emails.GetAsync(claim.PartitionKey, claim.RowKey, cancellationToken);
        if (existing is null)
        {
            // Deleted since our insert failed: try the claim once more.
            return await _emails.InsertAsync(claim, cancellationToken) == WriteOutcome.Done;
        }
        string orphanId = existing.Value.Entity.GetString("UserId") ?? "";
        if (clock.GetUtcNow() - (existing.Value.Entity.GetTime("CreatedAt") ?? default) < OrphanAge ||
            await _users.GetAsync(orphanId, UserRows.ProfileRowKey, cancellationToken) is not null)
        {
            return false;
        }
        bool takenOver = await _emails.UpdateAsync(claim, existing.Value.ETag, TableUpdateMode.Replace, cancellationToken) == WriteOutcome.Done;
        if (takenOver)
        {
            LogOrphanReclaimed(orphanId);
        }
        return takenOver;
    }

    public async Task<UserAccount?> FindByEmailAsync(string email, CancellationToken cancellationToken)
    {
        var index = await _emails.GetAsync(TableKey.Encode(email), IndexRowKey, cancellationToken);
        if (index?.Entity.GetString("UserId") is not { } userId)
        {
            return null;
        }
        var user = await GetAsync(userId, cancellationToken);
        return user is not null && user.Email == email ? user : null;
    }

    public async Task<UserAccount?> GetAsync(string userId, CancellationToken cancellationToken)
    {
        var row = await _users.GetAsync(userId, UserRows.ProfileRowKey, cancellationToken);
        return row is null ? null : UserRows.ToAccount(row.Value.Entity);
    }

    /// <summary>
    /// Stores a stronger hash of the password just verified (a login's upgrade), only if the account is still as read:
    /// a password changed meanwhile on another instance wins, and the upgrade is left for the next login.
    /// </summary>
    public async Task UpgradeHashAsync(UserAccount user, string upgradedHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var patch = new TableEntity(user.Id, UserRows.ProfileRowKey) { ["PasswordHash"] = upgradedHash, ["PasswordNormalized"] = true };
        await _users.UpdateAsync(patch, user.Version, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>
    /// Stores a new password hash and moves the session epoch on (ending every session) in one write, conditional on
    /// the version read before the current password was checked. When that version is stale but the credential is still
    /// the one read (the same hash and epoch: a login's bookkeeping, a profile edit or an email slot wrote the row), the
    /// write goes again on the new version; when the credential changed (another change, a reset, a rehash, a logout
    /// of every session), nothing is written. So of concurrent changes exactly one succeeds, and only they make it fail.
    /// Returns the new epoch, or null when the credential changed meanwhile or the user is gone.
    /// </summary>
    public async Task<int?> TryChangePasswordAsync(UserAccount user, string newPasswordHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var current = user;
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            int epoch = current.Profile.SessionEpoch + 1;
            var patch = new TableEntity(user.Id, UserRows.ProfileRowKey)
            {
                ["PasswordHash"] = newPasswordHash,
                ["PasswordNormalized"] = true,
                ["SessionEpoch"] = epoch,
                ["LoggedOutAt"] = clock.GetUtcNow(),
            };
            if (await _users.UpdateAsync(patch, current.Version, TableUpdateMode.Merge, cancellationToken) == WriteOutcome.Done)
            {
                return epoch;
            }
            var reread = await GetAsync(user.Id, cancellationToken);
            if (reread is null || reread.PasswordHash != user.PasswordHash || reread.Profile.SessionEpoch != user.Profile.SessionEpoch)
            {
                return null;
            }
            LogCredentialRewritten(user.Id);
            current = reread;
        }
        return null;
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "A password change of user {UserId} found the account written meanwhile with the same credential (a login or a profile edit) and was written again.")]
    private partial void LogCredentialRewritten(string userId);

    /// <summary>
    /// Ends every session of the user at once: bumps the session epoch (one ETag-guarded write is the
    /// whole revocation, on every instance) and records the logout time. Returns the new epoch, or null if the user is gone.
    /// </summary>
    public async Task<int?> StartNewEpochAsync(string userId, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < MaxOptimisticRetries; attempt++)
        {
            var current = await GetAsync(userId, cancellationToken);
            if (current is null)
            {
                return null;
            }
            int epoch = current.Profile.SessionEpoch + 1;
            var patch = new TableEntity(userId, UserRows.ProfileRowKey) { ["SessionEpoch"] = epoch, ["LoggedOutAt"] = clock.GetUtcNow() };
            switch (await _users.UpdateAsync(patch, current.Version, TableUpdateMode.Merge, cancellationToken))
            {
                case WriteOutcome.Done:
                    return epoch;
                case WriteOutcome.NotFound:
                    return null;
            }
        }
        throw new TableStorageException(412, "UpdateConditionNotSatisfied", "The user record kept changing; the sessions could not be ended.");
    }

    /// <summary>Marks the address as verified; false if the user is gone.</summary>
    public async Task<bool> MarkEmailVerifiedAsync(string userId, CancellationToken cancellationToken)
    {
        var patch = new TableEntity(userId, UserRows.ProfileRowKey) { ["EmailVerified"] = true };
        return await _users.UpdateAsync(patch, ETag.All, TableUpdateMode.Merge, cancellationToken) == WriteOutcome.Done;
    }

    /// <summary>Sets the display name; the updated profile, or null if the user is gone.</summary>
    public async Task<UserProfile?> UpdateFullNameAsync(string userId, string? fullName, CancellationToken cancellationToken)
    {
        var patch = new TableEntity(userId, UserRows.ProfileRowKey) { ["FullName"] = fullName };
        if (await _users.UpdateAsync(patch, ETag.All, TableUpdateMode.Merge, cancellationToken) != WriteOutcome.Done)
        {
            return null;
        }
        return (await GetAsync(userId, cancellationToken))?.Profile;
    }

    /// <summary>
    /// Deletes the account's rows: the profile first (from that write on every storage check refuses the account, and a
    /// login can no longer store a session: its session write needs the profile), then every other row of the user's
    /// partition, including whatever a racing login or email job wrote before the profile went.
    /// </summary>
    public async Task DeleteAccountRowsAsync(string userId, CancellationToken cancellationToken)
    {
        await _users.DeleteAsync(userId, UserRows.ProfileRowKey, cancellationToken: cancellationToken);
        var rows = new List<(string, string)>();
        await foreach (var row in _users.QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {userId}"), KeyColumns, cancellationToken: cancellationToken))
        {
            rows.Add((row.PartitionKey, row.RowKey));
        }
        await _users.DeleteAllAsync(rows, cancellationToken);
    }

    /// <summary>
    /// Deletes up to <paramref name="max"/> rows (sessions, links) of partitions that have no profile row: what a deletion
    /// that failed part-way left behind. One pass over the table's keys (a query returns a partition's rows in key order,
    /// so each partition is judged once all its keys are seen). No other row can appear in a partition without its profile:
    /// a registration writes the profile first, and sessions and links are written in one transaction with a write of it.
    /// Returns how many went.
    /// </summary>
    public async Task<int> DeleteOrphanRowsAsync(int max, CancellationToken cancellationToken)
    {
        int deleted = 0;
        string? partition = null;
        bool hasProfile = false;
        var rows = new List<(string, string)>();
        async Task JudgeAsync()
        {
            // The scan is no snapshot: a profile written after the scan passed its place (a registration meanwhile,
            // whose first session the scan then saw) is there when read now, and its partition is left alone.
            if (!hasProfile && rows.Count > 0 && await _users.GetAsync(partition!, UserRows.ProfileRowKey, cancellationToken) is null)
            {
                var batch = rows.Take(max - deleted).ToList();
                await _users.DeleteAllAsync(batch, cancellationToken);
                deleted += batch.Count;
            }
            rows.Clear();
            hasProfile = false;
        }
        await foreach (var row in _users.QueryAsync(TableClient.CreateQueryFilter($"PartitionKey ne {""}"), KeyColumns, maxPerPage: 1000, cancellationToken))
        {
            if (row.PartitionKey != partition)
            {
                await JudgeAsync();
                if (deleted >= max)
                {
                    return deleted;
                }
                partition = row.PartitionKey;
            }
            hasProfile |= row.RowKey == UserRows.ProfileRowKey;
            rows.Add((row.PartitionKey, row.RowKey));
        }
        await JudgeAsync();
        return deleted;
    }

    /// <summary>
    /// Frees a deleted user's email: deletes the index row if it still names <paramref name="userId"/> (so the
    /// address can register again at once) and every other row of the address's partition (its throttle counters).
    /// </summary>
    public async Task ReleaseEmailAsync(string email, string userId, CancellationToken cancellationToken)
    {
        string key = TableKey.Encode(email);
        var rows = new List<(string, string)>();
        await foreach (var row in _emails.QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {key}"), cancellationToken: cancellationToken))
        {
            if (row.RowKey != IndexRowKey)
            {
                rows.Add((row.PartitionKey, row.RowKey));
            }
            else if (row.GetString("UserId") == userId)
            {
                // Conditional: a registration that already took the address over keeps it.
                await _emails.DeleteAsync(key, IndexRowKey, row.ETag, cancellationToken);
            }
        }
        await _emails.DeleteAllAsync(rows, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reclaimed the email of an unfinished registration (user {UserId} was never written).")]
    private partial void LogOrphanReclaimed(string userId);

    /// <summary>Reads at most one row of the users table: proves the store answers (and creates the table on first use, as a write would).</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await foreach (var _ in _users.QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {""}"), KeysOnly, maxPerPage: 1, cancellationToken))
        {
            break;
        }
    }

    private static readonly string[] KeysOnly = ["PartitionKey"];
    private static readonly string[] KeyColumns = ["PartitionKey", "RowKey"];
}
