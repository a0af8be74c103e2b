using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Text;
using BCrypt.Net;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Passwords;

public enum PasswordCheck
{
    Failed,
    Succeeded,

    /// <summary>Correct, but hashed with a lower cost than configured or from the un-normalized password: store a new hash.</summary>
    SucceededRehashNeeded,
}

/// <summary>
/// bcrypt (BCrypt.Net-Next) at the configured cost, over the NFKC form of the password, with a dummy hash so that an
/// unknown account costs as much time as a wrong password. New hashes are <c>$2b$</c>; <c>$2a$</c>, <c>$2b$</c> and
/// <c>$2y$</c> verify (Flask-Bcrypt and OpenBSD hashes), which are the same algorithm for every password this service
/// accepts. Every verification is one bcrypt computation, counted in <see cref="VerificationsInstrument"/>.
/// </summary>
public sealed partial class PasswordHasher
{
    public const string MeterName = "AuthFunctions.Passwords";
    public const string VerificationsInstrument = "authfunctions.password.verifications";

    /// <summary>bcrypt reads no more of the key than this; the library silently ignores the rest, so longer passwords are refused.</summary>
    public const int MaxPasswordBytes = 72;
    public const int MinCost = 4;
    public const int MaxCost = 31;

    private const int HashLength = 60;
    private const string DummyPassword = "dummy password for unknown accounts";
    private static readonly SearchValues<char> BcryptAlphabet = SearchValues.Create("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    private readonly int _cost;
    private readonly Counter<long> _verifications;
    private readonly ILogger<PasswordHasher> _logger;
    private readonly Lazy<string> _dummyHash;
    private readonly HashingThreads _threads;

    public PasswordHasher(IOptions<PasswordHashingOptions> options, HashingThreads threads, IMeterFactory meters, ILogger<PasswordHasher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        _verifications = meters.Create(MeterName).CreateCounter<long>(
            VerificationsInstrument, unit: "{verification}", description: "bcrypt verifications, tagged with the cost of the hash checked");
        _cost = options.Value.BcryptCost;
        _threads = threads;
        _logger = logger;
        _dummyHash = new Lazy<string>(() => HashNormalized(DummyPassword));
    }

    /// <summary>
    /// The form a password is hashed in: NFKC (NIST SP 800-63B §5.1.1.2), so that the same password typed as composed
    /// or decomposed characters, or in full-width forms, is the same password. False for text that cannot be normalized
    /// (lone surrogates, noncharacters such as U+FFFE).
    /// </summary>
    public static bool TryNormalize(string password, [NotNullWhen(true)] out string? normalized)
    {
        ArgumentNullException.ThrowIfNull(password);
        try
        {
            normalized = password.Normalize(NormalizationForm.FormKC);
            return true;
        }
        catch (ArgumentException)
        {
            normalized = null;
            return false;
        }
    }

    /// <summary>
    /// Whether no stored hash can be made of this password: both the text as typed (hashes made before normalization)
    /// and its NFKC form are longer than <see cref="MaxPasswordBytes"/> in UTF-8.
    /// </summary>
    public static bool IsTooLong(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return Encoding.UTF8.GetByteCount(password) > MaxPasswordBytes &&
               (!TryNormalize(password, out var normalized) || Encoding.UTF8.GetByteCount(normalized) > MaxPasswordBytes);
    }

    /// <summary>A <c>$2b$</c> hash of the password's NFKC form; CredentialRules.PasswordProblem has accepted the password.</summary>
    public Task<string> HashAsync(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryNormalize(password, out var normalized) || !IsHashable(normalized))
        {
            throw new ArgumentException("The password's NFKC form must be valid Unicode of at most 72 UTF-8 bytes without NUL.", nameof(password));
        }
        return _threads.RunAsync(() => HashNormalized(normalized));
    }

