using AuthFunctions.Storage;
using AuthFunctions.Users;
using Azure;
using Azure.Data.Tables;

namespace AuthFunctions.Mfa;

/// <summary>The authenticator-app factor of a user: pending until its first code confirms it, then active.</summary>
public sealed record TotpFactor(string UserId, string SealedSecret, bool Active, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, long LastStep)
{
    /// <summary>The version read; writes of the factor are conditional on it.</summary>
    public ETag Version { get; init; }
}

/// <summary>The live recovery codes of a user: their salted hashes only.</summary>
public sealed record RecoveryCodeSet(string UserId, string Salt, IReadOnlyList<string> Hashes)
{
    public ETag Version { get; init; }
}

/// <summary>
/// A sign-in waiting for its second factor (the <c>mfa_token</c>): only the token's hash is stored (in the row key),
/// with the first factor's methods, a stamp of the credential it was checked against, and the failed codes so far.
/// </summary>
public sealed record MfaChallenge(string UserId, string TokenHash, SessionAssurance FirstFactor, string CredentialStamp, bool RememberMe, DateTimeOffset ExpiresAt, int Failures)
{
    public ETag Version { get; init; }
}

/// <summary>What a write of factor rows came to.</summary>
public enum FactorWrite
{
    Done,

    /// <summary>The rows changed since they were read (another request won); nothing was written.</summary>
    Conflict,

    /// <summary>The account is gone; nothing was written.</summary>
    AccountGone,
}

/// <summary>
/// The second-factor rows, all in the user's partition of <c>users</c> so that deleting the account deletes them:
/// <c>mfa-totp</c> (the sealed secret, pending or active, and the last time step accepted), <c>mfa-recovery</c> (the
/// recovery codes' hashes) and <c>mfa-token-{hash}</c> per sign-in waiting for its code. Every write is conditional (an
/// ETag, an insert or a conditional delete); factor rows are written in one transaction with a merge of the profile row
/// (If-Match *), so nothing is written into the partition of an account deleted meanwhile.
/// </summary>
public sealed class MfaStore(StorageTables tables)
{
    public const string RowKeyPrefix = "mfa-";
    public const string TotpRowKey = "mfa-totp";
    public const string RecoveryRowKey = "mfa-recovery";
    public const string ChallengeRowKeyPrefix = "mfa-token-";
    private const string ProfileRowKey = "profile";

    private readonly StorageTable _users = tables.Get("users");

    public async Task<TotpFactor?> GetTotpAsync(string userId, CancellationToken cancellationToken)
    {
        if (await _users.GetAsync(userId, TotpRowKey, cancellationToken) is not { } found)
        {
            return null;
        }
        var row = found.Entity;
        return new TotpFactor(userId, row.GetString("Secret") ?? "", row.GetBoolean("Active") ?? false, row.GetTime("CreatedAt") ?? default,
            row.GetTime("ExpiresAt"), row.GetInt64("LastStep") ?? -1) { Version = found.ETag };
    }

    public async Task<RecoveryCodeSet?> GetRecoveryCodesAsync(string userId, CancellationToken cancellationToken)
    {
        if (await _users.GetAsync(userId, RecoveryRowKey, cancellationToken) is not { } found)
        {
            return null;
        }
        return new RecoveryCodeSet(userId, found.Entity.GetString("Salt") ?? "",
            (found.Entity.GetString("Hashes") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)) { Version = found.ETag };
    }

