using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Mfa;

/// <summary>Settings section <c>Mfa</c>: the authenticator-app factor (TOTP) and the key its secrets are stored under.</summary>
public sealed class MfaOptions
{
    public const string Section = "Mfa";
    public const int KeyBytes = 32;

    /// <summary><c>Mfa__Issuer</c>: the name authenticator apps show beside the account (the <c>otpauth</c> URI's issuer).</summary>
    public string Issuer { get; set; } = "AuthFunctions";

    /// <summary>
    /// <c>Mfa__EncryptionKeys__0</c>, <c>__1</c>, …: base64 of 32 random bytes each, newest first. Secrets are sealed
    /// (AES-256-GCM) under the newest and opened under whichever key sealed them, so a key can be rotated: put the new one
    /// first and keep the old one until no stored secret uses it. Required outside Development.
    /// </summary>
    public List<string> EncryptionKeys { get; set; } = [];

    /// <summary>The decoded keys, newest first (or one generated in Development).</summary>
    /// <remarks>A field: the configuration binding generator would otherwise try to bind it.</remarks>
    internal IReadOnlyList<byte[]> Keys = [];

    internal IEnumerable<(int Index, string Value)> ConfiguredKeys() =>
        EncryptionKeys.Select((value, index) => (index, value)).Where(key => !string.IsNullOrWhiteSpace(key.value));

    internal static byte[]? TryDecodeKey(string value)
    {
        var bytes = new byte[KeyBytes + 3];
        return Convert.TryFromBase64String(value.Trim(), bytes, out int written) && written == KeyBytes ? bytes[..KeyBytes] : null;
    }
}

internal sealed class MfaOptionsValidator(IHostEnvironment environment) : IValidateOptions<MfaOptions>
{
    public ValidateOptionsResult Validate(string? name, MfaOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Issuer) || options.Issuer.Contains(':', StringComparison.Ordinal) || options.Issuer.Length > 100)
        {
            failures.Add("Mfa__Issuer must be 1 to 100 characters without ':' (the otpauth URI's label separator).");
        }
        if (!options.ConfiguredKeys().Any() && !environment.IsDevelopment())
        {
            failures.Add("Mfa__EncryptionKeys__0 (base64 of 32 random bytes, e.g. `openssl rand -base64 32`) is required: it encrypts the authenticator secrets.");
        }
        foreach (var (index, value) in options.ConfiguredKeys())
        {
            if (MfaOptions.TryDecodeKey(value) is null)
            {
                failures.Add($"Mfa__EncryptionKeys__{index} must be base64 of exactly {MfaOptions.KeyBytes} bytes.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Decodes the keys once; in Development with none set it generates one per run (enrolled factors then stop working at restart).</summary>
internal sealed partial class MfaOptionsSetup(IHostEnvironment environment, ILogger<MfaOptionsSetup> logger) : IPostConfigureOptions<MfaOptions>
{
    public void PostConfigure(string? name, MfaOptions options)
    {
        var keys = options.ConfiguredKeys().Select(key => MfaOptions.TryDecodeKey(key.Value)).ToList();
        if (keys.Count > 0)
        {
            options.Keys = keys.All(key => key is not null) ? [.. keys.Select(key => key!)] : [];
        }
        else if (environment.IsDevelopment())
        {
            options.Keys = [RandomNumberGenerator.GetBytes(MfaOptions.KeyBytes)];
            LogGeneratedKey(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mfa__EncryptionKeys is not set: generated a key for this run (Development only). Authenticators enrolled now stop working when the process restarts.")]
    private static partial void LogGeneratedKey(ILogger logger);
}
