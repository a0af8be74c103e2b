using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuthFunctions.Tests.Infrastructure;
using static AuthFunctions.Tests.Infrastructure.PasskeyCeremonies;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// The passkey functions through the real host over Azurite, with a software authenticator (EC P-256, packed and none
/// attestations): registration while signed in, discoverable sign-in, list and delete, and every way a ceremony must fail.
/// </summary>
public sealed class PasskeyTests(AppFixture fixture) : AppTestBase(fixture)
{
    protected override IDictionary<string, string?>? Settings => PasskeyCeremonies.Settings();

    private static string AmrAndAcr(string accessToken)
    {
        var payload = TokenForge.Payload(accessToken);
        return string.Join(' ', payload["amr"]!.AsArray().Select(value => (string)value!)) + "/" + (string)payload["acr"]!;
    }

    [Fact]
    public async Task RegisterSignInWithoutEmailListAndDelete()
    {
        var (email, tokens) = await App.NewUserAsync("passkey");
        using var authenticator = NewAuthenticator();
        authenticator.SignCount = 1;

        var options = await RegisterOptionsAsync(App, tokens.Access);
        Assert.Equal(RpId, options.GetProperty("rp").GetProperty("id").GetString());
        Assert.Equal("required", options.GetProperty("authenticatorSelection").GetProperty("residentKey").GetString());
        Assert.Equal("required", options.GetProperty("authenticatorSelection").GetProperty("userVerification").GetString());
        Assert.Equal("none", options.GetProperty("attestation").GetString());
        Assert.Equal(32, Convert.FromBase64String(Base64(options.GetProperty("challenge").GetString()!)).Length);
        Assert.Equal(email, options.GetProperty("user").GetProperty("name").GetString());
        Assert.Empty(options.GetProperty("excludeCredentials").EnumerateArray());

        var created = await ProblemAssert.JsonAsync(await SendRegistrationAsync(App, tokens.Access, authenticator.Register(options), "Laptop"), HttpStatusCode.Created);
        string id = created.GetProperty("id").GetString()!;
        Assert.Equal("Laptop", created.GetProperty("name").GetString());
        Assert.True(created.TryGetProperty("created_at", out _));

        // Sign-in names no account: the options list no credentials, and the answer alone says whose passkey it is.
        var loginOptions = await LoginOptionsAsync(App);
        Assert.Empty(loginOptions.GetProperty("allowCredentials").EnumerateArray());
        Assert.Equal("required", loginOptions.GetProperty("userVerification").GetString());
        Assert.Equal(RpId, loginOptions.GetProperty("rpId").GetString());
        var signedIn = await ProblemAssert.JsonAsync(
            await SendLoginAsync(App, loginOptions.GetProperty("challenge_id").GetString(), authenticator.Assert(loginOptions)), HttpStatusCode.OK);
        string access = signedIn.GetProperty("access_token").GetString()!;
        Assert.Equal("Bearer", signedIn.GetProperty("token_type").GetString());
        Assert.False(string.IsNullOrEmpty(signedIn.GetProperty("refresh_token").GetString()));
        Assert.Equal("hwk user/aal2", AmrAndAcr(access));
        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", access), HttpStatusCode.OK);
        Assert.Equal(email, me.GetProperty("email").GetString());
        // Refresh keeps how the session was authenticated.
        var refreshed = await ProblemAssert.JsonAsync(await App.RefreshAsync(signedIn.GetProperty("refresh_token").GetString()!), HttpStatusCode.OK);
        Assert.Equal("hwk user/aal2", AmrAndAcr(refreshed.GetProperty("access_token").GetString()!));

        var list = await ProblemAssert.JsonAsync(await App.GetAsync("/api/passkeys", access), HttpStatusCode.OK);
        var passkey = Assert.Single(list.GetProperty("passkeys").EnumerateArray());
        Assert.Equal(id, passkey.GetProperty("id").GetString());
        Assert.Equal("Laptop", passkey.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.String, passkey.GetProperty("last_used_at").ValueKind);
        Assert.Contains(id, (await RegisterOptionsAsync(App, access)).GetProperty("excludeCredentials").EnumerateArray()
            .Select(c => Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Convert.FromBase64String(Base64(c.GetProperty("id").GetString()!)))).TrimEnd('=').Replace('+', '-').Replace('/', '_')));

        Assert.Equal(HttpStatusCode.NoContent, (await App.SendAsync(HttpMethod.Delete, $"/api/passkeys/{id}", access)).StatusCode);
        Assert.Empty((await ProblemAssert.JsonAsync(await App.GetAsync("/api/passkeys", access), HttpStatusCode.OK)).GetProperty("passkeys").EnumerateArray());
        await ProblemAssert.IsProblemAsync(await App.SendAsync(HttpMethod.Delete, $"/api/passkeys/{id}", access), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, authenticator), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ANoneAttestationIsAccepted()
    {
        var (_, tokens) = await App.NewUserAsync("passkey");
        using var authenticator = NewAuthenticator();
        await ProblemAssert.JsonAsync(await RegisterAsync(App, tokens.Access, authenticator, format: "none"), HttpStatusCode.Created);
        await ProblemAssert.JsonAsync(await LoginAsync(App, authenticator), HttpStatusCode.OK);
    }

    [Fact]
    public async Task ACeremonyFromAnotherOriginIsRefused()
    {
        var (_, tokens, authenticator) = await NewUserWithPasskeyAsync(App);
        authenticator.Origin = "https://www.example.net";
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, authenticator), HttpStatusCode.Unauthorized);
        using var other = NewAuthenticator();
        other.Origin = "https://evil.example.com";
        await ProblemAssert.IsProblemAsync(await RegisterAsync(App, tokens.Access, other), HttpStatusCode.BadRequest);
        authenticator.Origin = Origin;
        await ProblemAssert.JsonAsync(await LoginAsync(App, authenticator), HttpStatusCode.OK);
    }

    [Fact]
    public async Task ACeremonyForAnotherRelyingPartyIsRefused()
    {
        var (_, tokens, authenticator) = await NewUserWithPasskeyAsync(App);
        authenticator.RpId = "example.net";
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, authenticator), HttpStatusCode.Unauthorized);
        using var other = NewAuthenticator();
        other.RpId = "www.example.com";
        await ProblemAssert.IsProblemAsync(await RegisterAsync(App, tokens.Access, other), HttpStatusCode.BadRequest);
        Assert.Single((await ProblemAssert.JsonAsync(await App.GetAsync("/api/passkeys", tokens.Access), HttpStatusCode.OK)).GetProperty("passkeys").EnumerateArray());
    }

    [Fact]
    public async Task AChallengeSignsInOnce()
    {
        var (_, _, authenticator) = await NewUserWithPasskeyAsync(App);
        var options = await LoginOptionsAsync(App);
        string? challengeId = options.GetProperty("challenge_id").GetString();
        var assertion = authenticator.Assert(options);
        await ProblemAssert.JsonAsync(await SendLoginAsync(App, challengeId, assertion), HttpStatusCode.OK);
        // The same answer again, and a new answer to the spent challenge.
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, challengeId, assertion), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, challengeId, authenticator.Assert(options)), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AChallengeOfAnotherSignInIsRefused()
    {
        var (_, _, authenticator) = await NewUserWithPasskeyAsync(App);
        var first = await LoginOptionsAsync(App);
        var second = await LoginOptionsAsync(App);
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, first.GetProperty("challenge_id").GetString(), authenticator.Assert(second)), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AnExpiredChallengeIsRefused()
    {
        var (_, tokens, authenticator) = await NewUserWithPasskeyAsync(App);
        var options = await LoginOptionsAsync(App);
        using var second = NewAuthenticator();
        var registration = await RegisterOptionsAsync(App, tokens.Access);
        App.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, options.GetProperty("challenge_id").GetString(), authenticator.Assert(options)), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await SendRegistrationAsync(App, tokens.Access, second.Register(registration)), HttpStatusCode.BadRequest);
        // Fresh challenges work at the new time.
        await ProblemAssert.JsonAsync(await LoginAsync(App, authenticator), HttpStatusCode.OK);
    }

    [Fact]
    public async Task CleanupDeletesExpiredChallengesAndKeepsLiveOnes()
    {
        string expired = (await LoginOptionsAsync(App)).GetProperty("challenge_id").GetString()!;
        App.Clock.Advance(TimeSpan.FromMinutes(6));
        var live = await LoginOptionsAsync(App);
        var challenges = App.Table("passkeychallenges");
        Assert.True((await challenges.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(expired, "")).HasValue);

        await App.RunFunctionAsync("cleanup");

        Assert.False((await challenges.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(expired, "")).HasValue);
        Assert.True((await challenges.GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(live.GetProperty("challenge_id").GetString()!, "")).HasValue);
        // Only its hash is stored.
        var row = (await challenges.GetEntityAsync<Azure.Data.Tables.TableEntity>(live.GetProperty("challenge_id").GetString()!, "")).Value;
        Assert.DoesNotContain(live.GetProperty("challenge").GetString()!, string.Join(" ", row.Select(kv => kv.Value?.ToString())), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserVerificationIsRequired()
    {
        var (_, tokens, authenticator) = await NewUserWithPasskeyAsync(App);
        authenticator.VerifiesUser = false;
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, authenticator), HttpStatusCode.Unauthorized);
        using var other = NewAuthenticator();
        other.VerifiesUser = false;
        await ProblemAssert.IsProblemAsync(await RegisterAsync(App, tokens.Access, other), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ACounterThatGoesBackwardsIsRefusedAsAPossibleClone()
    {
        var (_, _, authenticator) = await NewUserWithPasskeyAsync(App, signCount: 10);
        await ProblemAssert.JsonAsync(await LoginAsync(App, authenticator), HttpStatusCode.OK);
        authenticator.SignCount = 5;
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, authenticator), HttpStatusCode.Unauthorized);
        await App.Logs.WaitForAsync(e => e.EventId.Id == 2301 && e.Message.Contains("from 11 to 6", StringComparison.Ordinal));
        // The stored counter did not move back: the original authenticator, counting on, still signs in.
        authenticator.SignCount = 11;
        await ProblemAssert.JsonAsync(await LoginAsync(App, authenticator), HttpStatusCode.OK);
    }

    [Fact]
    public async Task AuthenticatorsThatDoNotCountSignInEveryTime()
    {
        var (_, _, authenticator) = await NewUserWithPasskeyAsync(App, signCount: 0);
        for (int i = 0; i < 3; i++)
        {
            await ProblemAssert.JsonAsync(await LoginAsync(App, authenticator), HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task ACredentialBelongsToOneAccount()
    {
        var (_, _, owner) = await NewUserWithPasskeyAsync(App);
        var (_, other) = await App.NewUserAsync("passkey-other");
        // Another key under the same credential id: it must not take the credential over, nor sign in as either account.
        using var impostor = NewAuthenticator(owner.CredentialId);
        await ProblemAssert.IsProblemAsync(await RegisterAsync(App, other.Access, impostor), HttpStatusCode.Conflict);
        Assert.Empty((await ProblemAssert.JsonAsync(await App.GetAsync("/api/passkeys", other.Access), HttpStatusCode.OK)).GetProperty("passkeys").EnumerateArray());
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, impostor), HttpStatusCode.Unauthorized);
        await ProblemAssert.JsonAsync(await LoginAsync(App, owner), HttpStatusCode.OK);
    }

    [Fact]
    public async Task OnlyTheOwnerListsAndDeletesAPasskey()
    {
        var (_, owner, _) = await NewUserWithPasskeyAsync(App);
        var (_, other) = await App.NewUserAsync("passkey-other");
        string id = (await ProblemAssert.JsonAsync(await App.GetAsync("/api/passkeys", owner.Access), HttpStatusCode.OK)).GetProperty("passkeys")[0].GetProperty("id").GetString()!;
        await ProblemAssert.IsProblemAsync(await App.SendAsync(HttpMethod.Delete, $"/api/passkeys/{id}", other.Access), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await App.GetAsync($"/api/passkeys/{id}", owner.Access), HttpStatusCode.NotFound);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/passkeys", null));
        await ProblemAssert.IsInvalidTokenAsync(await App.PostAsync("/api/passkeys/register/options", null));
        await ProblemAssert.IsInvalidTokenAsync(await App.SendAsync(HttpMethod.Delete, $"/api/passkeys/{id}", null));
        Assert.Single((await ProblemAssert.JsonAsync(await App.GetAsync("/api/passkeys", owner.Access), HttpStatusCode.OK)).GetProperty("passkeys").EnumerateArray());
    }

    [Fact]
    public async Task APasswordChangeKeepsThePasskeys()
    {
        var (_, tokens, authenticator) = await NewUserWithPasskeyAsync(App);
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/password", tokens.Access,
            new { current_password = TestApp.Password, new_password = "another horse battery staple" })).StatusCode);
        await ProblemAssert.JsonAsync(await LoginAsync(App, authenticator), HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeletingTheAccountDeletesItsPasskeysAndFreesTheirCredentials()
    {
        var (_, tokens, authenticator) = await NewUserWithPasskeyAsync(App);
        string userId = TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();
        string id = (await ProblemAssert.JsonAsync(await App.GetAsync("/api/passkeys", tokens.Access), HttpStatusCode.OK)).GetProperty("passkeys")[0].GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.NoContent, (await App.SendAsync(HttpMethod.Delete, "/api/me", tokens.Access, JsonContent.Create(new { password = TestApp.Password }))).StatusCode);

        await ProblemAssert.IsProblemAsync(await LoginAsync(App, authenticator), HttpStatusCode.Unauthorized);
        Assert.False((await App.Table("passkeys").GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(id, "")).HasValue);
        Assert.False((await App.Table("users").GetEntityIfExistsAsync<Azure.Data.Tables.TableEntity>(userId, "passkey-" + id)).HasValue);
        // The credential is free: a new account may register it.
        var (_, next) = await App.NewUserAsync("passkey-next");
        await ProblemAssert.JsonAsync(await RegisterAsync(App, next.Access, authenticator), HttpStatusCode.Created);
    }

    [Fact]
    public async Task BadInputGetsProblemDetailsAndWritesNothing()
    {
        var (_, tokens, authenticator) = await NewUserWithPasskeyAsync(App);
        var options = await LoginOptionsAsync(App);
        string challengeId = options.GetProperty("challenge_id").GetString()!;
        var good = authenticator.Assert(options);

        await ProblemAssert.IsProblemAsync(await PostRawAsync("/api/passkeys/login", "{\"challenge_id\": \"x\", \"credential\": {", null), HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, null, good), HttpStatusCode.BadRequest);
        var badBase64 = (JsonObject)good.DeepClone();
        badBase64["response"]!["clientDataJSON"] = "not*base64url!";
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, challengeId, badBase64), HttpStatusCode.BadRequest);
        var notACredential = new JsonObject { ["id"] = "x" };
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, challengeId, notACredential), HttpStatusCode.BadRequest);
        var oversized = (JsonObject)good.DeepClone();
        oversized["response"]!["signature"] = SoftwareAuthenticator.Base64Url(new byte[20_000]);
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, challengeId, oversized), HttpStatusCode.RequestEntityTooLarge);
        // Unknown challenge ids get the one answer of every failed sign-in.
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, SoftwareAuthenticator.Base64Url(new byte[16]), good), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, "../../users", good), HttpStatusCode.Unauthorized);
        // None of these spent the challenge.
        await ProblemAssert.JsonAsync(await SendLoginAsync(App, challengeId, good), HttpStatusCode.OK);

        int passkeysBefore = await CountAsync("passkeys");
        using var other = NewAuthenticator();
        var registration = other.Register(await RegisterOptionsAsync(App, tokens.Access));
        await ProblemAssert.IsProblemAsync(await PostRawAsync("/api/passkeys/register", "{\"credential\": ", tokens.Access), HttpStatusCode.BadRequest);
        var garbage = (JsonObject)registration.DeepClone();
        garbage["response"]!["attestationObject"] = SoftwareAuthenticator.Base64Url(System.Security.Cryptography.RandomNumberGenerator.GetBytes(200));
        await ProblemAssert.IsProblemAsync(await SendRegistrationAsync(App, tokens.Access, garbage), HttpStatusCode.BadRequest);
        var huge = (JsonObject)registration.DeepClone();
        huge["response"]!["attestationObject"] = SoftwareAuthenticator.Base64Url(new byte[20_000]);
        await ProblemAssert.IsProblemAsync(await SendRegistrationAsync(App, tokens.Access, huge), HttpStatusCode.RequestEntityTooLarge);
        await ProblemAssert.IsProblemAsync(await SendRegistrationAsync(App, tokens.Access, registration, new string('n', 65)), HttpStatusCode.BadRequest);
        Assert.Equal(passkeysBefore, await CountAsync("passkeys"));
    }

    [Fact]
    public async Task LogsNeverCarryChallengesCredentialIdsOrKeys()
    {
        var (_, tokens, authenticator) = await NewUserWithPasskeyAsync(App);
        var options = await LoginOptionsAsync(App);
        var assertion = authenticator.Assert(options);
        await ProblemAssert.JsonAsync(await SendLoginAsync(App, options.GetProperty("challenge_id").GetString(), assertion), HttpStatusCode.OK);
        await ProblemAssert.IsProblemAsync(await SendLoginAsync(App, options.GetProperty("challenge_id").GetString(), assertion), HttpStatusCode.Unauthorized);
        string id = (await ProblemAssert.JsonAsync(await App.GetAsync("/api/passkeys", tokens.Access), HttpStatusCode.OK)).GetProperty("passkeys")[0].GetProperty("id").GetString()!;
        await App.Logs.WaitForAsync(e => e.EventId.Id == 1205);

        string[] secrets = [options.GetProperty("challenge").GetString()!, options.GetProperty("challenge_id").GetString()!, authenticator.CredentialIdText, id,
            assertion["response"]!["signature"]!.GetValue<string>(), assertion["response"]!["clientDataJSON"]!.GetValue<string>()];
        foreach (var entry in App.Logs.Entries)
        {
            foreach (string secret in secrets)
            {
                Assert.DoesNotContain(secret, entry.AllText, StringComparison.Ordinal);
            }
        }
    }

    private async Task<int> CountAsync(string table)
    {
        var client = App.Table(table);
        await client.CreateIfNotExistsAsync();
        int count = 0;
        await foreach (var _ in client.QueryAsync<Azure.Data.Tables.TableEntity>(select: ["PartitionKey"]))
        {
            count++;
        }
        return count;
    }

    private Task<HttpResponseMessage> PostRawAsync(string path, string json, string? accessToken) =>
        App.SendAsync(HttpMethod.Post, path, accessToken, new StringContent(json, Encoding.UTF8, "application/json"));

    private static string Base64(string base64Url)
    {
        string padded = base64Url.Replace('-', '+').Replace('_', '/');
        return padded + new string('=', (4 - padded.Length % 4) % 4);
    }
}
