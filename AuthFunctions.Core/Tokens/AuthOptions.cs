using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tokens;

/// <summary>Settings section <c>Auth</c> (environment variables <c>Auth__…</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// <c>Auth__SigningKey</c>: base64, at least 32 bytes (RFC 7518 §3.2: an HS256 key is at least as long as the hash).
    /// HS256: only this app can check its tokens. Exclusive with <see cref="SigningKeys"/>.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>
    /// <c>Auth__SigningKeys__0</c>, <c>__1</c>, …: PKCS#8 PEM EC P-256 private keys, newest first. ES256: tokens are
    /// signed with the newest and accepted under any of them, so a rotation logs nobody out; the public keys are
    /// published at <c>/api/.well-known/jwks.json</c>. One of this or <see cref="SigningKey"/> is required outside Development.
    /// </summary>
    public List<string> SigningKeys { get; set; } = [];

    public string Issuer { get; set; } = "authfunctions";

    public string Audience { get; set; } = "authfunctions-clients";

    public int AccessTokenMinutes { get; set; } = 15;

    public int RefreshTokenDays { get; set; } = 30;

    /// <summary><c>Auth__SessionMaxDays</c>: the absolute lifetime of a session from its login, however often it is refreshed (ASVS 7.3.2).</summary>
    public int SessionMaxDays { get; set; } = 90;

    /// <summary><c>Auth__RequireVerifiedEmail</c>: when true, a correct password of an unverified account is answered 403 (email-not-verified).</summary>
    public bool RequireVerifiedEmail { get; set; }

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

    /// <summary>
    /// <c>Auth__RevocationPollMilliseconds</c>: how often each instance reads the feed's newest rows. A revocation is
    /// refused everywhere within twice this, whatever storage does (see <see cref="RevocationFeed.Bound"/>).
    /// </summary>
    public int RevocationPollMilliseconds { get; set; } = 1000;

    /// <summary>The default <see cref="RevocationMaxEntries"/>.</summary>
    public const int DefaultRevocationMaxEntries = 100_000;

    /// <summary>The most <see cref="RevocationMaxEntries"/> allows (each entry is a few hundred bytes of memory).</summary>
    public const int RevocationMaxEntriesLimit = 1_000_000;

    /// <summary>
    /// <c>Auth__RevocationMaxEntries</c>: the most live revocations an instance keeps in its copy of the feed (1 to
    /// 1,000,000). Past it no revocation is dropped: the instance reads storage per protected call until the excess has
    /// aged out (fail closed), and logs RevocationFeedOverflow.
    /// </summary>
    public int RevocationMaxEntries { get; set; } = DefaultRevocationMaxEntries;

    internal bool UsesRevocationFeed => string.Equals(RevocationMode, "feed", StringComparison.OrdinalIgnoreCase);

    /// <summary>Allowed clock difference when checking <c>exp</c>/<c>nbf</c>.</summary>
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>Decoded <see cref="SigningKey"/> (HS256 only); empty with ES256.</summary>
    internal byte[] SigningKeyBytes { get; set; } = [];

    /// <summary>The parsed <see cref="SigningKeys"/>, newest first (or one generated in Development); empty with HS256.</summary>
    /// <remarks>A field: the configuration binding generator would otherwise try to bind it.</remarks>
    internal IReadOnlyList<ECDsa> EcSigningKeys = [];

    /// <summary>
    /// The secret that derives a refresh token's successor (see SessionService): HKDF-SHA256 of the HS256 key or of
    /// the newest EC key's private scalar, under its own label so it is never the signing key itself (RFC 5869 §3.2).
    /// </summary>
    internal byte[] RefreshRotationKey { get; set; } = [];

    /// <summary>
    /// The keys that sign device tokens (see DeviceTokens), one per configured signing key, newest first, each derived
    /// like <see cref="RefreshRotationKey"/> under its own label: the newest signs, any verifies, so a key rotation
    /// keeps every browser's device token working until its key is dropped.
    /// </summary>
    /// <remarks>A field: the configuration binding generator would otherwise try to bind it.</remarks>
    internal IReadOnlyList<byte[]> DeviceTokenKeys = [];

    internal bool HasSigningKey => !string.IsNullOrWhiteSpace(SigningKey);

    internal IEnumerable<(int Index, string Pem)> ConfiguredSigningKeys =>
        SigningKeys.Select((pem, index) => (index, pem)).Where(key => !string.IsNullOrWhiteSpace(key.pem));
}

