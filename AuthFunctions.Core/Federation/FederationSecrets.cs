using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AuthFunctions.Federation;

/// <summary>
/// The one-time values of a federated sign-in: 256 random bits each, base64url; only their SHA-256 is stored. The PKCE
/// verifier and the nonce sent to the provider are never stored at all: each is an HMAC of the <c>state</c> under a key
/// kept in the flow's row, so it takes both the browser's <c>state</c> and our storage to know them.
/// </summary>
public static class FederationSecrets
{
    /// <summary>A base64url value of 32 random bytes (43 characters).</summary>
    public static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string value) => Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>RFC 7636 §4.2 S256: base64url(SHA-256(ASCII(verifier))).</summary>
    public static string S256(string verifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    public static string Derive(string key, string purpose, string state) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(purpose + "\n" + state)));

    public static bool FixedTimeEquals(string? a, string? b) =>
        a is not null && b is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>An RFC 7636 verifier: 43 to 128 unreserved characters.</summary>
    public static bool IsVerifier(string? value) =>
        value is { Length: >= 43 and <= 128 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~');

    /// <summary>An S256 challenge: the base64url of 32 bytes.</summary>
    public static bool IsChallenge(string? value) => IsToken(value, 43);

    /// <summary>One of our secrets (<see cref="NewSecret"/>), by shape only: no storage read for garbage.</summary>
    public static bool IsSecret(string? value) => IsToken(value, 43);

    private static bool IsToken(string? value, int length) =>
        value is not null && value.Length == length && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