    /// <summary>
    /// Checks a password against a stored hash with exactly one bcrypt computation: of the password's NFKC form when
    /// <paramref name="storedNormalized"/> (hashes made by <see cref="HashAsync"/>), else of the password as typed
    /// (hashes made before normalization, such as those of migrated Flask users), which then asks for a rehash.
    /// </summary>
    public Task<PasswordCheck> VerifyAsync(string password, string storedHash, bool storedNormalized)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(storedHash);
        return _threads.RunAsync(() => Verify(password, storedHash, storedNormalized));
    }

    /// <summary>Spends the time of one verification for an account that does not exist (ASVS 6.3.8: no account enumeration by timing).</summary>
    public Task VerifyAgainstDummyAsync(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return _threads.RunAsync(() =>
        {
            // Recorded exactly like a real verification: the count of work per login must not depend on whether the account exists.
            bool matched = VerifyOnce(TryNormalize(password, out var normalized) ? normalized : null, _dummyHash.Value);
            _verifications.Add(1, new KeyValuePair<string, object?>("cost", _cost));
            return matched;
        });
    }

    private PasswordCheck Verify(string password, string storedHash, bool storedNormalized)
    {
        if (!TryReadCost(storedHash, out int cost, out string? reason))
        {
            LogMalformedHash(reason);
            return PasswordCheck.Failed;
        }
        string? candidate = storedNormalized ? (TryNormalize(password, out var normalized) ? normalized : null) : password;
        bool matched;
        try
        {
            matched = VerifyOnce(candidate, storedHash);
        }
        catch (Exception ex) when (ex is SaltParseException or ArgumentException or FormatException)
        {
            // The format was checked above; this is the library refusing a hash anyway. Never log the hash itself.
            LogMalformedHash($"the bcrypt library refused it with {ex.GetType().Name}");
            return PasswordCheck.Failed;
        }
        _verifications.Add(1, new KeyValuePair<string, object?>("cost", cost));
        if (!matched)
        {
            return PasswordCheck.Failed;
        }
        // A password whose NFKC form cannot be hashed (possible only for hashes made before normalization) keeps its
        // hash: HashAsync could not replace it. Changing the password moves such an account to a normalized hash.
        bool canRehash = storedNormalized || (TryNormalize(password, out var form) && IsHashable(form));
        return canRehash && (cost < _cost || !storedNormalized) ? PasswordCheck.SucceededRehashNeeded : PasswordCheck.Succeeded;
    }

    /// <summary>
    /// One bcrypt computation against the hash. A candidate that no stored hash can be made of (too long, NUL, invalid
    /// Unicode) still costs one computation, so that refusing it takes as long as a wrong password, and never matches:
    /// the library would silently ignore bytes past the 72nd, and an embedded NUL makes "abc\0abc" hash like "abc".
    /// </summary>
    private static bool VerifyOnce(string? candidate, string hash)
    {
        bool usable = candidate is not null && IsHashable(candidate);
        return BCrypt.Net.BCrypt.Verify(usable ? candidate! : "", hash) && usable;
    }

    private string HashNormalized(string normalized) =>
        // The library's own default is $2a$; $2b$ is what OpenBSD and python-bcrypt write today.
        BCrypt.Net.BCrypt.HashPassword(normalized, BCrypt.Net.BCrypt.GenerateSalt(_cost, 'b'));

    /// <summary>Valid UTF-16, no NUL, and at most <see cref="MaxPasswordBytes"/> in UTF-8.</summary>
    private static bool IsHashable(string text)
    {
        int bytes = 0;
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out int used) != OperationStatus.Done || rune.Value == 0)
            {
                return false;
            }
            bytes += rune.Utf8SequenceLength;
            rest = rest[used..];
        }
        return bytes <= MaxPasswordBytes;
    }

    /// <summary>The cost of a well-formed <c>$2a$</c>/<c>$2b$</c>/<c>$2y$</c> hash, or why it is not one (the reason never quotes the hash).</summary>
    internal static bool TryReadCost(string hash, out int cost, [NotNullWhen(false)] out string? reason)
    {
        cost = 0;
        if (hash.Length < 7 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$')
        {
            reason = "not in the bcrypt form $2?$cc$";
            return false;
        }
        if (hash[2] is not ('a' or 'b' or 'y'))
        {
            // $2x$ marks hashes of crypt_blowfish's sign-extension bug, which the library does not reproduce.
            reason = char.IsAsciiLetterOrDigit(hash[2]) ? $"unsupported version $2{hash[2]}$" : "unsupported version";
            return false;
        }
        if (!char.IsAsciiDigit(hash[4]) || !char.IsAsciiDigit(hash[5]))
        {
            reason = "cost is not two digits";
            return false;
        }
        int parsed = (hash[4] - '0') * 10 + (hash[5] - '0');
        if (parsed is < MinCost or > MaxCost)
        {
            reason = $"cost {parsed} outside {MinCost} to {MaxCost}";
            return false;
        }
        if (hash.Length != HashLength)
        {
            reason = $"length {hash.Length} instead of {HashLength}";
            return false;
        }
        if (hash.AsSpan(7).ContainsAnyExcept(BcryptAlphabet))
        {
            reason = "salt or digest has characters outside bcrypt's base64 alphabet";
            return false;
        }
        cost = parsed;
        reason = null;
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A stored password hash is malformed ({Reason}); the login is refused.")]
    private partial void LogMalformedHash(string reason);
}
