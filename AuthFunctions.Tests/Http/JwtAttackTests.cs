using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace AuthFunctions.Tests.Http;

/// <summary>RFC 8725 attacks on an ES256 access token (the default): every one is a 401 with the Bearer challenge, none a 500.</summary>
public sealed class JwtAttackTests(AppFixture fixture) : JwtAttackTestBase(fixture)
{
    public static TheoryData<string> Attacks =>
    [
        .. CommonAttacks,
        "ES384 header with our key", "HS256 keyed with our public key (SPKI DER)", "HS256 keyed with our public key (PEM)",
        "HS256 keyed with our public key (EC point)", "our kid, another key", "another key with its own kid", "kid missing",
    ];

    [Theory]
    [MemberData(nameof(Attacks))]
    public Task AttackIsRefusedWith401(string attack) => AssertRefusedAsync(attack);
}

/// <summary>The same attacks on an HS256 access token (only <c>Auth__SigningKey</c> set, today's deployments).</summary>
public sealed class Hs256JwtAttackTests(AppFixture fixture) : JwtAttackTestBase(fixture)
{
    protected override IDictionary<string, string?>? Settings => TestApp.Hs256Settings();

    public static TheoryData<string> Attacks =>
        [.. CommonAttacks, "RS256 header with our key", "ES256 header with our key", "HS512 header with our key"];

    [Theory]
    [MemberData(nameof(Attacks))]
    public Task AttackIsRefusedWith401(string attack) => AssertRefusedAsync(attack);

    [Fact]
    public async Task TokensAreHs256WithoutKid()
    {
        var (_, tokens) = await App.NewUserAsync();
        var header = TokenForge.Header(tokens.Access);

        Assert.Equal("HS256", (string?)header["alg"]);
        Assert.False(header.ContainsKey("kid"));
    }
}

public abstract class JwtAttackTestBase(AppFixture fixture) : AppTestBase(fixture)
{
    protected static readonly string[] CommonAttacks =
    [
        "alg none", "alg None unsigned", "empty key", "guessed key", "kid injection", "jku injection", "x5u injection", "x5c injection",
        "crit injection", "jwk injection", "expired", "nbf in the future", "wrong iss", "wrong aud", "typ JWT", "typ jwt", "typ application/jwt",
        "typ missing", "no exp", "truncated", "oversized", "non-base64", "two parts", "five parts (JWE shape)", "signature stripped",
        "payload not JSON", "padding appended to the signature", "padded signature segment", "non-canonical last character of the signature",
        "empty header segment",
    ];

    private string Forge(string attack, string token)
    {
        var header = TokenForge.Header(token);
        var payload = TokenForge.Payload(token);
        byte[] key = App.SigningKey;
        long now = TokenForge.Now(App.Clock);
        string Ours(Action<JsonObject>? h = null, Action<JsonObject>? p = null)
        {
            h?.Invoke(header);
            p?.Invoke(payload);
            return TokenForge.SignWithKey(header, payload, key);
        }
        string signature = token[(token.LastIndexOf('.') + 1)..];
        return attack switch
        {
            "alg none" => TokenForge.Sign(WithAlg(header, "none"), payload, null),
            "alg None unsigned" => TokenForge.Sign(WithAlg(header, "None"), payload, null),
            "empty key" => TokenForge.Sign(WithAlg(header, "HS256"), payload, []),
            "guessed key" => TokenForge.Sign(WithAlg(header, "HS256"), payload, Encoding.UTF8.GetBytes("secret")),
            "kid injection" => Ours(h => h["kid"] = "../../../../dev/null"),
            "jku injection" => Ours(h => h["jku"] = "https://attacker.example/jwks.json"),
            "x5u injection" => Ours(h => h["x5u"] = "https://attacker.example/cert.pem"),
            "x5c injection" => Ours(h => h["x5c"] = new JsonArray("MIIBszCCAVmgAwIBAgIUQ")),
            "crit injection" => Ours(h => { h["crit"] = new JsonArray("exp"); h["exp"] = now + 60; }),
            "jwk injection" => EmbeddedJwk(header, payload),
            "expired" => Ours(p: p => { p["iat"] = now - 3600; p["nbf"] = now - 3600; p["exp"] = now - 60; }),
            "nbf in the future" => Ours(p: p => p["nbf"] = now + 600),
            "wrong iss" => Ours(p: p => p["iss"] = "https://evil.example"),
            "wrong aud" => Ours(p: p => p["aud"] = "someone-else"),
            "typ JWT" => Ours(h => h["typ"] = "JWT"),
            "typ jwt" => Ours(h => h["typ"] = "jwt"),
            "typ application/jwt" => Ours(h => h["typ"] = "application/jwt"),
            "typ missing" => Ours(h => h.Remove("typ")),
            "no exp" => Ours(p: p => p.Remove("exp")),
            "truncated" => token[..(token.Length - 10)],
            "oversized" => Ours(p: p => p["padding"] = new string('x', 9 * 1024)),
            "non-base64" => "!!!." + token.Split('.')[1] + ".###",
            "two parts" => string.Join('.', token.Split('.')[..2]),
            "five parts (JWE shape)" => token + ".AAAA.BBBB",
            "signature stripped" => token[..(token.LastIndexOf('.') + 1)],
            "payload not JSON" => token.Split('.')[0] + "." + Base64UrlEncoder.Encode("not json") + "." + token.Split('.')[2],
            "padding appended to the signature" => token + "=",
            "padded signature segment" => token + new string('=', (4 - (signature.Length % 4)) % 4),
            // Base64url's last character carries unused low bits; lenient decoders ignore them, so this decodes to the same signature.
            "non-canonical last character of the signature" => token[..^1] + FlipLowestBit(token[^1]),
            "empty header segment" => "." + token.Split('.')[1] + "." + signature,
            "RS256 header with our key" => TokenForge.Sign(WithAlg(header, "RS256"), payload, key),
            "ES256 header with our key" => TokenForge.Sign(WithAlg(header, "ES256"), payload, key),
            "HS512 header with our key" => HS512(WithAlg(header, "HS512"), payload, key),
            "ES384 header with our key" => WithOurEcKey(ec => TokenForge.SignEcdsa(WithAlg(header, "ES384"), payload, ec, HashAlgorithmName.SHA384)),
            "HS256 keyed with our public key (SPKI DER)" => WithOurEcKey(ec => TokenForge.Sign(WithAlg(header, "HS256"), payload, ec.ExportSubjectPublicKeyInfo())),
            "HS256 keyed with our public key (PEM)" => WithOurEcKey(ec => TokenForge.Sign(WithAlg(header, "HS256"), payload, Encoding.ASCII.GetBytes(ec.ExportSubjectPublicKeyInfoPem()))),
            "HS256 keyed with our public key (EC point)" => WithOurEcKey(ec => TokenForge.Sign(WithAlg(header, "HS256"), payload, UncompressedPoint(ec))),
            "our kid, another key" => WithAnotherEcKey(ec => TokenForge.SignEcdsa(header, payload, ec)),
            "another key with its own kid" => WithAnotherEcKey(ec => TokenForge.SignEcdsa(WithKid(header, ThumbprintOf(ec)), payload, ec)),
            "kid missing" => Ours(h => h.Remove("kid")),
            _ => throw new ArgumentOutOfRangeException(nameof(attack)),
        };
    }