    /// <summary>Writes a pending factor: an insert when <paramref name="replacing"/> is null, else a replace of that pending row as read.</summary>
    public Task<FactorWrite> TryWritePendingAsync(TotpFactor pending, TotpFactor? replacing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var row = ToRow(pending);
        return TransactAsync(pending.UserId,
            replacing is null
                ? new TableTransactionAction(TableTransactionActionType.Add, row)
                : new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, replacing.Version),
            null, cancellationToken);
    }

    /// <summary>Makes the pending factor as read active (with the step its first code used) and stores its recovery codes, in one transaction.</summary>
    public Task<FactorWrite> TryActivateAsync(TotpFactor active, ETag pendingVersion, RecoveryCodeSet codes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(active);
        ArgumentNullException.ThrowIfNull(codes);
        return TransactAsync(active.UserId,
            new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToRow(active), pendingVersion),
            new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToRow(codes)), cancellationToken);
    }

    /// <summary>Records the time step a code was accepted at, conditional on the factor as read: of two requests with one code, one writes.</summary>
    public async Task<bool> TryRecordStepAsync(TotpFactor factor, long step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(factor);
        var patch = new TableEntity(factor.UserId, TotpRowKey) { ["LastStep"] = step };
        return await _users.UpdateAsync(patch, factor.Version, TableUpdateMode.Merge, cancellationToken) == WriteOutcome.Done;
    }

    /// <summary>Replaces the recovery codes as read (one spent, or a new set); false when they changed meanwhile.</summary>
    public async Task<bool> TryReplaceRecoveryCodesAsync(RecoveryCodeSet codes, ETag version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(codes);
        return await _users.UpdateAsync(ToRow(codes), version, TableUpdateMode.Replace, cancellationToken) == WriteOutcome.Done;
    }

    /// <summary>Deletes the factor and the recovery codes.</summary>
    public async Task DeleteFactorAsync(string userId, CancellationToken cancellationToken) =>
        await _users.DeleteAllAsync([(userId, TotpRowKey), (userId, RecoveryRowKey)], cancellationToken);

    public async Task<bool> TryInsertChallengeAsync(MfaChallenge challenge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        var row = new TableEntity(challenge.UserId, ChallengeRowKeyPrefix + challenge.TokenHash)
        {
            ["Amr"] = challenge.FirstFactor.MethodsText,
            ["Acr"] = challenge.FirstFactor.Level,
            ["CredentialStamp"] = challenge.CredentialStamp,
            ["RememberMe"] = challenge.RememberMe,
            ["ExpiresAt"] = challenge.ExpiresAt,
            ["Failures"] = challenge.Failures,
        };
        return await _users.InsertAsync(row, cancellationToken) == WriteOutcome.Done;
    }

    public async Task<MfaChallenge?> GetChallengeAsync(string userId, string tokenHash, CancellationToken cancellationToken)
    {
        if (await _users.GetAsync(userId, ChallengeRowKeyPrefix + tokenHash, cancellationToken) is not { } found)
        {
            return null;
        }
        var row = found.Entity;
        return new MfaChallenge(userId, tokenHash, SessionAssurance.FromStored(row.GetString("Amr"), row.GetString("Acr")), row.GetString("CredentialStamp") ?? "",
            row.GetBoolean("RememberMe") ?? true, row.GetTime("ExpiresAt") ?? default, row.GetInt32("Failures") ?? 0) { Version = found.ETag };
    }

    /// <summary>Counts one more failed code on the challenge as read; false when it changed meanwhile.</summary>
    public async Task<bool> TryCountFailureAsync(MfaChallenge challenge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        var patch = new TableEntity(challenge.UserId, ChallengeRowKeyPrefix + challenge.TokenHash) { ["Failures"] = challenge.Failures + 1 };
        return await _users.UpdateAsync(patch, challenge.Version, TableUpdateMode.Merge, cancellationToken) == WriteOutcome.Done;
    }

    /// <summary>Spends (or kills) the challenge as read: a delete conditional on its version, so of concurrent uses exactly one gets true.</summary>
    public async Task<bool> TryDeleteChallengeAsync(MfaChallenge challenge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        return await _users.DeleteAsync(challenge.UserId, ChallengeRowKeyPrefix + challenge.TokenHash, challenge.Version, cancellationToken) == WriteOutcome.Done;
    }

    /// <summary>
    /// Deletes up to <paramref name="max"/> rows past their <c>ExpiresAt</c>: spent-by-time <c>mfa_token</c>s and pending
    /// enrolments never confirmed (an active factor has no expiry). Each delete is conditional on the row read.
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

    private async Task<FactorWrite> TransactAsync(string userId, TableTransactionAction first, TableTransactionAction? second, CancellationToken cancellationToken)
    {
        // The profile merge (If-Match *) fails when the profile is gone: then nothing of the transaction is written.
        var touch = new TableEntity(userId, ProfileRowKey);
        List<TableTransactionAction> actions = [new(TableTransactionActionType.UpdateMerge, touch, ETag.All), first];
        if (second is not null)
        {
            actions.Add(second);
        }
        return await _users.TransactAsync(actions, cancellationToken) switch
        {
            WriteOutcome.Done => FactorWrite.Done,
            WriteOutcome.NotFound when await _users.GetAsync(userId, ProfileRowKey, cancellationToken) is null => FactorWrite.AccountGone,
            _ => FactorWrite.Conflict,
        };
    }

    private static TableEntity ToRow(TotpFactor factor) => new(factor.UserId, TotpRowKey)
    {
        ["Secret"] = factor.SealedSecret,
        ["Active"] = factor.Active,
        ["CreatedAt"] = factor.CreatedAt,
        ["ExpiresAt"] = factor.ExpiresAt,
        ["LastStep"] = factor.LastStep,
    };

    private static TableEntity ToRow(RecoveryCodeSet codes) => new(codes.UserId, RecoveryRowKey)
    {
        ["Salt"] = codes.Salt,
        ["Hashes"] = string.Join(' ', codes.Hashes),
    };
}
