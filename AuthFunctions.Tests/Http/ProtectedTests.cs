using System.Net;
using System.Text.Json.Nodes;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// The protected function and, through it, the shared access-token middleware, in the default feed mode;
/// <see cref="ProtectedInReadModeTests"/> runs every test again with a storage read per call.
/// </summary>
public class ProtectedTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task ValidTokenGetsTheWelcome()
    {
        var (email, tokens) = await App.NewUserAsync();

        var json = await ProblemAssert.JsonAsync(await App.GetAsync("/api/protected", tokens.Access), HttpStatusCode.OK);

        Assert.Equal($"Welcome, {email}!", json.GetProperty("message").GetString());
        Assert.Equal(email, json.GetProperty("email").GetString());
        Assert.Equal(32, json.GetProperty("user_id").GetString()!.Length);
    }

    [Fact]
    public async Task AccessTokenCarriesTheDesignedHeaderAndClaims()
    {
        var (email, tokens) = await App.NewUserAsync();

        var header = TokenForge.Header(tokens.Access);
        var payload = TokenForge.Payload(tokens.Access);

        Assert.Equal("ES256", (string?)header["alg"]);
        Assert.False(string.IsNullOrEmpty((string?)header["kid"]));
        Assert.Equal("at+jwt", (string?)header["typ"]);
        foreach (var claim in new[] { "iss", "aud", "sub", "email", "sid", "jti", "iat", "nbf", "exp", "scope" })
        {
            Assert.True(payload.ContainsKey(claim), $"missing {claim}");
        }
        Assert.Equal(email, (string?)payload["email"]);
        Assert.Equal("user", (string?)payload["scope"]);
        Assert.Equal(15 * 60, (long)payload["exp"]! - (long)payload["iat"]!);
    }

    [Fact]
    public async Task MissingTokenIsRefusedWithBearerChallenge() =>
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", null));

    [Fact]
    public async Task ExpiredTokenIsRefused()
    {
        var (_, tokens) = await App.NewUserAsync();
        App.Clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(31));

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tokens.Access));
    }

    /// <summary>A token already verified (and remembered by the instance) still dies at its expiry.</summary>
    [Fact]
    public async Task ATokenUsedBeforeIsRefusedOnceItExpires()
    {
        var (_, tokens) = await App.NewUserAsync();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);
        App.Clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(20));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);

        App.Clock.Advance(TimeSpan.FromSeconds(11));

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tokens.Access));
    }

    [Fact]
    public async Task TokenStillWorksWithinTheClockSkew()
    {
        var (_, tokens) = await App.NewUserAsync();
        App.Clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(20));

        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);
    }

    [Fact]
    public async Task NotYetValidTokenIsRefused()
    {
        var (_, tokens) = await App.NewUserAsync();
        string future = TokenForge.Resign(tokens.Access, App.SigningKey, p =>
        {
            long now = TokenForge.Now(App.Clock);
            p["nbf"] = now + 300;
            p["iat"] = now + 300;
            p["exp"] = now + 1200;
        });

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", future));
    }

    [Fact]
    public async Task RefreshTokenIsNotAnAccessToken()
    {
        var (_, tokens) = await App.NewUserAsync();
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tokens.Refresh));
    }

    [Fact]
    public async Task JwtOfAnotherTypeSignedWithOurKeyIsRefused()
    {
        var (_, tokens) = await App.NewUserAsync();
        string wrongType = TokenForge.Resign(tokens.Access, App.SigningKey, _ => { }, h => h["typ"] = "JWT");
        string noType = TokenForge.Resign(tokens.Access, App.SigningKey, _ => { }, h => h.Remove("typ"));

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", wrongType));
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", noType));
    }

    [Fact]
    public async Task ResignedByUsWithTheRealKeyStillWorks()
    {
        // Guards the forge itself: the attack tests below are meaningful only if an unchanged re-signed token passes.
        var (_, tokens) = await App.NewUserAsync();
        string same = TokenForge.Resign(tokens.Access, App.SigningKey, _ => { });
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", same)).StatusCode);
    }

    // A token signed with our key that names another user or session (sub, sid) is refused only where
    // storage is read per call (ProtectedInReadModeTests): the feed trusts a valid signature's claims.
    public static TheoryData<string> TamperedClaims => ["iss", "aud"];

    [Theory]
    [MemberData(nameof(TamperedClaims))]
    public async Task WrongClaimsSignedWithOurKeyAreRefused(string claim)
    {
        var (_, tokens) = await App.NewUserAsync();
        var (_, other) = await App.NewUserAsync("other");
        string forged = TokenForge.Resign(tokens.Access, App.SigningKey, p =>
            p[claim] = claim is "sub" or "sid" ? TokenForge.Payload(other.Access)[claim]!.DeepClone() : JsonValue.Create("https://evil.example"));

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", forged));
    }

    [Fact]
    public async Task TamperedPayloadWithOriginalSignatureIsRefused()
    {
        var (_, tokens) = await App.NewUserAsync();
        var parts = tokens.Access.Split('.');
        var payload = TokenForge.Payload(tokens.Access);
        payload["scope"] = "admin";
        string tampered = parts[0] + "." + Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(payload.ToJsonString()) + "." + parts[2];

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tampered));
    }

    [Fact]
    public async Task DeletedUsersTokenIsRefused()
    {
        var (_, tokens) = await App.NewUserAsync();

        // Account deletion: every session ends (published on the feed), then the user is deleted.
        var deleted = await App.SendAsync(HttpMethod.Delete, "/api/me", tokens.Access, System.Net.Http.Json.JsonContent.Create(new { password = TestApp.Password }));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tokens.Access));
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/me", tokens.Access));
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Bearer a.b")]
    [InlineData("Bearer not base64!.x.y")]
    [InlineData("bearer")]
    public async Task MalformedAuthorizationHeadersAreRefused(string header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/protected");
        request.Headers.TryAddWithoutValidation("Authorization", header);
        await ProblemAssert.IsInvalidTokenAsync(await App.Client.SendAsync(request));
    }

    [Fact]
    public async Task DoubledBearerIsRefused()
    {
        var (_, tokens) = await App.NewUserAsync();
        using var twoValues = new HttpRequestMessage(HttpMethod.Get, "/api/protected");
        twoValues.Headers.TryAddWithoutValidation("Authorization", $"Bearer {tokens.Access} Bearer {tokens.Access}");
        using var twoHeaders = new HttpRequestMessage(HttpMethod.Get, "/api/protected");
        twoHeaders.Headers.TryAddWithoutValidation("Authorization", new[] { $"Bearer {tokens.Access}", $"Bearer {tokens.Access}" });

        await ProblemAssert.IsInvalidTokenAsync(await App.Client.SendAsync(twoValues));
        await ProblemAssert.IsInvalidTokenAsync(await App.Client.SendAsync(twoHeaders));
    }
}

/// <summary>Every protected test again with <c>Auth__RevocationMode=read</c>, plus what only a storage read can tell.</summary>
public sealed class ProtectedInReadModeTests(AppFixture fixture) : ProtectedTests(fixture)
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Auth:RevocationMode"] = "read" };

    [Theory]
    [InlineData("sub")]
    [InlineData("sid")]
    public async Task AnotherUsersOrSessionsIdSignedWithOurKeyIsRefused(string claim)
    {
        var (_, tokens) = await App.NewUserAsync();
        var (_, other) = await App.NewUserAsync("other");
        string forged = TokenForge.Resign(tokens.Access, App.SigningKey, p => p[claim] = TokenForge.Payload(other.Access)[claim]!.DeepClone());

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", forged));
    }

    [Fact]
    public async Task UserDeletedBehindTheAppsBackIsRefused()
    {
        var (_, tokens) = await App.NewUserAsync();
        string userId = (string)TokenForge.Payload(tokens.Access)["sub"]!;

        await App.Table("users").DeleteEntityAsync(userId, "profile");

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tokens.Access));
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/me", tokens.Access));
    }
}
