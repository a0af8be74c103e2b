using System.Text;
using Microsoft.Extensions.Options;
using Zxcvbn.Matcher;

namespace AuthFunctions.Passwords;

/// <summary>Why a new password is refused: the values of the weak-password problem's <c>errors</c> entry.</summary>
public static class PasswordWeakness
{
    /// <summary>A common password (the estimator's list, case and l33t variants included), or common words and patterns guessed below the minimum strength.</summary>
    public const string Common = "common";

    /// <summary>Built from the account's own email or name, or the app's name.</summary>
    public const string Context = "context";

    public const string TooShort = "too_short";
    public const string TooLong = "too_long";
}

/// <summary>
/// What a new password must be, wherever one is set (NIST SP 800-63B §3.1.1.2, ASVS 5.0 V6.2): 8 characters to 72
/// UTF-8 bytes of its NFKC form (the text that is hashed), not a common password, not guessable from the account's
/// own email, name or the app's name, and at least <c>Passwords__MinimumStrength</c> by zxcvbn's estimate. No
/// composition rules (NIST SP 800-63B §3.1.1.2 advises against them). Login never applies it: passwords set before
/// still work. The estimator (zxcvbn-core, with its embedded frequency lists) loads its lists on first use (about
/// half a second) and costs milliseconds per call, so <see cref="WeaknessesAsync"/> runs it on the hashing threads.
/// </summary>
public sealed class NewPasswordPolicy
{
    public const int LowestScore = 0;
    public const int HighestScore = 4;
    public const int MinCharacters = 8;

    /// <summary>The name of the estimator's list of common passwords, and of the words it is given for one evaluation.</summary>
    private const string PasswordsList = EstimatorLists.Passwords;
    private const string ContextList = EstimatorMatchers.UserInputs;

    /// <summary>Shorter context words would match by chance inside unrelated passwords.</summary>
    private const int MinContextWordLength = 3;

    // One estimator for the process: its matchers and lists are built once and only read afterwards (each
    // evaluation makes its own matcher for the context words), so concurrent evaluations share it safely. The
    // estimator scores the cheapest split of a password ("password" + "1"), so whether the whole of it is an entry of
    // its common-password list (case and l33t variants included) is asked of that list itself.
    private readonly EstimatorMatchers _matchers = new();
    private readonly Zxcvbn.Zxcvbn _estimator;
    private readonly HashingThreads _threads;
    private readonly int _minimumStrength;
    private readonly string[] _appWords;

    public NewPasswordPolicy(IOptions<PasswordPolicyOptions> options, HashingThreads threads, IEnumerable<string> appNames)
    {
        ArgumentNullException.ThrowIfNull(options);
        _minimumStrength = options.Value.MinimumStrength;
        _estimator = new Zxcvbn.Zxcvbn(_matchers);
        _threads = threads;
        _appWords = [.. appNames.SelectMany(Words).Distinct(StringComparer.Ordinal)];
    }

    public int MinimumStrength => _minimumStrength;

    /// <summary>The length rules alone (no estimator): <see cref="PasswordWeakness.TooShort"/> or <see cref="PasswordWeakness.TooLong"/>, or none.</summary>
    public static IReadOnlyList<string> LengthWeaknesses(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        string hashed = PasswordHasher.TryNormalize(password, out var normalized) ? normalized : password;
        if (hashed.EnumerateRunes().Count() < MinCharacters)
        {
            return [PasswordWeakness.TooShort];
        }
        // bcrypt reads no further (ASVS 6.2.9 wants long passwords; truncating silently would be worse than saying so).
        return Encoding.UTF8.GetByteCount(hashed) > PasswordHasher.MaxPasswordBytes ? [PasswordWeakness.TooLong] : [];
    }

    /// <summary>Every reason to refuse <paramref name="password"/> for the account of <paramref name="email"/>; empty when it may be set.</summary>
    public Task<IReadOnlyList<string>> WeaknessesAsync(string password, string email, string? fullName) =>
        LengthWeaknesses(password) is { Count: > 0 } length ? Task.FromResult(length) : _threads.RunAsync(() => Weaknesses(password, email, fullName));

