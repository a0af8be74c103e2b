using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tokens;

/// <summary>
/// OWASP's device cookies ("Slow down online guessing attacks with device cookies"): a successful login
/// gets a token bound to the account, which the client keeps and sends back in later login bodies.
/// Its holder has a failure counter of its own (<c>LoginThrottle.DevicePool</c>), so someone who
/// only knows the email cannot lock the owner's known browser out. Format
/// <c>{user id}.{device id}.{expiry, unix seconds}.{HMAC-SHA256}</c>: verifiable without storage. The MAC key is
/// derived from the newest signing key; tokens made under an older configured key still verify (key rotation).
/// </summary>
public sealed class DeviceTokens(IOptions<AuthOptions> options, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);
    private readonly IReadOnlyList<byte[]> _keys = options.Value.DeviceTokenKeys.Count > 0
        ? options.Value.DeviceTokenKeys
        : throw new InvalidOperationException("No signing key to derive the device-token key from.");

    public string Issue(string userId)
    {
        string deviceId = Guid.NewGuid().ToString("N");
        long expires = (clock.GetUtcNow() + Lifetime).ToUnixTimeSeconds();
        string body = $"{userId}.{deviceId}.{expires.ToString(CultureInfo.InvariantCulture)}";
        return body + "." + Mac(_keys[0], body);
    }

    /// <summary>The device id when <paramref name="token"/> is ours, unexpired and bound to <paramref name="userId"/>; otherwise null.</summary>
    public string? DeviceIdFor(string? token, string userId)
    {
        if (token is null || token.Length > 200)
        {
            return null;
        }
        var parts = token.Split('.');
        if (parts.Length != 4 || parts[0] != userId || !TokenService.IsId(parts[1]) ||
            !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long expires) ||
            expires <= clock.GetUtcNow().ToUnixTimeSeconds())
        {
            return null;
        }
        string body = $"{parts[0]}.{parts[1]}.{parts[2]}";
        byte[] presented = Encoding.ASCII.GetBytes(parts[3]);
        bool valid = false;
        foreach (var key in _keys)
        {
            valid |= CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Mac(key, body)), presented);
        }
        return valid ? parts[1] : null;
    }

    private static string Mac(byte[] key, string body) => System.Buffers.Text.Base64Url.EncodeToString(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(body)));
}
