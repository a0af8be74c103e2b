using AuthFunctions.Storage;
using AuthFunctions.Users;
using Azure;
using Azure.Data.Tables;

namespace AuthFunctions.Users;

/// <summary>A provider identity linked to an account.</summary>
public sealed record FederatedIdentity(string Provider, string Subject, string? Email, DateTimeOffset LinkedAt);

/// <summary>Who holds a provider identity's claim, as read (with the version a take-over is conditional on).</summary>
public sealed record IdentityOwner(string UserId, DateTimeOffset ClaimedAt, ETag Version);

/// <summary>
/// Provider identities. The claim on an identity is the insert of its index row in the <c>identities</c> table
/// (PartitionKey <c>{provider}:{subject}</c>, encoded; RowKey ""): of any number of concurrent first sign-ins with one
/// identity exactly one inserts it. The account's own record of the identity is a row of its partition of <c>users</c>
/// (RowKey <c>identity-{provider}</c>), written in one transaction with a write of the profile, so it exists only while
/// the account does and account deletion's partition sweep removes it.
/// </summary>
public sealed class IdentityStore(StorageTables tables, TimeProvider clock)
{
    private const string RowKeyPrefix = "identity-";
    private const string IndexRowKey = "";

    private readonly StorageTable _index = tables.Get("identities");
    private readonly StorageTable _users = tables.Get("users");

    private static string IndexKey(string provider, string subject) => TableKey.Encode(provider + ":" + subject);

    public async Task<IdentityOwner?> FindOwnerAsync(string provider, string subject, CancellationToken cancellationToken)
    {
        var row = await _index.GetAsync(IndexKey(provider, subject), IndexRowKey, cancellationToken);
        return row is { } found && found.Entity.GetString("UserId") is { } userId
            ? new IdentityOwner(userId, found.Entity.GetTime("CreatedAt") ?? default, found.ETag)
            : null;
    }

    /// <summary>Claims the identity for <paramref name="userId"/>: false when another claim holds it.</summary>
    public async Task<bool> TryClaimAsync(string provider, string subject, string userId, CancellationToken cancellationToken) =>
        await _index.InsertAsync(IndexRow(provider, subject, userId), cancellationToken) == WriteOutcome.Done;

    /// <summary>Moves a claim whose account is gone to <paramref name="userId"/>, only if it is still as read.</summary>
    public async Task<bool> TryTakeOverAsync(string provider, string subject, IdentityOwner stale, string userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stale);
        return await _index.UpdateAsync(IndexRow(provider, subject, userId), stale.Version, TableUpdateMode.Replace, cancellationToken) == WriteOutcome.Done;
    }

    /// <summary>Gives up <paramref name="userId"/>'s claim on the identity (a conditional delete: another account's claim stays).</summary>
    public async Task ReleaseAsync(string provider, string subject, string userId, CancellationToken cancellationToken)
    {
        if (await FindOwnerAsync(provider, subject, cancellationToken) is { } owner && owner.UserId == userId)
        {
            await _index.DeleteAsync(IndexKey(provider, subject), IndexRowKey, owner.Version, cancellationToken);
        }
    }

    /// <summary>Records the identity on the account, with a write of its profile: false (nothing written) when the account is gone.</summary>
    public async Task<bool> AddToAccountAsync(string userId, FederatedIdentity identity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var touch = new TableEntity(userId, UserRows.ProfileRowKey) { ["IdentitiesChangedAt"] = identity.LinkedAt };
        var row = new TableEntity(userId, RowKeyPrefix + identity.Provider)
        {
            ["Subject"] = identity.Subject,
            ["Email"] = identity.Email,
            ["LinkedAt"] = identity.LinkedAt,
        };
        return await _users.TransactAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateMerge, touch, ETag.All),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, row),
            ], cancellationToken) == WriteOutcome.Done;
    }

    public async Task<IReadOnlyList<FederatedIdentity>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        var identities = new List<FederatedIdentity>();
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {userId} and RowKey gt {RowKeyPrefix} and RowKey lt {RowKeyPrefix + "~"}");
        await foreach (var row in _users.QueryAsync(filter, cancellationToken: cancellationToken))
        {
            identities.Add(new FederatedIdentity(row.RowKey[RowKeyPrefix.Length..], row.GetString("Subject") ?? "", row.GetString("Email"), row.GetTime("LinkedAt") ?? default));
        }
        return identities;
    }

    /// <summary>
    /// Removes the account's record of the identity with a write of its profile conditional on <paramref name="account"/>'s
    /// version: of concurrent unlinks that each judged from the same read (say, "another way to sign in is left"), one wins.
    /// </summary>
    public async Task<WriteOutcome> RemoveFromAccountAsync(UserAccount account, string provider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        var touch = new TableEntity(account.Id, UserRows.ProfileRowKey) { ["IdentitiesChangedAt"] = clock.GetUtcNow() };
        return await _users.TransactAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateMerge, touch, account.Version),
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(account.Id, RowKeyPrefix + provider), ETag.All),
            ], cancellationToken);
    }

    private TableEntity IndexRow(string provider, string subject, string userId) =>
        new(IndexKey(provider, subject), IndexRowKey) { ["UserId"] = userId, ["CreatedAt"] = clock.GetUtcNow() };
}