    /// <summary>As <see cref="WeaknessesAsync"/>, on the calling thread.</summary>
    public IReadOnlyList<string> Weaknesses(string password, string email, string? fullName)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (LengthWeaknesses(password) is { Count: > 0 } length)
        {
            return length;
        }
        string hashed = PasswordHasher.TryNormalize(password, out var normalized) ? normalized : password;
        var context = ContextWords(email, fullName).ToList();
        // The list checks, whatever the minimum strength.
        if (IsWhollyIn(_matchers.CommonPasswords, hashed))
        {
            return [PasswordWeakness.Common];
        }
        var contextList = new DictionaryMatcher(ContextList, context);
        if (IsWhollyIn([contextList, new L33tMatcher(contextList)], hashed))
        {
            return [PasswordWeakness.Context];
        }
        var estimate = _estimator.EvaluatePassword(hashed, context);
        if (estimate.Score >= _minimumStrength)
        {
            return [];
        }
        var matches = estimate.MatchSequence.OfType<DictionaryMatch>().ToList();
        bool fromContext = matches.Any(m => m.DictionaryName == ContextList);
        var reasons = new List<string>(2);
        if (!fromContext || matches.Any(m => m.DictionaryName == PasswordsList))
        {
            reasons.Add(PasswordWeakness.Common);
        }
        if (fromContext)
        {
            reasons.Add(PasswordWeakness.Context);
        }
        return reasons;
    }

    private static bool IsWhollyIn(IEnumerable<IMatcher> lists, string password) =>
        lists.Any(list => list.MatchPassword(password).Any(match => match.i == 0 && match.j == password.Length - 1));

    /// <summary>
    /// The words someone who targets this account tries first: the email's local part and its pieces, the domain's
    /// labels but the last, the full name and its parts, and the app's names.
    /// </summary>
    private IEnumerable<string> ContextWords(string email, string? fullName)
    {
        int at = email.LastIndexOf('@');
        string local = at < 0 ? email : email[..at];
        string domain = at < 0 ? "" : email[(at + 1)..];
        var words = new List<string>();
        words.AddRange(Words(local));
        words.AddRange(domain.Split('.').SkipLast(1).SelectMany(Words));
        if (!string.IsNullOrWhiteSpace(fullName))
        {
            words.AddRange(Words(fullName));
        }
        words.AddRange(_appWords);
        return words.Distinct(StringComparer.Ordinal);
    }

    /// <summary>The text lower-cased and NFKC-normalized as a whole, without its separators, and each run of letters or digits in it.</summary>
    private static IEnumerable<string> Words(string text)
    {
        string lower = (PasswordHasher.TryNormalize(text, out var normalized) ? normalized : text).ToLowerInvariant().Trim();
        var pieces = new List<string> { lower, string.Concat(lower.Where(char.IsLetterOrDigit)) };
        var piece = new StringBuilder();
        char? kind = null;
        foreach (char c in lower.Append(' '))
        {
            char current = char.IsLetter(c) ? 'l' : char.IsDigit(c) ? 'd' : ' ';
            if (current != kind && piece.Length > 0)
            {
                pieces.Add(piece.ToString());
                piece.Clear();
            }
            if (current != ' ')
            {
                piece.Append(c);
            }
            kind = current;
        }
        return pieces.Where(p => p.Length >= MinContextWordLength);
    }

    /// <summary>The app's names as context words: the token issuer (a URL's host without its top-level label), the display name of the sender of its emails, and the product's own name.</summary>
    public static IEnumerable<string> AppNames(string? issuer, string? emailFrom)
    {
        yield return "AuthFunctions";
        if (!string.IsNullOrWhiteSpace(issuer))
        {
            foreach (var name in Uri.TryCreate(issuer, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host) ? uri.Host.Split('.').SkipLast(1) : [issuer])
            {
                yield return name;
            }
        }
        if (!string.IsNullOrWhiteSpace(emailFrom) && MimeKit.MailboxAddress.TryParse(emailFrom, out var from) && !string.IsNullOrWhiteSpace(from.Name))
        {
            yield return from.Name;
        }
    }
}
