using System.Security.Cryptography;
using AuthFunctions.Storage;
using AuthFunctions.Users;
using Azure;
using Azure.Data.Tables;

namespace AuthFunctions.Passkeys;

/// <summary>A registered passkey: the credential's public key and signature counter, in its owner's partition.</summary>
public sealed record Passkey
{
    /// <summary>The passkey's id in the API and in storage: SHA-256 of the credential id, base64url (credential ids can exceed a table key).</summary>
    public required string Id { get; init; }

    public required string UserId { get; init; }

    public required byte[] CredentialId { get; init; }

    /// <summary>The COSE public key the authenticator gave at registration.</summary>
    public required byte[] PublicKey { get; init; }

    public required uint SignCount { get; init; }

    public string? Name { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? LastUsedAt { get; init; }

    /// <summary>The version read; recording a use is conditional on it.</summary>
    public ETag Version { get; init; }

    public static string IdOf(byte[] credentialId) => System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(credentialId));
}

public enum PasskeyAddStatus
{
    Added,

    /// <summary>The credential id is registered already (to this account or another): nothing was written.</summary>
    CredentialTaken,

    AccountGone,
}

/// <summary>
/// Passkeys in Table Storage. Each is a row of its owner's partition of <c>users</c> (RowKey <c>passkey-{id}</c>), so the
/// partition sweep of an account deletion removes it, written in one transaction with a merge of the profile row (a passkey
/// exists only while its account does). Each credential id is claimed by an index row in <c>passkeys</c> (PartitionKey the
/// passkey id), inserted first: of concurrent registrations of one credential, on any number of instances, exactly one
/// gets it. Sign-in finds the account through the index.
/// </summary>
public sealed partial class PasskeyStore(StorageTables tables, TimeProvider clock, ILogger<PasskeyStore> logger)
{
    public const string RowKeyPrefix = "passkey-";
    private const string IndexRowKey = "";

    // An index row whose passkey row never appeared (the writer died between the two writes, or the account was deleted
    // while the passkey was registered) is taken over by the next registration of that credential after this long.
    private static readonly TimeSpan OrphanAge = TimeSpan.FromSeconds(30);

    private readonly StorageTable _users = tables.Get("users");
    private readonly StorageTable _index = tables.Get("passkeys");

    private static string RowKey(string id) => RowKeyPrefix + id;

