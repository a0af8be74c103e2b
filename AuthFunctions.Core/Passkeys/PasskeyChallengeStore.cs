using AuthFunctions.Storage;
using Azure;
using Azure.Data.Tables;

namespace AuthFunctions.Passkeys;

/// <summary>Which WebAuthn ceremony a challenge was issued for.</summary>
public enum PasskeyCeremony
{
    Registration,
    SignIn,
}

/// <summary>An issued challenge: only its SHA-256 hash is stored (base64url), with its ceremony, its account (registration) and its end.</summary>
public sealed record PasskeyChallenge(string Id, PasskeyCeremony Ceremony, string? UserId, string ChallengeHash, DateTimeOffset ExpiresAt)
{
    public ETag Version { get; init; }
}

/// <summary>
/// Challenges of the WebAuthn ceremonies in their own table, <c>passkeychallenges</c>, one row each (PartitionKey the
/// challenge id). A sign-in challenge has a random id the client sends back; an account's registration challenge has the
/// id <c>register-{user id}</c>, so a newer one replaces it and only the latest registration can finish. A challenge is
/// spent by a delete conditional on the row read: of concurrent uses on any number of instances exactly one succeeds.
/// The <c>cleanup</c> timer deletes the expired ones; a restore from backup drops the table.
/// </summary>
public sealed class PasskeyChallengeStore(StorageTables tables)
{
    private const string RowKey = "";
    private readonly StorageTable _challenges = tables.Get("passkeychallenges");

    public static string RegistrationId(string userId) => "register-" + userId;

    /// <summary>Stores a new challenge; a registration challenge replaces the account's earlier one.</summary>
    public async Task IssueAsync(PasskeyChallenge challenge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        var row = new TableEntity(challenge.Id, RowKey)
        {
            ["Ceremony"] = challenge.Ceremony.ToString(),
            ["UserId"] = challenge.UserId,
            ["ChallengeHash"] = challenge.ChallengeHash,
            ["ExpiresAt"] = challenge.ExpiresAt,
        };
        var outcome = challenge.Ceremony == PasskeyCeremony.Registration
            ? await _challenges.UpsertAsync(row, TableUpdateMode.Replace, cancellationToken)
            : await _challenges.InsertAsync(row, cancellationToken);
        if (outcome != WriteOutcome.Done)
        {
            // A random 128-bit id that exists already: not a state the caller can do anything about.
            throw new TableStorageException(409, "EntityAlreadyExists", "A new passkey challenge id collided with an existing one.");
        }
    }

    public async Task<PasskeyChallenge?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (await _challenges.GetAsync(id, RowKey, cancellationToken) is not { } stored)
        {
            return null;
        }
        var row = stored.Entity;
        return Enum.TryParse<PasskeyCeremony>(row.GetString("Ceremony"), out var ceremony)
            ? new PasskeyChallenge(id, ceremony, row.GetString("UserId"), row.GetString("ChallengeHash") ?? "", row.GetTime("ExpiresAt") ?? default) { Version = stored.ETag }
            : null;
    }

    /// <summary>Spends the challenge as read: true for exactly one of any number of concurrent callers.</summary>
    public async Task<bool> TryConsumeAsync(PasskeyChallenge challenge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(challenge);
        return await _challenges.DeleteAsync(challenge.Id, RowKey, challenge.Version, cancellationToken) == WriteOutcome.Done;
    }

    /// <summary>Deletes up to <paramref name="max"/> challenges that expired before <paramref name="now"/> (each conditional on the row read). Returns how many went.</summary>
    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        int deleted = 0;
        await foreach (var row in _challenges.QueryAsync(TableClient.CreateQueryFilter($"ExpiresAt lt {now}"), ["PartitionKey", "RowKey"], maxPerPage: Math.Min(max, 1000), cancellationToken))
        {
            if (await _challenges.DeleteAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken) == WriteOutcome.Done && ++deleted == max)
            {
                break;
            }
        }
        return deleted;
    }
}
