using System.Net;
using System.Net.Http.Json;
using System.Web;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// An account made by a federated sign-in has no password; deleting it asks for a fresh sign-in at a provider already
/// linked to it, made through <c>oidc-link</c> (a link ticket) from the session that deletes, within five minutes. Through
/// the real host against a real provider (oidc-provider), whose test proxy can report an old or missing <c>auth_time</c>.
/// </summary>
public sealed class OidcReauthenticationTests(OidcFixture fixture) : IClassFixture<OidcFixture>
{
    private TestApp App => fixture.App;

    private OidcProviderServer Provider => fixture.Provider;

    private Task<HttpResponseMessage> DeleteAccountAsync(string accessToken, object body) =>
        App.SendAsync(HttpMethod.Delete, "/api/me", accessToken, JsonContent.Create(body));

    private static async Task AssertReauthenticationRequiredAsync(HttpResponseMessage response)
    {
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal("https://authfunctions.dev/problems/reauthentication-required", problem.GetProperty("type").GetString());
    }

    /// <summary>link-ticket → oidc-link (asserting it asks the provider for a fresh sign-in) → the provider's login as <paramref name="subject"/> → where the app sends the browser back.</summary>
    private async Task<Uri> SignInAgainAsync(OidcSite site, string accessToken, string subject, string? mode = null)
    {
        var (authorization, callback) = await site.ToLinkCallbackAsync(accessToken, subject);
        Assert.Equal("0", HttpUtility.ParseQueryString(authorization.Query)["max_age"]);
        if (mode is null)
        {
            return await site.CallbackAsync(callback);
        }
        await Provider.SetModeAsync(mode);
        try
        {
            return await site.CallbackAsync(callback);
        }
        finally
        {
            await Provider.SetModeAsync("none");
        }
    }

    private async Task<TableEntity> SessionRowAsync(string accessToken)
    {
        var payload = TokenForge.Payload(accessToken);
        string userId = payload["sub"]!.GetValue<string>();
        string sessionId = payload["sid"]!.GetValue<string>();
        return (await App.Table("users").GetEntityAsync<TableEntity>(userId, "session-" + sessionId)).Value;
    }

    [Fact]
    public async Task AnAccountWithoutAPasswordIsDeletedAfterAFreshSignInAtItsProvider()
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject("reauth");
        var tokens = await site.SignInAsync(subject);

        // No password to send, and one sent does not count: the session must sign in again at the provider.
        await AssertReauthenticationRequiredAsync(await DeleteAccountAsync(tokens.Access, new { }));
        await AssertReauthenticationRequiredAsync(await DeleteAccountAsync(tokens.Access, new { password = TestApp.Password }));
        await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK);

        var landed = await SignInAgainAsync(site, tokens.Access, subject);

        Assert.Equal("test", OidcSite.Fragment(landed, "reauthenticated"));
        Assert.Null(OidcSite.Fragment(landed, "error"));
        Assert.Equal(HttpStatusCode.NoContent, (await DeleteAccountAsync(tokens.Access, new { })).StatusCode);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/me", tokens.Access));
        Assert.Empty(App.Table("identities").Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"test:" + subject}")));
    }

    [Fact]
    public async Task AFreshSignInCountsForTheSessionThatAskedForItOnly()
    {
        string subject = OidcProviderServer.NewSubject("onesession");
        using var first = new OidcSite(App, Provider);
        using var second = new OidcSite(App, Provider);
        var asked = await first.SignInAsync(subject);
        var other = await second.SignInAsync(subject);

        Assert.Equal("test", OidcSite.Fragment(await SignInAgainAsync(first, asked.Access, subject), "reauthenticated"));

        await AssertReauthenticationRequiredAsync(await DeleteAccountAsync(other.Access, new { }));
        Assert.Equal(HttpStatusCode.NoContent, (await DeleteAccountAsync(asked.Access, new { })).StatusCode);
    }

    [Theory]
    [InlineData("stale-auth-time")]
    [InlineData("no-auth-time")]
    public async Task AProviderAnswerThatIsNotAFreshSignInIsRefused(string mode)
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject(mode);
        var tokens = await site.SignInAsync(subject);

        var landed = await SignInAgainAsync(site, tokens.Access, subject, mode);

        Assert.Equal("login_required", OidcSite.Fragment(landed, "error"));
        Assert.Null(OidcSite.Fragment(landed, "reauthenticated"));
        Assert.False((await SessionRowAsync(tokens.Access)).ContainsKey("ReauthenticatedAt"));
        await AssertReauthenticationRequiredAsync(await DeleteAccountAsync(tokens.Access, new { }));
    }

    [Fact]
    public async Task LinkingANewIdentityIsNoFreshSignInButSigningInAgainWithItIs()
    {
        var (_, tokens) = await App.NewUserAsync("linknew");
        string subject = OidcProviderServer.NewSubject("linknew");
        using var site = new OidcSite(App, Provider);

        // A new identity: whoever holds a stolen access token could link their own, so it proves nothing about the owner.
        Assert.Equal("test", OidcSite.Fragment(await SignInAgainAsync(site, tokens.Access, subject), "linked"));
        Assert.False((await SessionRowAsync(tokens.Access)).ContainsKey("ReauthenticatedAt"));

        var again = await SignInAgainAsync(site, tokens.Access, subject);

        Assert.Equal("test", OidcSite.Fragment(again, "reauthenticated"));
        Assert.True((await SessionRowAsync(tokens.Access)).GetDateTimeOffset("ReauthenticatedAt") > DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task AnAccountWithAPasswordStillNeedsItsPassword()
    {
        var (_, tokens) = await App.NewUserAsync("haspassword");
        string subject = OidcProviderServer.NewSubject("haspassword");
        using var site = new OidcSite(App, Provider);
        await SignInAgainAsync(site, tokens.Access, subject);
        Assert.Equal("test", OidcSite.Fragment(await SignInAgainAsync(site, tokens.Access, subject), "reauthenticated"));

        var missing = await ProblemAssert.IsProblemAsync(await DeleteAccountAsync(tokens.Access, new { }), HttpStatusCode.BadRequest);
        Assert.True(missing.GetProperty("errors").TryGetProperty("password", out _));
        await ProblemAssert.IsProblemAsync(await DeleteAccountAsync(tokens.Access, new { password = "not the password at all" }), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.NoContent, (await DeleteAccountAsync(tokens.Access, new { password = TestApp.Password })).StatusCode);
    }
}

/// <summary>The fresh sign-in stands in for a password for five minutes (its own class: it moves the deployment's clock).</summary>
public sealed class OidcReauthenticationWindowTests(OidcFixture fixture) : IClassFixture<OidcFixture>
{
    [Fact]
    public async Task AFreshSignInLastsFiveMinutes()
    {
        var app = fixture.App;
        string subject = OidcProviderServer.NewSubject("window");
        using var site = new OidcSite(app, fixture.Provider);
        var tokens = await site.SignInAsync(subject);
        var (_, callback) = await site.ToLinkCallbackAsync(tokens.Access, subject);
        Assert.Equal("test", OidcSite.Fragment(await site.CallbackAsync(callback), "reauthenticated"));

        app.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(5));

        var refused = await ProblemAssert.IsProblemAsync(await app.SendAsync(HttpMethod.Delete, "/api/me", tokens.Access, JsonContent.Create(new { })), HttpStatusCode.Forbidden);
        Assert.Equal("https://authfunctions.dev/problems/reauthentication-required", refused.GetProperty("type").GetString());
    }
}
