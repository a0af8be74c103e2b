using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// The second factor's dead rows and what must not be left in logs: the cleanup timer (run through the host's admin API)
/// deletes expired mfa_tokens and enrolments never confirmed, and keeps live ones and active factors; a whole two-step
/// flow leaves no secret, URI, code, recovery code or mfa_token in any log line.
/// </summary>
public sealed class MfaCleanupTests(AppFixture fixture) : AppTestBase(fixture)
{
    private async Task<List<string>> RowKeysAsync(string userId) =>
        await App.Table("users").QueryAsync<TableEntity>(e => e.PartitionKey == userId, select: ["RowKey"]).Select(e => e.RowKey).ToListAsync();

    private async Task<string> MfaTokenAsync(string email)
    {
        var response = await App.Client.PostAsJsonAsync("/api/login", new { email, password = TestApp.Password });
        return (await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden)).GetProperty("mfa_token").GetString()!;
    }

    [Fact]
    public async Task ExpiredMfaTokensAndAbandonedEnrolmentsAreDeletedAndLiveOnesStay()
    {
        var user = await App.NewMfaUserAsync("cleanup-mfa");
        await MfaTokenAsync(user.Email);
        var (_, pendingTokens) = await App.NewUserAsync("cleanup-pending");
        string pendingUser = TokenForge.Payload(pendingTokens.Access)["sub"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await App.PostAsync("/api/mfa/totp", pendingTokens.Access)).StatusCode);
        App.Clock.Advance(TimeSpan.FromMinutes(16)); // past the token's 5 minutes and the enrolment's 15
        string live = await MfaTokenAsync(user.Email);

        await App.RunFunctionAsync("cleanup");

        var rows = await RowKeysAsync(user.UserId);
        Assert.Single(rows, key => key.StartsWith("mfa-token-", StringComparison.Ordinal));
        Assert.Contains("mfa-totp", rows);
        Assert.Contains("mfa-recovery", rows);
        Assert.DoesNotContain("mfa-totp", await RowKeysAsync(pendingUser));
        Assert.Equal(HttpStatusCode.OK, (await App.Client.PostAsJsonAsync("/api/login/mfa", new { mfa_token = live, code = await App.CodeNowAsync(user) })).StatusCode);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task NoSecretCodeUriOrMfaTokenReachesTheLogs()
    {
        var (email, tokens) = await App.NewUserAsync("mfa-logs");
        var enrol = await ProblemAssert.JsonAsync(await App.PostAsync("/api/mfa/totp", tokens.Access), HttpStatusCode.OK);
        string secret = enrol.GetProperty("secret").GetString()!;
        string uri = enrol.GetProperty("otpauth_uri").GetString()!;
        var sent = new List<string> { await IndependentTotp.CodeAsync(secret, App.Clock.GetUtcNow()) };
        var confirmed = await ProblemAssert.JsonAsync(await App.PostAsync("/api/mfa/totp/confirm", tokens.Access, new { code = sent[0] }), HttpStatusCode.OK);
        var recovery = confirmed.GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!).ToList();
        App.Clock.Advance(TimeSpan.FromSeconds(30));
        string mfaToken = await MfaTokenAsync(email);
        sent.Add(await IndependentTotp.CodeAsync(secret, App.Clock.GetUtcNow()));
        Assert.Equal(HttpStatusCode.OK, (await App.Client.PostAsJsonAsync("/api/login/mfa", new { mfa_token = mfaToken, code = sent[1] })).StatusCode);
        await ProblemAssert.IsProblemAsync(await App.Client.PostAsJsonAsync("/api/login/mfa", new { mfa_token = mfaToken, recovery_code = recovery[0] }), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await App.Client.PostAsJsonAsync("/api/login", new { email, password = TestApp.Password, recovery_code = recovery[1] })).StatusCode);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
        await App.Logs.WaitForAsync(e => e.EventId.Name == "RecoveryCodeUsed");

        string everything = string.Join("\n", App.Logs.Entries.Select(e => e.AllText)) + "\n" + App.Logs.AllText;
        Assert.Contains("Second sign-in step", everything, StringComparison.Ordinal); // the flow was logged at all
        foreach (var value in new[] { secret, uri, mfaToken, Uri.EscapeDataString(secret) }
            .Concat(recovery.SelectMany(code => new[] { code, code.Replace("-", "", StringComparison.Ordinal) })))
        {
            Assert.DoesNotContain(value, everything, StringComparison.OrdinalIgnoreCase);
        }
        foreach (var code in sent)
        {
            Assert.DoesNotMatch($"(?<![0-9]){code}(?![0-9])", everything);
        }
    }
}
