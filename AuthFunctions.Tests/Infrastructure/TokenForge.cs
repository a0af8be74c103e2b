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
        string signingInput = Base64UrlEncoder.Encode(header.ToJsonString()) + "." + Base64UrlEncoder.Encode(payload.ToJsonString());
        if (key is null)
        {
            return signingInput + ".";
        }
        byte[] mac = System.Security.Cryptography.HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64UrlEncoder.Encode(mac);
    }

    /// <summary>The token with a payload edit applied, re-signed with the app's real key.</summary>
    public static string Resign(string token, byte[] key, Action<JsonObject> editPayload, Action<JsonObject>? editHeader = null)
    {
        var header = Header(token);
        var payload = Payload(token);
        editPayload(payload);
        editHeader?.Invoke(header);
        return Sign(header, payload, key);
    }

    private static JsonObject Part(string token, int index) =>
        JsonNode.Parse(Base64UrlEncoder.Decode(token.Split('.')[index]))!.AsObject();

    public static long Now(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeSeconds();
}
