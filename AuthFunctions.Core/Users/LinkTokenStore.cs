using AuthFunctions.Storage;
using Azure;
using Azure.Data.Tables;

namespace AuthFunctions.Users;

/// <summary>What an emailed link is for.</summary>
public enum LinkPurpose
{
    VerifyEmail,
    ResetPassword,
}

/// <summary>
/// A live link token: only its SHA-256 hash is stored. <see cref="PasswordStamp"/> (reset links) is a hash
/// of the password hash at issue, so any change of the password kills the link.
/// </summary>
public sealed record LinkToken(string UserId, LinkPurpose Purpose, string Hash, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, string? PasswordStamp)
{
    public ETag Version { get; init; }
}

/// <summary>What issuing a link came to.</summary>
public enum LinkIssue
{
    Issued,

    /// <summary>The account was written since it was read (another issue, a login): nothing was written; read it again.</summary>
    AccountChanged,

    AccountGone,
}

/// <summary>
/// Link tokens, one row per user and purpose in the user's partition of <c>users</c> (RowKey
/// <c>link-{purpose}</c>): a newer request replaces the row, so only the latest link works, and deleting
/// the user's partition deletes them with the account.
/// </summary>
public sealed class LinkTokenStore(StorageTables tables)
{
    private const string RowKeyPrefix = "link-";
    private readonly StorageTable _users = tables.Get("users");

    private static string RowKey(LinkPurpose purpose) => RowKeyPrefix + (purpose == LinkPurpose.VerifyEmail ? "verify-email" : "reset-password");

    /// <summary>
    /// Issues <paramref name="token"/> if the account is still as read: claims its purpose's slot (the time of the latest
    /// email, on the profile row) and replaces the link row in one transaction of the user's partition, conditional on
    /// <paramref name="account"/>'s version. So of concurrent issues on any number of instances exactly one writes (the
    /// others find the account changed, read it again and see the slot taken), and nothing is written for an account
    /// deleted meanwhile.
    /// </summary>
    public async Task<LinkIssue> TryIssueAsync(UserAccount account, LinkToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(token);
        var slot = new TableEntity(token.UserId, UserRows.ProfileRowKey) { [UserRows.LinkSentAtColumn(token.Purpose)] = token.CreatedAt };
        var link = new TableEntity(token.UserId, RowKey(token.Purpose))
        {
            ["Hash"] = token.Hash,
            ["CreatedAt"] = token.CreatedAt,
            ["ExpiresAt"] = token.ExpiresAt,
            ["PasswordStamp"] = token.PasswordStamp,
        };
        var outcome = await _users.TransactAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateMerge, slot, account.Version),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, link),
            ], cancellationToken);
        return outcome switch
        {
            WriteOutcome.Done => LinkIssue.Issued,
            WriteOutcome.NotFound => LinkIssue.AccountGone,
            _ => LinkIssue.AccountChanged,
        };
    }

    public async Task<LinkToken?> GetAsync(string userId, LinkPurpose purpose, CancellationToken cancellationToken)
    {
        var stored = await _users.GetAsync(userId, RowKey(purpose), cancellationToken);
        if (stored is not { } found)
        {
            return null;
        }
        var row = found.Entity;
        return new LinkToken(userId, purpose, row.GetString("Hash") ?? "", row.GetTime("CreatedAt") ?? default, row.GetTime("ExpiresAt") ?? default, row.GetString("PasswordStamp"))
        {
            Version = found.ETag,
        };
    }

    /// <summary>Spends the token as read: a delete conditional on its version, so of concurrent uses on any number of instances exactly one gets true.</summary>
    public async Task<bool> TryConsumeAsync(LinkToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        return await _users.DeleteAsync(token.UserId, RowKey(token.Purpose), token.Version, cancellationToken) == WriteOutcome.Done;
    }

    /// <summary>
    /// Deletes up to <paramref name="max"/> links (of any user) that expired before <paramref name="now"/>; each delete is
    /// conditional on the row read, so a link replaced meanwhile stays. Returns how many went.
    /// </summary>
    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        string filter = TableClient.CreateQueryFilter($"RowKey gt {RowKeyPrefix} and RowKey lt {RowKeyPrefix + "~"} and ExpiresAt lt {now}");
        int deleted = 0;
        await foreach (var row in _users.QueryAsync(filter, ["PartitionKey", "RowKey"], maxPerPage: Math.Min(max, 1000), cancellationToken))
        {
            if (await _users.DeleteAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken) == WriteOutcome.Done && ++deleted == max)
            {
                break;
            }
        }
        return deleted;
    }
}
