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

    private static string Base64(string base64Url)
    {
        string padded = base64Url.Replace('-', '+').Replace('_', '/');
        return padded + new string('=', (4 - padded.Length % 4) % 4);
    }
}
