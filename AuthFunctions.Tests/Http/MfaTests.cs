using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// Two-step sign-in with an authenticator app (issue 22) through the real host over Azurite: enrolment, the 403
/// mfa-required with its mfa_token, login-mfa, codes in the login body, recovery codes, replay and window edges on the
/// worker's controlled clock, amr/acr in issued and refreshed tokens, and /api/me. Every code sent is computed by
/// oathtool and pyotp from the secret the app returned.
/// </summary>
public sealed class MfaTests(AppFixture fixture) : AppTestBase(fixture)
{
    private async Task<JsonElement> MfaRequiredAsync(string email, string password = TestApp.Password)
    {
        var response = await App.Client.PostAsJsonAsync("/api/login", new { email, password });
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("https://authfunctions.dev/problems/mfa-required", problem.GetProperty("type").GetString());
        Assert.False(problem.TryGetProperty("access_token", out _));
        return problem;
    }

    private async Task<string> MfaTokenAsync(string email) => (await MfaRequiredAsync(email)).GetProperty("mfa_token").GetString()!;

    private Task<HttpResponseMessage> LoginMfaAsync(object body) => App.Client.PostAsJsonAsync("/api/login/mfa", body);

    private static void AssertAssurance(string accessToken, string[] amr, string acr)
    {
        var payload = TokenForge.Payload(accessToken);
        Assert.Equal(amr, payload["amr"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal(acr, payload["acr"]!.GetValue<string>());
    }

    [Fact]
    public async Task EnrolmentGivesAnRfc6238SecretUriAndSvgAndIsPendingUntilConfirmed()
    {
        var (email, tokens) = await App.NewUserAsync("mfa-enrol");
        var enrol = await ProblemAssert.JsonAsync(await App.PostAsync("/api/mfa/totp", tokens.Access), HttpStatusCode.OK);
        string secret = enrol.GetProperty("secret").GetString()!;
        Assert.Matches("^[A-Z2-7]{32}$", secret); // 160 bits in base32
        var uri = new Uri(enrol.GetProperty("otpauth_uri").GetString()!);
        Assert.Equal("otpauth", uri.Scheme);
        Assert.Equal("totp", uri.Host);
        Assert.Equal("AuthFunctions:" + email, Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')));
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        Assert.Equal(secret, query["secret"]);
        Assert.Equal("AuthFunctions", query["issuer"]);
        Assert.True(query["algorithm"] is null or "SHA1");
        Assert.True(query["digits"] is null or "6");
        Assert.True(query["period"] is null or "30");
        Assert.Contains("<svg", enrol.GetProperty("qr_svg").GetString()!, StringComparison.Ordinal);

        // Pending: login still needs only the password, and /me says no factor.
        Assert.Equal(HttpStatusCode.OK, (await App.Client.PostAsJsonAsync("/api/login", new { email, password = TestApp.Password })).StatusCode);
        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK);
        Assert.False(me.GetProperty("mfa").GetProperty("totp").GetBoolean());

        // A new start replaces the pending one: the first secret's code no longer confirms.
        var again = await ProblemAssert.JsonAsync(await App.PostAsync("/api/mfa/totp", tokens.Access), HttpStatusCode.OK);
        string second = again.GetProperty("secret").GetString()!;
        Assert.NotEqual(secret, second);
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/mfa/totp/confirm", tokens.Access,
            new { code = await IndependentTotp.CodeAsync(secret, App.Clock.GetUtcNow()) }), HttpStatusCode.Unauthorized);
        var confirmed = await ProblemAssert.JsonAsync(await App.PostAsync("/api/mfa/totp/confirm", tokens.Access,
            new { code = await IndependentTotp.OathtoolAsync(second, App.Clock.GetUtcNow()) }), HttpStatusCode.OK);
        Assert.Equal(10, confirmed.GetProperty("recovery_codes").GetArrayLength());

        // Enrolling ends no session; an active factor cannot be enrolled over.
        me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK);
        Assert.True(me.GetProperty("mfa").GetProperty("totp").GetBoolean());
        Assert.Equal(10, me.GetProperty("mfa").GetProperty("recovery_codes_left").GetInt32());
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/mfa/totp", tokens.Access), HttpStatusCode.Conflict);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    /// <summary>A reset link proves the mailbox, not the second factor: the factor stays, and the new password alone still gets mfa-required.</summary>
    [Fact]
    public async Task APasswordResetByEmailKeepsTheFactor()
    {
        const string newPassword = "a fresh reset passphrase";
        var user = await App.NewMfaUserAsync("mfa-reset");
        var maildev = await MailDevServer.Shared;
        await maildev.WaitForMessageAsync(user.Email);
        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/password/forgot", null, new { email = user.Email })).StatusCode);
        string token = (await maildev.WaitForMessageAsync(user.Email, count: 2)).LinkToken("reset-password");

        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/password/reset", null, new { token, new_password = newPassword })).StatusCode);

        string mfaToken = (await MfaRequiredAsync(user.Email, newPassword)).GetProperty("mfa_token").GetString()!;
        var finished = await ProblemAssert.JsonAsync(await LoginMfaAsync(new { mfa_token = mfaToken, code = await App.CodeNowAsync(user) }), HttpStatusCode.OK);
        AssertAssurance(finished.GetProperty("access_token").GetString()!, ["pwd", "otp"], "aal2");
    }