internal sealed class AuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuthOptions>
{
    public const int MinimumKeyBytes = 32;

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        bool hasEcKeys = options.ConfiguredSigningKeys.Any();
        if (options.HasSigningKey && hasEcKeys)
        {
            failures.Add("Auth__SigningKey and Auth__SigningKeys are both set: use Auth__SigningKeys__N (ES256, EC P-256 keys) or Auth__SigningKey (HS256), not both.");
        }
        else if (!options.HasSigningKey && !hasEcKeys)
        {
            if (!environment.IsDevelopment())
            {
                failures.Add("Auth__SigningKeys__0 (a PKCS#8 PEM EC P-256 private key, e.g. from `scripts/rotate-signing-key`) or Auth__SigningKey (HS256: base64 of at least 32 random bytes) is required.");
            }
        }
        else if (options.HasSigningKey && (!TryDecode(options.SigningKey!, out var key) || key.Length < MinimumKeyBytes))
        {
            failures.Add($"Auth__SigningKey must be base64 of at least {MinimumKeyBytes} bytes.");
        }
        foreach (var (index, pem) in options.ConfiguredSigningKeys)
        {
            using var ec = SigningKeyPem.TryLoad(pem, out var problem);
            if (ec is null)
            {
                failures.Add($"Auth__SigningKeys__{index} {problem}");
            }
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
        if (options.SessionMaxDays is < 1 or > 3650)
        {
            failures.Add("Auth__SessionMaxDays must be between 1 and 3650.");
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
        if (options.RevocationMaxEntries is < 1 or > AuthOptions.RevocationMaxEntriesLimit)
        {
            failures.Add("Auth__RevocationMaxEntries must be between 1 and 1000000.");
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

/// <summary>
/// Reads the signing keys once (the validator reports the ones that do not parse); in Development with neither
/// setting it generates an ES256 key per run (tokens die with the process).
/// </summary>
internal sealed partial class AuthOptionsSetup(IHostEnvironment environment, ILogger<AuthOptionsSetup> logger) : IPostConfigureOptions<AuthOptions>
{
    private static readonly byte[] RefreshRotationLabel = Encoding.ASCII.GetBytes("authfunctions refresh-token rotation v1");
    private static readonly byte[] DeviceTokenLabel = Encoding.ASCII.GetBytes("authfunctions device token v1");

    public void PostConfigure(string? name, AuthOptions options)
    {
        var ecKeys = options.ConfiguredSigningKeys.Select(key => SigningKeyPem.TryLoad(key.Pem, out _)).ToList();
        if (options.HasSigningKey)
        {
            if (AuthOptionsValidator.TryDecode(options.SigningKey!, out var key))
            {
                options.SigningKeyBytes = key;
            }
        }
        else if (ecKeys.Count > 0)
        {
            options.EcSigningKeys = ecKeys.All(ec => ec is not null) ? [.. ecKeys.Select(ec => ec!)] : [];
        }
        else if (environment.IsDevelopment())
        {
            options.EcSigningKeys = [ECDsa.Create(ECCurve.NamedCurves.nistP256)];
            LogGeneratedKey(logger);
        }

        if (options.EcSigningKeys.Count > 0)
        {
            var deviceKeys = new List<byte[]>();
            foreach (var ec in options.EcSigningKeys)
            {
                byte[] scalar = ec.ExportParameters(includePrivateParameters: true).D!;
                if (deviceKeys.Count == 0)
                {
                    options.RefreshRotationKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, scalar, 32, salt: [], info: RefreshRotationLabel);
                }
                deviceKeys.Add(HKDF.DeriveKey(HashAlgorithmName.SHA256, scalar, 32, salt: [], info: DeviceTokenLabel));
                CryptographicOperations.ZeroMemory(scalar);
            }
            options.DeviceTokenKeys = deviceKeys;
        }
        else if (options.SigningKeyBytes.Length > 0)
        {
            options.RefreshRotationKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, options.SigningKeyBytes, 32, salt: [], info: RefreshRotationLabel);
            options.DeviceTokenKeys = [HKDF.DeriveKey(HashAlgorithmName.SHA256, options.SigningKeyBytes, 32, salt: [], info: DeviceTokenLabel)];
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Auth__SigningKeys is not set: generated an ES256 signing key for this run (Development only). Tokens stop working when the process restarts.")]
    private static partial void LogGeneratedKey(ILogger logger);
}

/// <summary>One <c>Auth__SigningKeys__N</c> value: a PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>) EC P-256 private key.</summary>
internal static class SigningKeyPem
{
    private const string NistP256Oid = "1.2.840.10045.3.1.7";

    /// <summary>The key, or null and why not (a sentence that follows the setting's name). Never echoes the value.</summary>
    public static ECDsa? TryLoad(string pem, out string? problem)
    {
        problem = null;
        if (!PemEncoding.TryFind(pem, out var fields) || !pem.AsSpan()[fields.Label].SequenceEqual("PRIVATE KEY"))
        {
            problem = "must be a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----), e.g. from `scripts/rotate-signing-key` or `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`.";
            return null;
        }
        byte[] der = new byte[fields.DecodedDataLength];
        try
        {
            if (!Convert.TryFromBase64Chars(pem.AsSpan()[fields.Base64Data], der, out int written))
            {
                throw new CryptographicException();
            }
            if (ImportP256(der.AsSpan(0, written)) is not { } ec)
            {
                problem = "must be a key on the P-256 curve (ES256); this one is on another curve.";
                return null;
            }
            return ec;
        }
        catch (CryptographicException)
        {
            problem = "must be an EC P-256 private key in PKCS#8 PEM; this one does not decode as an EC private key.";
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>
    /// The EC private key of a PKCS#8 DER when it is on P-256 (ES256); null when it is on another curve. Throws
    /// <see cref="CryptographicException"/> when the DER is not an EC private key. Also reads client assertion keys.
    /// </summary>
    internal static ECDsa? ImportP256(ReadOnlySpan<byte> pkcs8)
    {
        var ec = ECDsa.Create();
        try
        {
            ec.ImportPkcs8PrivateKey(pkcs8, out _);
            var curve = ec.ExportParameters(includePrivateParameters: false).Curve;
            if (curve.IsNamed && curve.Oid.Value == NistP256Oid)
            {
                return ec;
            }
        }
        catch (CryptographicException)
        {
            ec.Dispose();
            throw;
        }
        ec.Dispose();
        return null;
    }
}
