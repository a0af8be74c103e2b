using System.Text.Json.Serialization;
using AuthFunctions.Storage;

namespace AuthFunctions.Users;

/// <summary>
/// The <c>emails</c> table: one row per normalized email, claimed by an atomic insert, pointing at the user.
/// PartitionKey = <see cref="TableKey.Encode"/>(email), RowKey = "".
/// </summary>
public sealed record EmailIndexEntity(string PartitionKey, string RowKey, string UserId, DateTimeOffset CreatedAt) : ITableEntity;

/// <summary>
/// The <c>users</c> table keeps everything of one user in the partition named by the user id, so the
/// per-request revocation check is one single-partition query: RowKey <c>profile</c> for the user,
/// <c>session-{id}</c> for each session.
/// </summary>
public sealed record UserEntity : ITableEntity
{
    public const string ProfileRowKey = "profile";

    public required string PartitionKey { get; init; }

    public string RowKey { get; init; } = ProfileRowKey;

    public required string Email { get; init; }

    public string? FullName { get; init; }

    public required string PasswordHash { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? LastLoginAt { get; init; }

    /// <summary>The last "log out everywhere" (the seeds' logout timestamp), kept for the record.</summary>
    public DateTimeOffset? LoggedOutAt { get; init; }

    /// <summary>
    /// Bumped by every "log out everywhere" and password change; a session is live only while it was
    /// created in the current epoch. A counter, not a time: timestamps with the one-second resolution
    /// of <c>iat</c> would refuse a login made in the same second as a logout (the bug in seed 004).
    /// </summary>
    public int SessionEpoch { get; init; }

    [JsonIgnore]
    public string Id => PartitionKey;
}

/// <summary>One login: its refresh token (hash only) and state. PartitionKey = user id, RowKey = <c>session-{SessionId}</c>.</summary>
public sealed record SessionEntity : ITableEntity
{
    public const string RowKeyPrefix = "session-";

    public required string PartitionKey { get; init; }

    public required string RowKey { get; init; }

    public required int Epoch { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset LastUsedAt { get; init; }

    public required DateTimeOffset RefreshExpiresAt { get; init; }

    /// <summary>SHA-256 of the current refresh token, base64url. The token itself is never stored (ASVS 7.2.x).</summary>
    public required string RefreshTokenHash { get; init; }

    /// <summary>
    /// Hashes of the most recent spent refresh tokens, space-separated, oldest first: presenting one is
    /// reuse (ASVS 10.4.5 / RFC 9700 §4.14.2), except the last (the token the current one replaced)
    /// within the grace window.
    /// </summary>
    public string? SpentRefreshTokenHashes { get; init; }

    public DateTimeOffset? RotatedAt { get; init; }

    public string? UserAgent { get; init; }

    [JsonIgnore]
    public string SessionId => RowKey[RowKeyPrefix.Length..];

    public static string RowKeyFor(string sessionId) => RowKeyPrefix + sessionId;
}

/// <summary>Both row shapes of a user partition, as one query returns them.</summary>
public sealed record UserPartitionRow : ITableEntity
{
    public required string PartitionKey { get; init; }

    public required string RowKey { get; init; }

    public string? Email { get; init; }

    public string? FullName { get; init; }

    public DateTimeOffset? CreatedAt { get; init; }

    public DateTimeOffset? LastLoginAt { get; init; }

    public int SessionEpoch { get; init; }

    public int Epoch { get; init; }
}

/// <summary>A merge that touches only the columns it names (null properties are not sent).</summary>
public sealed record UserProfilePatch(string PartitionKey) : ITableEntity
{
    public string RowKey => UserEntity.ProfileRowKey;

    public DateTimeOffset? LastLoginAt { get; init; }

    public string? PasswordHash { get; init; }

    public int? SessionEpoch { get; init; }

    public DateTimeOffset? LoggedOutAt { get; init; }
}

public sealed record SessionEpochPatch(string PartitionKey, string RowKey, int Epoch) : ITableEntity;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(UserProfilePatch))]
[JsonSerializable(typeof(SessionEpochPatch))]
[JsonSerializable(typeof(EmailIndexEntity))]
[JsonSerializable(typeof(UserEntity))]
[JsonSerializable(typeof(SessionEntity))]
[JsonSerializable(typeof(UserPartitionRow))]
internal sealed partial class UserStorageJson : JsonSerializerContext;
