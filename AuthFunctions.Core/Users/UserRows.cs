using AuthFunctions.Storage;
using Azure.Data.Tables;

namespace AuthFunctions.Users;

/// <summary>
/// The row layout of the <c>users</c> and <c>emails</c> tables, mapped by hand (no reflection on the hot path).
/// <c>users</c>: one partition per user id, RowKey <c>profile</c> for the user and <c>session-{id}</c> per
/// session, so the access-token check is one single-partition query. <c>emails</c>: one partition per
/// normalized email (<see cref="Storage.TableKey"/>), RowKey "" for the index row that claims the email.
/// </summary>
internal static class UserRows
{
    public const string ProfileRowKey = "profile";
    public const string SessionRowKeyPrefix = "session-";

    public static string SessionRowKey(string sessionId) => SessionRowKeyPrefix + sessionId;

    public static bool IsSessionRow(string rowKey) => rowKey.StartsWith(SessionRowKeyPrefix, StringComparison.Ordinal);

    /// <summary>A range filter on RowKey that selects exactly the session rows of a partition.</summary>
    public static string SessionRowsFilter(string userId) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {userId} and RowKey gt {SessionRowKeyPrefix} and RowKey lt {SessionRowKeyPrefix + "~"}");

    public static TableEntity NewProfile(UserProfile profile, string passwordHash, bool passwordNormalized) => new(profile.Id, ProfileRowKey)
    {
        ["Email"] = profile.Email,
        ["FullName"] = profile.FullName,
        ["PasswordHash"] = passwordHash,
        ["PasswordNormalized"] = passwordNormalized,
        ["CreatedAt"] = profile.CreatedAt,
        ["SessionEpoch"] = profile.SessionEpoch,
    };

    public static UserProfile ToProfile(TableEntity row) => new(
        row.PartitionKey,
        row.GetString("Email") ?? "",
        row.GetString("FullName"),
        row.GetTime("CreatedAt") ?? default,
        row.GetTime("LastLoginAt"),
        row.GetInt32("SessionEpoch") ?? 0,
        row.GetBoolean("EmailVerified") ?? false);

    public static UserAccount ToAccount(TableEntity row) =>
        new(ToProfile(row), row.GetString("PasswordHash") ?? "", row.GetBoolean("PasswordNormalized") ?? false, row.ETag)
        {
            LinksSentAt = Enum.GetValues<LinkPurpose>()
                .Where(purpose => row.GetTime(LinkSentAtColumn(purpose)) is not null)
                .ToDictionary(purpose => purpose, purpose => row.GetTime(LinkSentAtColumn(purpose))!.Value),
        };

    /// <summary>The profile column holding when the latest email with a link of <paramref name="purpose"/> went out: the minute's slot.</summary>
    public static string LinkSentAtColumn(LinkPurpose purpose) => purpose == LinkPurpose.VerifyEmail ? "VerifyEmailSentAt" : "ResetPasswordSentAt";

    /// <summary>A merge of the profile row that only stamps the last login: written in one transaction with a new session, so the session exists only if the profile does.</summary>
    public static TableEntity LoginStamp(string userId, DateTimeOffset at) => new(userId, ProfileRowKey) { ["LastLoginAt"] = at };

    public static TableEntity ToRow(Session session) => new(session.UserId, SessionRowKey(session.Id))
    {
        ["Epoch"] = session.Epoch,
        ["CreatedAt"] = session.CreatedAt,
        ["LastUsedAt"] = session.LastUsedAt,
        ["RefreshExpiresAt"] = session.RefreshExpiresAt,
        ["RefreshTokenHash"] = session.RefreshTokenHash,
        ["SpentRefreshTokenHashes"] = session.SpentRefreshTokenHashes.Count == 0 ? null : string.Join(' ', session.SpentRefreshTokenHashes),
        ["RotatedAt"] = session.RotatedAt,
        ["UserAgent"] = session.UserAgent,
        ["RememberMe"] = session.RememberMe,
        ["AbsoluteExpiresAt"] = session.AbsoluteExpiresAt,
        ["Amr"] = session.Assurance.MethodsText,
        ["Acr"] = session.Assurance.Level,
        ["ReauthenticatedAt"] = session.ReauthenticatedAt,
    };

    public static Session ToSession(TableEntity row) => new()
    {
        UserId = row.PartitionKey,
        Id = row.RowKey[SessionRowKeyPrefix.Length..],
        Epoch = row.GetInt32("Epoch") ?? -1,
        CreatedAt = row.GetTime("CreatedAt") ?? default,
        LastUsedAt = row.GetTime("LastUsedAt") ?? default,
        RefreshExpiresAt = row.GetTime("RefreshExpiresAt") ?? default,
        RefreshTokenHash = row.GetString("RefreshTokenHash") ?? "",
        SpentRefreshTokenHashes = (row.GetString("SpentRefreshTokenHashes") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
        RotatedAt = row.GetTime("RotatedAt"),
        UserAgent = row.GetString("UserAgent"),
        RememberMe = row.GetBoolean("RememberMe") ?? true,
        AbsoluteExpiresAt = row.GetTime("AbsoluteExpiresAt"),
        Assurance = SessionAssurance.FromStored(row.GetString("Amr"), row.GetString("Acr")),
        ReauthenticatedAt = row.GetTime("ReauthenticatedAt"),
        Version = row.ETag,
    };
}
