using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>Builds JWTs by hand (header and payload as JSON) so tests can make every kind of bad token.</summary>
public static class TokenForge
{
    public static JsonObject Header(string token) => Part(token, 0);

    public static JsonObject Payload(string token) => Part(token, 1);

    /// <summary>Re-assembles a token from edited parts, HS256-signed with <paramref name="key"/> (or unsigned when null).</summary>
    public static string Sign(JsonObject header, JsonObject payload, byte[]? key)
    {
        string signingInput = SigningInput(header, payload);
        if (key is null)
        {
            return signingInput + ".";
        }
        byte[] mac = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64UrlEncoder.Encode(mac);
    }

    /// <summary>Re-assembles a token from edited parts, ECDSA-signed (JWS's r||s form) with <paramref name="key"/> and <paramref name="hash"/> (SHA-256 for ES256).</summary>
    public static string SignEcdsa(JsonObject header, JsonObject payload, ECDsa key, HashAlgorithmName? hash = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        string signingInput = SigningInput(header, payload);
        byte[] signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), hash ?? HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64UrlEncoder.Encode(signature);
    }

    /// <summary>
    /// Signs with the app's key as the header's <c>alg</c> says: ES256 with <paramref name="key"/> as a PKCS#8 EC key
    /// (TestApp.SigningKey in ES256 mode), anything else HS256 with <paramref name="key"/> as the secret.
    /// </summary>
    public static string SignWithKey(JsonObject header, JsonObject payload, byte[] key)
    {
        ArgumentNullException.ThrowIfNull(header);
        if ((string?)header["alg"] != "ES256")
        {
            return Sign(header, payload, key);
        }
        using var ec = EcKey(key);
        return SignEcdsa(header, payload, ec);
    }

    /// <summary>The token with a payload edit applied, re-signed with the app's real key (see <see cref="SignWithKey"/>).</summary>
    public static string Resign(string token, byte[] key, Action<JsonObject> editPayload, Action<JsonObject>? editHeader = null)
    {
        ArgumentNullException.ThrowIfNull(editPayload);
        var header = Header(token);
        var payload = Payload(token);
        editPayload(payload);
        editHeader?.Invoke(header);
        return SignWithKey(header, payload, key);
    }

    /// <summary>An EC key from its PKCS#8 encoding (TestApp.SigningKey in ES256 mode).</summary>
    public static ECDsa EcKey(byte[] pkcs8)
    {
        var ec = ECDsa.Create();
        ec.ImportPkcs8PrivateKey(pkcs8, out _);
        return ec;
    }

    private static string SigningInput(JsonObject header, JsonObject payload) =>
        Base64UrlEncoder.Encode(header.ToJsonString()) + "." + Base64UrlEncoder.Encode(payload.ToJsonString());

    private static JsonObject Part(string token, int index) =>
        JsonNode.Parse(Base64UrlEncoder.Decode(token.Split('.')[index]))!.AsObject();

    public static long Now(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeSeconds();
}
