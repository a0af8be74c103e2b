using Microsoft.Extensions.Options;

namespace AuthFunctions.Auth;

/// <summary>Settings section <c>Auth</c> (environment variables <c>Auth__…</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary><c>Auth__SigningKey</c>: base64, at least 32 bytes (RFC 7518 §3.2: an HS256 key is at least as long as the hash). Required outside Development.</summary>
    public string? SigningKey { get; set; }

    public string Issuer { get; set; } = "authfunctions";

    public string Audience { get; set; } = "authfunctions-clients";

    public int AccessTokenMinutes { get; set; } = 15;

    public int RefreshTokenDays { get; set; } = 30;

    /// <summary><c>Auth__BcryptCost</c>: work factor; at least 10 outside Development and tests (OWASP password storage guidance).</summary>
    public int BcryptCost { get; set; } = 12;

    /// <summary>
    /// <c>Auth__RefreshGraceSeconds</c>: how long after a rotation the spent refresh token still
    /// yields the same new pair, so two tabs refreshing at once are not taken for token theft.
    /// </summary>
    public int RefreshGraceSeconds { get; set; } = 5;

    /// <summary>
    /// <c>Auth__RevocationMode</c>: <c>feed</c> (default) decides protected calls from this instance's copy of
    /// the revocation feed, with no storage read; <c>read</c> reads the session from storage on every call.
    /// See <see cref="RevocationFeed"/>.
    /// </summary>
    public string RevocationMode { get; set; } = "feed";

    /// <summary><c>Auth__RevocationPollMilliseconds</c>: how often each instance reads the feed's newest rows.</summary>
    public int RevocationPollMilliseconds { get; set; } = 1000;

    /// <summary><c>Auth__RevocationMaxStalenessSeconds</c>: with no successful read of the feed for this long, protected calls read storage again.</summary>
    public int RevocationMaxStalenessSeconds { get; set; } = 10;

    internal bool UsesRevocationFeed => string.Equals(RevocationMode, "feed", StringComparison.OrdinalIgnoreCase);

    /// <summary>Allowed clock difference when checking <c>exp</c>/<c>nbf</c>.</summary>
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>Decoded <see cref="SigningKey"/>; set after validation (or generated in Development).</summary>
    internal byte[] SigningKeyBytes { get; set; } = [];
}

internal sealed class AuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuthOptions>
{
    public const int MinimumKeyBytes = 32;
    public const int MinimumProductionCost = 10;

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        bool relaxed = environment.IsDevelopment() || environment.IsEnvironment("Testing");
        if (string.IsNullOrWhiteSpace(options.SigningKey))
        {
            if (!environment.IsDevelopment())
            {
                failures.Add("Auth__SigningKey is required: a base64 key of at least 32 random bytes (e.g. `openssl rand -base64 32`).");
            }
        }
        else if (!TryDecode(options.SigningKey, out var key) || key.Length < MinimumKeyBytes)
        {
            failures.Add($"Auth__SigningKey must be base64 of at least {MinimumKeyBytes} bytes.");
        }

        if (string.IsNullOrWhiteSpace(options.Issuer))
        {
            failures.Add("Auth__Issuer must not be empty.");
        }
        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            failures.Add("Auth__Audience must not be empty.");
        }
        if (options.AccessTokenMinutes is < 1 or > 1440)
        {
            failures.Add("Auth__AccessTokenMinutes must be between 1 and 1440.");
        }
        if (options.RefreshTokenDays is < 1 or > 365)
        {
            failures.Add("Auth__RefreshTokenDays must be between 1 and 365.");
        }
        int minimumCost = relaxed ? Passwords.PasswordHasher.MinCost : MinimumProductionCost;
        if (options.BcryptCost < minimumCost || options.BcryptCost > 20)
        {
            failures.Add($"Auth__BcryptCost must be between {minimumCost} and 20.");
        }
        if (options.RefreshGraceSeconds is < 0 or > 60)
        {
            failures.Add("Auth__RefreshGraceSeconds must be between 0 and 60.");
        }
        if (!string.Equals(options.RevocationMode, "feed", StringComparison.OrdinalIgnoreCase) &&
            !string.Equals(options.RevocationMode, "read", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add("Auth__RevocationMode must be `feed` or `read`.");
        }
        if (options.RevocationPollMilliseconds is < 100 or > 60_000)
        {
            failures.Add("Auth__RevocationPollMilliseconds must be between 100 and 60000.");
        }
        // Two polls may fail in a row without falling back; anything shorter would flap on one slow read.
        if (options.RevocationMaxStalenessSeconds * 1000L < 2L * options.RevocationPollMilliseconds || options.RevocationMaxStalenessSeconds > 300)
        {
            failures.Add("Auth__RevocationMaxStalenessSeconds must be at least twice Auth__RevocationPollMilliseconds and at most 300.");
        }
        if (options.ClockSkewSeconds is < 0 or > 300)
        {
            failures.Add("Auth__ClockSkewSeconds must be between 0 and 300.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool TryDecode(string value, out byte[] key)
    {
        key = new byte[value.Length];
        if (Convert.TryFromBase64String(value.Trim(), key, out int written))
        {
            key = key[..written];
            return true;
        }
        key = [];
        return false;
    }
}

/// <summary>Decodes the signing key once; in Development generates one per run when none is set (tokens die with the process).</summary>
internal sealed partial class AuthOptionsSetup(IHostEnvironment environment, ILogger<AuthOptionsSetup> logger) : IPostConfigureOptions<AuthOptions>
{
    public void PostConfigure(string? name, AuthOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.SigningKey) && AuthOptionsValidator.TryDecode(options.SigningKey, out var key))
        {
            options.SigningKeyBytes = key;
        }
        else if (string.IsNullOrWhiteSpace(options.SigningKey) && environment.IsDevelopment())
        {
            options.SigningKeyBytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(AuthOptionsValidator.MinimumKeyBytes);
            LogGeneratedKey(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Auth__SigningKey is not set: generated a random signing key for this run (Development only). Tokens stop working when the process restarts.")]
    private static partial void LogGeneratedKey(ILogger logger);
}
