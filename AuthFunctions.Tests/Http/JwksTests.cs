using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuthFunctions.Tests.Http;

/// <summary>The jwks function: our public keys (RFC 7517), cacheable, nothing private; and what a rotation does to tokens.</summary>
public sealed class JwksTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const string JwksPath = "/api/.well-known/jwks.json";

    private static readonly string[] PublicMembers = ["kty", "crv", "x", "y", "kid", "use", "alg"];

    private static async Task<JsonElement[]> KeysAsync(TestApp app)
    {
        var json = await ProblemAssert.JsonAsync(await app.Client.GetAsync(JwksPath), HttpStatusCode.OK);
        return [.. json.GetProperty("keys").EnumerateArray()];
    }

    [Fact]
    public async Task JwksPublishesTheSigningKeyAsAnEcJwk()
    {
        var key = Assert.Single(await KeysAsync(App));
        var (_, tokens) = await App.NewUserAsync();

        Assert.Equal(PublicMembers.Order(), key.EnumerateObject().Select(m => m.Name).Order());
        Assert.Equal("EC", key.GetProperty("kty").GetString());
        Assert.Equal("P-256", key.GetProperty("crv").GetString());
        Assert.Equal("sig", key.GetProperty("use").GetString());
        Assert.Equal("ES256", key.GetProperty("alg").GetString());
        Assert.Equal((string?)TokenForge.Header(tokens.Access)["kid"], key.GetProperty("kid").GetString());
        using var ec = TokenForge.EcKey(App.SigningKey);
        var q = ec.ExportParameters(false).Q;
        Assert.Equal(Base64UrlEncoder.Encode(q.X), key.GetProperty("x").GetString());
        Assert.Equal(Base64UrlEncoder.Encode(q.Y), key.GetProperty("y").GetString());
    }

    [Fact]
    public async Task KidIsTheRfc7638ThumbprintOfThePublicKey()
    {
        var key = Assert.Single(await KeysAsync(App));
        var jwk = new JsonWebKey(key.GetRawText());

        // The library's own RFC 7638 computation, independent of ours.
        Assert.Equal(Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()), key.GetProperty("kid").GetString());
    }

    [Fact]
    public async Task JwksIsPublicAndCacheableWhileEverythingElseStaysNoStore()
    {
        var response = await App.Client.GetAsync(JwksPath);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("public, max-age=300", response.Headers.CacheControl?.ToString());
        Assert.False(response.Headers.Contains("Pragma"));
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        foreach (var other in new[] { await App.Client.GetAsync("/api/health"), await App.GetAsync("/api/protected", null) })
        {
            Assert.Equal("no-store", other.Headers.CacheControl?.ToString());
        }
        // A method jwks does not declare never reaches the worker: the host's own empty 404 (README, under the host).
        var post = await App.Client.PostAsync(JwksPath, null);
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.Empty(await post.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task JwksHoldsNothingPrivate()
    {
        var response = await App.Client.GetAsync(JwksPath);
        string body = await response.Content.ReadAsStringAsync();
        using var ec = TokenForge.EcKey(App.SigningKey);
        var secret = ec.ExportParameters(includePrivateParameters: true);

        foreach (var key in JsonDocument.Parse(body).RootElement.GetProperty("keys").EnumerateArray())
        {
            // RFC 7518 §6.2.2 and §6.3.2 private members, and a symmetric key's k (§6.4.1).
            foreach (var member in new[] { "d", "p", "q", "dp", "dq", "qi", "oth", "k" })
            {
                Assert.False(key.TryGetProperty(member, out _), $"private member {member} published");
            }
        }
        Assert.DoesNotContain(Base64UrlEncoder.Encode(secret.D), body, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(secret.D!), body, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TokenVerifiesWithOnlyThePublishedKeys()
    {
        var (_, tokens) = await App.NewUserAsync();
        var set = new JsonWebKeySet(await App.Client.GetStringAsync(JwksPath));

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(tokens.Access, new TokenValidationParameters
        {
            IssuerSigningKeys = set.GetSigningKeys(),
            ValidIssuer = "authfunctions",
            ValidAudience = "authfunctions-clients",
            ValidAlgorithms = ["ES256"],
            ValidTypes = ["at+jwt"],
            ValidateLifetime = false,
        });
        Assert.True(result.IsValid, result.Exception?.Message);
    }

    [Fact]
    public async Task Hs256DeploymentPublishesAnEmptyKeySet()
    {
        await using var hs256 = await TestApp.StartAsync(TestApp.Hs256Settings());

        var response = await hs256.Client.GetAsync(JwksPath);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"keys\":[]}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnotherInstanceWithTheSameKeyPublishesTheSameKidAndAcceptsTheTokens()
    {
        await using var other = await App.StartAnotherInstanceAsync();
        var (_, tokens) = await App.NewUserAsync();

        Assert.Equal(Assert.Single(await KeysAsync(App)).GetRawText(), Assert.Single(await KeysAsync(other)).GetRawText());
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/protected", tokens.Access)).StatusCode);
    }

    [Fact]
    public async Task AfterARotationOldAndNewTokensWorkAndTheNewKeySigns()
    {
        string oldKey = App.SigningKeyPems[0];
        string newKey = TestApp.NewSigningKeyPem();
        var (email, before) = await App.NewUserAsync();

        await using var rotated = await App.StartAnotherInstanceAsync(new Dictionary<string, string?>
        {
            ["Auth:SigningKeys:0"] = newKey,
            ["Auth:SigningKeys:1"] = oldKey,
        });
        var after = await rotated.LoginAsync(email);

        var keys = await KeysAsync(rotated);
        Assert.Equal(2, keys.Length);
        Assert.Equal(keys[0].GetProperty("kid").GetString(), (string?)TokenForge.Header(after.Access)["kid"]);
        Assert.Equal(keys[1].GetProperty("kid").GetString(), (string?)TokenForge.Header(before.Access)["kid"]);
        Assert.Equal(HttpStatusCode.OK, (await rotated.GetAsync("/api/protected", before.Access)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await rotated.GetAsync("/api/protected", after.Access)).StatusCode);
        // An instance that does not have the new key yet refuses its tokens: the kid selects among our keys only.
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", after.Access));
        // Refresh keeps working across the rotation (the refresh token is opaque, the rotation key derived anew).
        var refreshed = await rotated.RefreshAsync(before.Refresh);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
    }

    [Fact]
    public async Task OnceTheOldKeyIsDroppedItsTokensAreRefused()
    {
        var (_, before) = await App.NewUserAsync();

        await using var dropped = await App.StartAnotherInstanceAsync(new Dictionary<string, string?> { ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem() });

        await ProblemAssert.IsInvalidTokenAsync(await dropped.GetAsync("/api/protected", before.Access));
    }

    [Fact]
    public async Task AKeyConfiguredTwiceIsPublishedOnce()
    {
        // How the README drops the old key after a rotation: the second slot becomes a copy of the first.
        string key = TestApp.NewSigningKeyPem();
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Auth:SigningKeys:0"] = key, ["Auth:SigningKeys:1"] = key });

        Assert.Single(await KeysAsync(app));
    }

    [Fact]
    public async Task SigningKeysAreReadFromPemWithSurroundingWhitespace()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Auth:SigningKeys:0"] = "\n  " + ec.ExportPkcs8PrivateKeyPem() + "\n" });

        var (_, tokens) = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/api/protected", tokens.Access)).StatusCode);
    }
}
