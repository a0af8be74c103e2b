using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace AuthFunctions.Tests.Http;

/// <summary>RFC 8725 attacks on the access token: every one is a 401 with the Bearer challenge, none a 500.</summary>
public sealed class JwtAttackTests : AppTestBase
{
    public static TheoryData<string> Attacks =>
    [
        "alg none", "alg None unsigned", "empty key", "guessed key", "RS256 header with our key", "ES256 header with our key",
        "HS512 header with our key", "kid injection", "jku injection", "x5u injection", "jwk injection", "expired", "nbf in the future",
        "wrong iss", "wrong aud", "typ JWT", "typ missing", "no exp", "truncated", "oversized", "non-base64", "two parts", "five parts (JWE shape)",
        "signature stripped", "payload not JSON",
    ];

    private string Forge(string attack, string token)
    {
        var header = TokenForge.Header(token);
        var payload = TokenForge.Payload(token);
        byte[] key = App.SigningKey;
        long now = TokenForge.Now(App.Clock);
        string Sign(Action<JsonObject>? h = null, Action<JsonObject>? p = null, byte[]? withKey = null)
        {
            h?.Invoke(header);
            p?.Invoke(payload);
            return TokenForge.Sign(header, payload, withKey ?? key);
        }
        return attack switch
        {
            "alg none" => TokenForge.Sign(WithAlg(header, "none"), payload, null),
            "alg None unsigned" => TokenForge.Sign(WithAlg(header, "None"), payload, null),
            "empty key" => TokenForge.Sign(header, payload, []),
            "guessed key" => TokenForge.Sign(header, payload, Encoding.UTF8.GetBytes("secret")),
            "RS256 header with our key" => Sign(h => h["alg"] = "RS256"),
            "ES256 header with our key" => Sign(h => h["alg"] = "ES256"),
            "HS512 header with our key" => HS512(WithAlg(header, "HS512"), payload, key),
            "kid injection" => Sign(h => h["kid"] = "../../../../dev/null"),
            "jku injection" => Sign(h => h["jku"] = "https://attacker.example/jwks.json"),
            "x5u injection" => Sign(h => h["x5u"] = "https://attacker.example/cert.pem"),
            "jwk injection" => EmbeddedJwk(header, payload),
            "expired" => Sign(p: p => { p["iat"] = now - 3600; p["nbf"] = now - 3600; p["exp"] = now - 60; }),
            "nbf in the future" => Sign(p: p => p["nbf"] = now + 600),
            "wrong iss" => Sign(p: p => p["iss"] = "https://evil.example"),
            "wrong aud" => Sign(p: p => p["aud"] = "someone-else"),
            "typ JWT" => Sign(h => h["typ"] = "JWT"),
            "typ missing" => Sign(h => h.Remove("typ")),
            "no exp" => Sign(p: p => p.Remove("exp")),
            "truncated" => token[..(token.Length - 10)],
            "oversized" => Sign(p: p => p["padding"] = new string('x', 9 * 1024)),
            "non-base64" => "!!!." + token.Split('.')[1] + ".###",
            "two parts" => string.Join('.', token.Split('.')[..2]),
            "five parts (JWE shape)" => token + ".AAAA.BBBB",
            "signature stripped" => token[..(token.LastIndexOf('.') + 1)],
            "payload not JSON" => token.Split('.')[0] + "." + Base64UrlEncoder.Encode("not json") + "." + token.Split('.')[2],
            _ => throw new ArgumentOutOfRangeException(nameof(attack)),
        };
    }

    private static JsonObject WithAlg(JsonObject header, string alg)
    {
        var copy = header.DeepClone().AsObject();
        copy["alg"] = alg;
        return copy;
    }

    private static string HS512(JsonObject header, JsonObject payload, byte[] key)
    {
        string input = Base64UrlEncoder.Encode(header.ToJsonString()) + "." + Base64UrlEncoder.Encode(payload.ToJsonString());
        return input + "." + Base64UrlEncoder.Encode(HMACSHA512.HashData(key, Encoding.ASCII.GetBytes(input)));
    }

    private static string EmbeddedJwk(JsonObject header, JsonObject payload)
    {
        // The attacker's own key, embedded in the header and used to sign.
        byte[] attackerKey = RandomNumberGenerator.GetBytes(32);
        header["jwk"] = new JsonObject { ["kty"] = "oct", ["k"] = Base64UrlEncoder.Encode(attackerKey) };
        return TokenForge.Sign(header, payload, attackerKey);
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task AttackIsRefusedWith401(string attack)
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
}
