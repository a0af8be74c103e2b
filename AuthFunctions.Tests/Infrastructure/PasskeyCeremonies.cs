using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>The passkey functions driven over HTTP with a <see cref="SoftwareAuthenticator"/>: options, then the authenticator's answer.</summary>
public static class PasskeyCeremonies
{
    public const string RpId = "example.com";
    public const string Origin = "https://www.example.com";

    /// <summary>An app whose relying party is <see cref="RpId"/> with the frontend at <see cref="Origin"/>.</summary>
    public static Dictionary<string, string?> Settings() => new()
    {
        ["Passkeys:RelyingPartyId"] = RpId,
        ["Passkeys:RelyingPartyName"] = "AuthFunctions tests",
        ["Passkeys:Origins"] = Origin,
    };

    public static SoftwareAuthenticator NewAuthenticator(byte[]? credentialId = null) => new(RpId, Origin, credentialId);

    public static async Task<JsonElement> RegisterOptionsAsync(TestApp app, string accessToken) =>
        await ProblemAssert.JsonAsync(await app.PostAsync("/api/passkeys/register/options", accessToken), HttpStatusCode.OK);

    public static Task<HttpResponseMessage> SendRegistrationAsync(TestApp app, string accessToken, JsonObject credential, string? name = null) =>
        app.PostAsync("/api/passkeys/register", accessToken, new { credential, name });

    /// <summary>Asks for options and registers the authenticator's credential with them.</summary>
    public static async Task<HttpResponseMessage> RegisterAsync(TestApp app, string accessToken, SoftwareAuthenticator authenticator, string format = "packed", string? name = null) =>
        await SendRegistrationAsync(app, accessToken, authenticator.Register(await RegisterOptionsAsync(app, accessToken), format), name);

    public static async Task<JsonElement> LoginOptionsAsync(TestApp app) =>
        await ProblemAssert.JsonAsync(await app.Client.PostAsJsonAsync("/api/passkeys/login/options", new { }), HttpStatusCode.OK);

    public static Task<HttpResponseMessage> SendLoginAsync(TestApp app, string? challengeId, JsonObject credential) =>
        app.Client.PostAsJsonAsync("/api/passkeys/login", new { challenge_id = challengeId, credential });

    /// <summary>Asks for sign-in options and answers them with the authenticator.</summary>
    public static async Task<HttpResponseMessage> LoginAsync(TestApp app, SoftwareAuthenticator authenticator)
    {
        var options = await LoginOptionsAsync(app);
        return await SendLoginAsync(app, options.GetProperty("challenge_id").GetString(), authenticator.Assert(options));
    }

    /// <summary>A new account with a registered passkey: its email, tokens and authenticator.</summary>
    public static async Task<(string Email, TokenPair Tokens, SoftwareAuthenticator Authenticator)> NewUserWithPasskeyAsync(TestApp app, uint signCount = 0)
    {
        var (email, tokens) = await app.NewUserAsync("passkey");
        var authenticator = NewAuthenticator();
        authenticator.SignCount = signCount;
        var registered = await RegisterAsync(app, tokens.Access, authenticator);
        Assert.True(registered.StatusCode == HttpStatusCode.Created, await registered.Content.ReadAsStringAsync());
        return (email, tokens, authenticator);
    }
}
