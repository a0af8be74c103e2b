using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Tokens;

namespace AuthFunctions.Accounts;

/// <summary>
/// The tokens in emailed links: <c>{user id}.{256 random bits, base64url}</c>. The user id part selects the
/// row (a point read) and the throttle; only the SHA-256 of the whole token is stored.
/// </summary>
public static class LinkTokens
{
    private const int SecretLength = 43;

    public static (string Token, string Hash) Create(string userId)
    {
        string token = $"{userId}.{System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32))}";
        return (token, Hash(token));
    }

    public static string Hash(string token) => System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The user id of a token shaped like ours; false for anything else (no storage read for garbage).</summary>
    public static bool TryParse(string? token, out string userId)
    {
        userId = "";
        if (token is not { Length: 32 + 1 + SecretLength } || token[32] != '.' || !TokenService.IsId(token[..32]) ||
            !token[33..].All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return false;
        }
        userId = token[..32];
        return true;
    }

    public static bool HashMatches(string token, string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(token)), Encoding.ASCII.GetBytes(storedHash));

    /// <summary>A fingerprint of the password hash a reset link was issued against: any password change alters it.</summary>
    public static string PasswordStamp(string passwordHash) =>
        System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes("reset-stamp\n" + passwordHash)));
}
