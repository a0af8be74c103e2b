using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Mfa;

/// <summary>
/// Seals authenticator secrets for storage (ASVS 5.0 V11.3, V6.5: the TOTP seed is a secret the verifier must protect):
/// AES-256-GCM under the newest <c>Mfa__EncryptionKeys__N</c>, the sealed form <c>v1.{key id}.{nonce|ciphertext|tag}</c>.
/// The key id (a hash of the key) picks the key on the way back, so rotated keys keep opening older rows. The user id is
/// the associated data: a sealed secret copied into another user's row does not open.
/// </summary>
public sealed class SecretProtector(IOptions<MfaOptions> options)
{
    private const string Version = "v1";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    public string Protect(string userId, ReadOnlySpan<byte> secret)
    {
        byte[] key = options.Value.Keys[0];
        var sealedBytes = new byte[NonceBytes + secret.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, secret, sealedBytes.AsSpan(NonceBytes, secret.Length), sealedBytes.AsSpan(NonceBytes + secret.Length), Encoding.UTF8.GetBytes(userId));
        return $"{Version}.{KeyId(key)}.{Convert.ToBase64String(sealedBytes)}";
    }

    /// <summary>The secret, or null and why not (no key with that id is configured, or the row was altered or belongs to another user).</summary>
    public byte[]? TryUnprotect(string userId, string? protectedSecret, out string? problem)
    {
        problem = null;
        var parts = (protectedSecret ?? "").Split('.');
        if (parts.Length != 3 || parts[0] != Version)
        {
            problem = "the stored secret is not in a known format";
            return null;
        }
        byte[]? key = options.Value.Keys.FirstOrDefault(candidate => KeyId(candidate) == parts[1]);
        if (key is null)
        {
            problem = $"no Mfa__EncryptionKeys entry has key id {parts[1]}";
            return null;
        }
        try
        {
            byte[] sealedBytes = Convert.FromBase64String(parts[2]);
            if (sealedBytes.Length <= NonceBytes + TagBytes)
            {
                problem = "the stored secret is truncated";
                return null;
            }
            int length = sealedBytes.Length - NonceBytes - TagBytes;
            var secret = new byte[length];
            using var aes = new AesGcm(key, TagBytes);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes, length), sealedBytes.AsSpan(NonceBytes + length), secret, Encoding.UTF8.GetBytes(userId));
            return secret;
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            problem = "the stored secret does not open under its key (altered, or another user's)";
            return null;
        }
    }

    /// <summary>The first 8 characters of a hash of the key: names the key without revealing it.</summary>
    public static string KeyId(byte[] key) =>
        Convert.ToHexStringLower(SHA256.HashData([.. "mfa-key-id\n"u8, .. key]))[..8];
}