    [Fact]
    public async Task PasswordAloneGetsMfaRequiredAndLoginMfaFinishesAtAal2KeptByRefresh()
    {
        var user = await App.NewMfaUserAsync();
        await ProblemAssert.IsProblemAsync(await App.Client.PostAsJsonAsync("/api/login", new { email = user.Email, password = "wrong password here" }), HttpStatusCode.Unauthorized);
        string mfaToken = await MfaTokenAsync(user.Email);
        var response = await LoginMfaAsync(new { mfa_token = mfaToken, code = await App.CodeNowAsync(user) });
        var tokens = await ProblemAssert.JsonAsync(response, HttpStatusCode.OK);
        AssertAssurance(tokens.GetProperty("access_token").GetString()!, ["pwd", "otp"], "aal2");

        var refreshed = await ProblemAssert.JsonAsync(await App.RefreshAsync(tokens.GetProperty("refresh_token").GetString()!), HttpStatusCode.OK);
        AssertAssurance(refreshed.GetProperty("access_token").GetString()!, ["pwd", "otp"], "aal2");
        // The session from before enrolment stays aal1.
        AssertAssurance(user.Aal1Tokens.Access, ["pwd"], "aal1");

        // The mfa_token is single use.
        App.Clock.Advance(TimeSpan.FromSeconds(30));
        await ProblemAssert.IsProblemAsync(await LoginMfaAsync(new { mfa_token = mfaToken, code = await App.CodeNowAsync(user) }), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task EachTimeStepIsAcceptedOnceAndTheWindowIsOneStepEitherSide()
    {
        var user = await App.NewMfaUserAsync("mfa-window");
        App.Clock.Advance(TimeSpan.FromSeconds(90)); // two steps before now are unused: -2 is refused for the window alone
        async Task<HttpStatusCode> LoginWithCodeAsync(int steps) =>
            (await App.Client.PostAsJsonAsync("/api/login", new { email = user.Email, password = TestApp.Password, totp_code = await App.CodeNowAsync(user, steps) })).StatusCode;

        Assert.Equal(HttpStatusCode.Unauthorized, await LoginWithCodeAsync(-2));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginWithCodeAsync(2));
        Assert.Equal(HttpStatusCode.OK, await LoginWithCodeAsync(-1));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginWithCodeAsync(-1)); // replayed inside its window
        Assert.Equal(HttpStatusCode.OK, await LoginWithCodeAsync(0));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginWithCodeAsync(0));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginWithCodeAsync(-1)); // older than the last accepted step
        Assert.Equal(HttpStatusCode.OK, await LoginWithCodeAsync(1));
        App.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginWithCodeAsync(-1)); // that step was used before it came round
        Assert.Equal(HttpStatusCode.OK, await LoginWithCodeAsync(0));
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task CodeInTheLoginBodyFinishesInOneRequestAndRecoveryCodesAreSingleUse()
    {
        var user = await App.NewMfaUserAsync("mfa-onestep");
        var withCode = await ProblemAssert.JsonAsync(await App.Client.PostAsJsonAsync("/api/login",
            new { email = user.Email, password = TestApp.Password, totp_code = await App.CodeNowAsync(user) }), HttpStatusCode.OK);
        AssertAssurance(withCode.GetProperty("access_token").GetString()!, ["pwd", "otp"], "aal2");

        var withRecovery = await ProblemAssert.JsonAsync(await App.Client.PostAsJsonAsync("/api/login",
            new { email = user.Email, password = TestApp.Password, recovery_code = user.RecoveryCodes[0].ToLowerInvariant() }), HttpStatusCode.OK);
        AssertAssurance(withRecovery.GetProperty("access_token").GetString()!, ["pwd", "mfa"], "aal2");
        await ProblemAssert.IsProblemAsync(await App.Client.PostAsJsonAsync("/api/login",
            new { email = user.Email, password = TestApp.Password, recovery_code = user.RecoveryCodes[0] }), HttpStatusCode.Unauthorized);

        var viaToken = await ProblemAssert.JsonAsync(await LoginMfaAsync(new { mfa_token = await MfaTokenAsync(user.Email), recovery_code = user.RecoveryCodes[1] }), HttpStatusCode.OK);
        AssertAssurance(viaToken.GetProperty("access_token").GetString()!, ["pwd", "mfa"], "aal2");
        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", user.Aal1Tokens.Access), HttpStatusCode.OK);
        Assert.Equal(8, me.GetProperty("mfa").GetProperty("recovery_codes_left").GetInt32());
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task MfaTokenDiesAfterFiveWrongCodesAfterFiveMinutesAndWhenTheCredentialChanges()
    {
        var user = await App.NewMfaUserAsync("mfa-token");
        string killed = await MfaTokenAsync(user.Email);
        for (int i = 0; i < 5; i++)
        {
            await ProblemAssert.IsProblemAsync(await LoginMfaAsync(new { mfa_token = killed, code = "000000" == await App.CodeNowAsync(user) ? "111111" : "000000" }), HttpStatusCode.Unauthorized);
        }
        App.Clock.Advance(TimeSpan.FromSeconds(5)); // past the code pool's first delay
        var dead = await ProblemAssert.IsProblemAsync(await LoginMfaAsync(new { mfa_token = killed, code = await App.CodeNowAsync(user) }), HttpStatusCode.Unauthorized);
        Assert.Contains("mfa_token", dead.GetProperty("detail").GetString()!, StringComparison.Ordinal);

        string expired = await MfaTokenAsync(user.Email);
        App.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        await ProblemAssert.IsProblemAsync(await LoginMfaAsync(new { mfa_token = expired, code = await App.CodeNowAsync(user) }), HttpStatusCode.Unauthorized);

        // Bound to the password check: a logout everywhere (the epoch moves) kills it.
        var fresh = await ProblemAssert.JsonAsync(await App.Client.PostAsJsonAsync("/api/login",
            new { email = user.Email, password = TestApp.Password, totp_code = await App.CodeNowAsync(user) }), HttpStatusCode.OK);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
        string bound = await MfaTokenAsync(user.Email);
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout", fresh.GetProperty("access_token").GetString())).StatusCode);
        await ProblemAssert.IsProblemAsync(await LoginMfaAsync(new { mfa_token = bound, code = await App.CodeNowAsync(user) }), HttpStatusCode.Unauthorized);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("12345")]
    [InlineData("1234567")]
    [InlineData("12a456")]
    [InlineData("１２３４５６")]
    [InlineData(" 123456")]
    [InlineData("123 456")]
    [InlineData("+12345")]
    public async Task MalformedCodesAreRefusedWithValidationProblemsAndChangeNothing(string code)
    {
        var user = await App.NewMfaUserAsync("mfa-bad");
        string mfaToken = await MfaTokenAsync(user.Email);
        int rows = await App.CountEntitiesAsync();
        var problems = new[]
        {
            await App.Client.PostAsJsonAsync("/api/login", new { email = user.Email, password = TestApp.Password, totp_code = code }),
            await LoginMfaAsync(new { mfa_token = mfaToken, code }),
            await App.PostAsync("/api/mfa/totp/confirm", user.Aal1Tokens.Access, new { code }),
            await App.PostAsync("/api/mfa/recovery-codes", user.Aal1Tokens.Access, new { code }),
            await App.PostAsync("/api/password", user.Aal1Tokens.Access, new { current_password = TestApp.Password, new_password = "a much better passphrase", code }),
        };
        foreach (var response in problems)
        {
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.DoesNotContain(code, problem.ToString(), StringComparison.Ordinal);
        }
        Assert.Equal(rows, await App.CountEntitiesAsync());
        // The token is intact: a right code still finishes.
        Assert.Equal(HttpStatusCode.OK, (await LoginMfaAsync(new { mfa_token = mfaToken, code = await App.CodeNowAsync(user) })).StatusCode);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task HugeBodiesAreRefusedWith413()
    {
        string padding = new('x', 8 * 1024);
        await ProblemAssert.IsProblemAsync(await LoginMfaAsync(new { mfa_token = padding, code = "123456" }), HttpStatusCode.RequestEntityTooLarge);
        var (_, tokens) = await App.NewUserAsync("mfa-huge");
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/mfa/totp/confirm", tokens.Access, new { code = padding }), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task SensitiveChangesFromAnAal1SessionNeedACode()
    {
        var user = await App.NewMfaUserAsync("mfa-stepup");
        string aal1 = user.Aal1Tokens.Access;
        const string newPassword = "another long passphrase";

        var required = await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/password", aal1, new { current_password = TestApp.Password, new_password = newPassword }), HttpStatusCode.Forbidden);
        Assert.Equal("https://authfunctions.dev/problems/step-up-required", required.GetProperty("type").GetString());
        await ProblemAssert.IsProblemAsync(await App.SendAsync(HttpMethod.Delete, "/api/me", aal1, JsonContent.Create(new { password = TestApp.Password })), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/mfa/recovery-codes", aal1, new { }), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblemAsync(await App.SendAsync(HttpMethod.Delete, "/api/mfa/totp", aal1, JsonContent.Create(new { password = TestApp.Password })), HttpStatusCode.Forbidden);
        string wrong = await App.CodeNowAsync(user) == "000000" ? "111111" : "000000";
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/password", aal1, new { current_password = TestApp.Password, new_password = newPassword, code = wrong }), HttpStatusCode.Unauthorized);
        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", aal1), HttpStatusCode.OK);
        Assert.True(me.GetProperty("mfa").GetProperty("totp").GetBoolean());

        // A code in the request passes the step-up.
        var renewed = await ProblemAssert.JsonAsync(await App.PostAsync("/api/mfa/recovery-codes", aal1, new { code = await App.CodeNowAsync(user) }), HttpStatusCode.OK);
        var newCodes = renewed.GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!).ToList();
        Assert.Equal(10, newCodes.Count);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/password", aal1,
            new { current_password = TestApp.Password, new_password = newPassword, recovery_code = newCodes[0] })).StatusCode);

        // The old set died with the renewal; an aal2 session needs no code.
        await ProblemAssert.IsProblemAsync(await App.Client.PostAsJsonAsync("/api/login",
            new { email = user.Email, password = newPassword, recovery_code = user.RecoveryCodes[2] }), HttpStatusCode.Unauthorized);
        var aal2 = await ProblemAssert.JsonAsync(await App.Client.PostAsJsonAsync("/api/login",
            new { email = user.Email, password = newPassword, totp_code = await App.CodeNowAsync(user) }), HttpStatusCode.OK);
        string aal2Access = aal2.GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await App.PostAsync("/api/mfa/recovery-codes", aal2Access, new { })).StatusCode);

        // Removing the factor (aal2: the password suffices) ends every other session and the recovery codes.
        Assert.Equal(HttpStatusCode.NoContent, (await App.SendAsync(HttpMethod.Delete, "/api/mfa/totp", aal2Access, JsonContent.Create(new { password = newPassword }))).StatusCode);
        await Task.Delay(App.RevocationBound);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/me", aal1));
        me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", aal2Access), HttpStatusCode.OK);
        Assert.False(me.GetProperty("mfa").GetProperty("totp").GetBoolean());
        Assert.Equal(0, me.GetProperty("mfa").GetProperty("recovery_codes_left").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await App.Client.PostAsJsonAsync("/api/login", new { email = user.Email, password = newPassword })).StatusCode);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task AccountDeletionWithACodeRemovesTheFactorRows()
    {
        var user = await App.NewMfaUserAsync("mfa-delete");
        Assert.Equal(HttpStatusCode.NoContent, (await App.SendAsync(HttpMethod.Delete, "/api/me", user.Aal1Tokens.Access,
            JsonContent.Create(new { password = TestApp.Password, code = await App.CodeNowAsync(user) }))).StatusCode);
        var rows = new List<string>();
        await foreach (var row in App.Table("users").QueryAsync<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == user.UserId))
        {
            rows.Add(row.RowKey);
        }
        Assert.Empty(rows);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task SecretsAreStoredSealedAndAnUnreadableOneIsAFailedCheckNotA500()
    {
        var user = await App.NewMfaUserAsync("mfa-sealed");
        var users = App.Table("users");
        var row = (await users.GetEntityAsync<Azure.Data.Tables.TableEntity>(user.UserId, "mfa-totp")).Value;
        string stored = row.GetString("Secret");
        Assert.StartsWith("v1.", stored, StringComparison.Ordinal);
        Assert.DoesNotContain(user.Secret, stored, StringComparison.Ordinal);
        var recovery = (await users.GetEntityAsync<Azure.Data.Tables.TableEntity>(user.UserId, "mfa-recovery")).Value;
        Assert.DoesNotContain(user.RecoveryCodes[0].Replace("-", "", StringComparison.Ordinal), recovery.GetString("Hashes"), StringComparison.Ordinal);

        // Another user's sealed secret copied into this row does not open here (the user id is bound in).
        var other = await App.NewMfaUserAsync("mfa-sealed-other");
        row["Secret"] = (await users.GetEntityAsync<Azure.Data.Tables.TableEntity>(other.UserId, "mfa-totp")).Value.GetString("Secret");
        await users.UpdateEntityAsync(row, Azure.ETag.All);
        var refused = await App.Client.PostAsJsonAsync("/api/login", new { email = user.Email, password = TestApp.Password, totp_code = await App.CodeNowAsync(other) });
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Unauthorized);
        await App.Logs.WaitForAsync(e => e.EventId.Name == "TotpSecretUnreadable" && e.State.GetValueOrDefault("UserId") == user.UserId);
        App.Clock.Advance(TimeSpan.FromSeconds(30));
    }
}