    public async Task<IReadOnlyList<Passkey>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        var found = new List<Passkey>();
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {userId} and RowKey gt {RowKeyPrefix} and RowKey lt {RowKeyPrefix + "~"}");
        await foreach (var row in _users.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            found.Add(ToPasskey(row, row.ETag));
        }
        return found;
    }

    public async Task<Passkey?> GetAsync(string userId, string id, CancellationToken cancellationToken)
    {
        var row = await _users.GetAsync(userId, RowKey(id), cancellationToken);
        return row is { } stored ? ToPasskey(stored.Entity, stored.ETag) : null;
    }

    /// <summary>The account the credential is registered to, from its index row; null if none.</summary>
    public async Task<string?> FindOwnerAsync(string id, CancellationToken cancellationToken) =>
        (await _index.GetAsync(id, IndexRowKey, cancellationToken))?.Entity.GetString("UserId");

    public async Task<PasskeyAddStatus> TryAddAsync(Passkey passkey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(passkey);
        var now = clock.GetUtcNow();
        var claim = new TableEntity(passkey.Id, IndexRowKey) { ["UserId"] = passkey.UserId, ["CreatedAt"] = now };
        if (await _index.InsertAsync(claim, cancellationToken) == WriteOutcome.AlreadyExists && !await TryReclaimOrphanAsync(claim, cancellationToken))
        {
            return PasskeyAddStatus.CredentialTaken;
        }
        var outcome = await _users.TransactAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateMerge, new TableEntity(passkey.UserId, UserRows.ProfileRowKey) { ["PasskeysChangedAt"] = now }, ETag.All),
                new TableTransactionAction(TableTransactionActionType.Add, ToRow(passkey)),
            ], cancellationToken);
        if (outcome == WriteOutcome.Done)
        {
            return PasskeyAddStatus.Added;
        }
        await ReleaseIndexAsync(passkey.Id, passkey.UserId, cancellationToken);
        return outcome == WriteOutcome.NotFound ? PasskeyAddStatus.AccountGone : PasskeyAddStatus.CredentialTaken;
    }

    private async Task<bool> TryReclaimOrphanAsync(TableEntity claim, CancellationToken cancellationToken)
    {
        var existing = await _index.GetAsync(claim.PartitionKey, IndexRowKey, cancellationToken);
        if (existing is null)
        {
            return await _index.InsertAsync(claim, cancellationToken) == WriteOutcome.Done;
        }
        string owner = existing.Value.Entity.GetString("UserId") ?? "";
        if (clock.GetUtcNow() - (existing.Value.Entity.GetTime("CreatedAt") ?? default) < OrphanAge ||
            await _users.GetAsync(owner, RowKey(claim.PartitionKey), cancellationToken) is not null)
        {
            return false;
        }
        bool takenOver = await _index.UpdateAsync(claim, existing.Value.ETag, TableUpdateMode.Replace, cancellationToken) == WriteOutcome.Done;
        if (takenOver)
        {
            LogOrphanReclaimed(owner);
        }
        return takenOver;
    }

    /// <summary>
    /// Records a verified sign-in: the new signature counter and the time, only if the passkey is still as read (the
    /// counter is security state: of concurrent sign-ins with one passkey each counter check is made against the value
    /// the write replaces). Stale: read it again and check again; not found: deleted meanwhile.
    /// </summary>
    public Task<WriteOutcome> TryRecordUseAsync(Passkey passkey, uint signCount, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(passkey);
        var patch = new TableEntity(passkey.UserId, RowKey(passkey.Id)) { ["SignCount"] = (long)signCount, ["LastUsedAt"] = at };
        return _users.UpdateAsync(patch, passkey.Version, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>Deletes the passkey and its index row; false if the account has no such passkey.</summary>
    public async Task<bool> DeleteAsync(string userId, string id, CancellationToken cancellationToken)
    {
        if (await _users.DeleteAsync(userId, RowKey(id), cancellationToken: cancellationToken) != WriteOutcome.Done)
        {
            return false;
        }
        await ReleaseIndexAsync(id, userId, cancellationToken);
        return true;
    }

    /// <summary>
    /// Frees the credential ids of every passkey of the account (account deletion, before its partition goes): each index
    /// row is deleted only while it still names this account. The passkey rows go with the partition.
    /// </summary>
    public async Task ReleaseAllAsync(string userId, CancellationToken cancellationToken)
    {
        foreach (var passkey in await ListAsync(userId, cancellationToken))
        {
            await ReleaseIndexAsync(passkey.Id, userId, cancellationToken);
        }
    }

    private async Task ReleaseIndexAsync(string id, string userId, CancellationToken cancellationToken)
    {
        var index = await _index.GetAsync(id, IndexRowKey, cancellationToken);
        if (index is { } row && row.Entity.GetString("UserId") == userId)
        {
            // Conditional: a registration that took the credential over meanwhile keeps it.
            await _index.DeleteAsync(id, IndexRowKey, row.ETag, cancellationToken);
        }
    }

    private static TableEntity ToRow(Passkey passkey) => new(passkey.UserId, RowKey(passkey.Id))
    {
        ["CredentialId"] = passkey.CredentialId,
        ["PublicKey"] = passkey.PublicKey,
        ["SignCount"] = (long)passkey.SignCount,
        ["Name"] = passkey.Name,
        ["CreatedAt"] = passkey.CreatedAt,
        ["LastUsedAt"] = passkey.LastUsedAt,
    };

    private static Passkey ToPasskey(TableEntity row, ETag version) => new()
    {
        Id = row.RowKey[RowKeyPrefix.Length..],
        UserId = row.PartitionKey,
        CredentialId = row.GetBinary("CredentialId") ?? [],
        PublicKey = row.GetBinary("PublicKey") ?? [],
        SignCount = (uint)Math.Clamp(row.GetInt64("SignCount") ?? 0, 0, uint.MaxValue),
        Name = row.GetString("Name"),
        CreatedAt = row.GetTime("CreatedAt") ?? default,
        LastUsedAt = row.GetTime("LastUsedAt"),
        Version = version,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Took over the passkey index row of an unfinished registration (user {UserId} has no such passkey).")]
    private partial void LogOrphanReclaimed(string userId);
}