    protected async Task AssertRefusedAsync(string attack)
    {
        var (_, tokens) = await App.NewUserAsync();
        string forged = Forge(attack, tokens.Access);
        Assert.NotEqual(tokens.Access, forged);

        foreach (var path in new[] { "/api/protected", "/api/me" })
        {
            await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync(path, forged));
        }
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);
    }

    [Fact]
    public async Task ResignedWithTheRealKeyStillWorks()
    {
        // Guards the forge in this mode: the attacks are meaningful only if an unchanged re-signed token passes.
        var (_, tokens) = await App.NewUserAsync();
        string same = TokenForge.Resign(tokens.Access, App.SigningKey, _ => { });

        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", same)).StatusCode);
    }

    public static TheoryData<string> AccessTokenTypes => ["at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "APPLICATION/AT+JWT", "Application/At+JWT"];

    /// <summary>RFC 9068 §4: <c>application/at+jwt</c> means the same as <c>at+jwt</c>, and media types compare case-insensitively.</summary>
    [Theory]
    [MemberData(nameof(AccessTokenTypes))]
    public async Task AccessTokenTypeIsAcceptedInEitherSpellingAndAnyCase(string type)
    {
        var (_, tokens) = await App.NewUserAsync();
        string token = TokenForge.Resign(tokens.Access, App.SigningKey, _ => { }, h => h["typ"] = type);

        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", token)).StatusCode);
    }

    private static JsonObject WithAlg(JsonObject header, string alg)
    {
        var copy = header.DeepClone().AsObject();
        copy["alg"] = alg;
        return copy;
    }

    private static JsonObject WithKid(JsonObject header, string kid)
    {
        var copy = header.DeepClone().AsObject();
        copy["kid"] = kid;
        return copy;
    }

    private static char FlipLowestBit(char last)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        return alphabet[alphabet.IndexOf(last, StringComparison.Ordinal) ^ 1];
    }

    private string WithOurEcKey(Func<ECDsa, string> sign)
    {
        using var ec = TokenForge.EcKey(App.SigningKey);
        return sign(ec);
    }

    private static string WithAnotherEcKey(Func<ECDsa, string> sign)
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return sign(ec);
    }

    private static byte[] UncompressedPoint(ECDsa ec)
    {
        var q = ec.ExportParameters(false).Q;
        return [0x04, .. q.X!, .. q.Y!];
    }

    private static string ThumbprintOf(ECDsa ec)
    {
        var q = ec.ExportParameters(false).Q;
        string jwk = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64UrlEncoder.Encode(q.X)}\",\"y\":\"{Base64UrlEncoder.Encode(q.Y)}\"}}";
        return Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(jwk)));
    }

    private static string HS512(JsonObject header, JsonObject payload, byte[] key)
    {
        string input = Base64UrlEncoder.Encode(header.ToJsonString()) + "." + Base64UrlEncoder.Encode(payload.ToJsonString());
        return input + "." + Base64UrlEncoder.Encode(HMACSHA512.HashData(key, Encoding.ASCII.GetBytes(input)));
    }

    private static string EmbeddedJwk(JsonObject header, JsonObject payload)
    {
        // The attacker's own key, embedded in the header and used to sign.
        if ((string?)header["alg"] == "ES256")
        {
            using var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var q = attacker.ExportParameters(false).Q;
            header["jwk"] = new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64UrlEncoder.Encode(q.X), ["y"] = Base64UrlEncoder.Encode(q.Y) };
            header["kid"] = ThumbprintOf(attacker);
            return TokenForge.SignEcdsa(header, payload, attacker);
        }
        byte[] attackerKey = RandomNumberGenerator.GetBytes(32);
        header["jwk"] = new JsonObject { ["kty"] = "oct", ["k"] = Base64UrlEncoder.Encode(attackerKey) };
        return TokenForge.Sign(header, payload, attackerKey);
    }
}
