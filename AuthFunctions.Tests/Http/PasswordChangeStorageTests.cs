using System.Net;
using AuthFunctions.Tests.Infrastructure;
using AuthFunctions.Tokens;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// README (Hardening, Spent material is deleted): "a password change delete[s] the ended sessions' rows and
/// refresh-token hashes" — read straight from the app's table in Azurite after the change.
/// </summary>
public sealed class PasswordChangeStorageTests(AppFixture fixture) : AppTestBase(fixture)
{
    private static string Claim(TokenPair tokens, string name) => TokenForge.Payload(tokens.Access)[name]!.GetValue<string>();

    /// <summary>Every string value of every row in the user's partition of <c>users</c>, by row key.</summary>
    private async Task<Dictionary<string, string>> PartitionTextAsync(string userId) =>
        await App.Table("users").QueryAsync<TableEntity>(e => e.PartitionKey == userId)
            .ToDictionaryAsync(e => e.RowKey, e => Text(e));

    private static string Text(TableEntity row) => string.Join(' ', row.Select(property => property.Value).OfType<string>());

    [Fact]
    public async Task APasswordChangeDeletesTheEndedSessionsRowsAndRefreshTokenHashes()
    {
        var (email, rotated) = await App.NewUserAsync();
        var other = await App.LoginAsync(email);
        var changer = await App.LoginAsync(email);
        // One session rotated once: its row holds the spent token's hash beside the live one.
        var refreshed = await ProblemAssert.JsonAsync(await App.RefreshAsync(rotated.Refresh), HttpStatusCode.OK);
        string rotatedRefresh = refreshed.GetProperty("refresh_token").GetString()!;
        string userId = Claim(changer, "sub");
        string[] endedHashes = [.. new[] { rotated.Refresh, rotatedRefresh, other.Refresh }.Select(TokenService.HashRefreshToken)];
        string changerHash = TokenService.HashRefreshToken(changer.Refresh);
        var before = await PartitionTextAsync(userId);
        Assert.All(endedHashes.Append(changerHash), hash => Assert.Contains(before.Values, text => text.Contains(hash, StringComparison.Ordinal)));

        var changed = await App.PostAsync("/api/password", changer.Access, new { current_password = TestApp.Password, new_password = "a brand new passphrase" });
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);

        var after = await PartitionTextAsync(userId);
        Assert.Equal(["profile", "session-" + Claim(changer, "sid")], after.Keys.Where(k => k == "profile" || k.StartsWith("session-", StringComparison.Ordinal)).Order());
        Assert.All(endedHashes, hash => Assert.DoesNotContain(after.Values, text => text.Contains(hash, StringComparison.Ordinal)));
        Assert.Contains(after.Values, text => text.Contains(changerHash, StringComparison.Ordinal));
        // Nowhere else in the table either.
        await foreach (var row in App.Table("users").QueryAsync<TableEntity>())
        {
            string text = Text(row);
            Assert.All(endedHashes, hash => Assert.DoesNotContain(hash, text, StringComparison.Ordinal));
        }
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(rotatedRefresh), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await App.RefreshAsync(changer.Refresh)).StatusCode);
    }
}
