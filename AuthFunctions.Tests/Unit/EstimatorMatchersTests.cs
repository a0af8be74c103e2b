using AuthFunctions.Passwords;
using Zxcvbn.Matcher;

namespace AuthFunctions.Tests.Unit;

/// <summary>
/// The estimator with our matchers (one common-password list shared with the policy's whole-password check) estimates
/// exactly as zxcvbn-core with its own default matchers: same score, entropy and match sequence, over the library's
/// most common passwords, their dressed-up forms, passphrases, l33t, dates, years, sequences, keyboard walks and the
/// account's own words.
/// </summary>
public sealed class EstimatorMatchersTests
{
    private static readonly string[] Context = ["ada", "lovelace", "ada.lovelace1815", "analytical", "engines", "authfunctions"];

    public static IEnumerable<string> Samples()
    {
        var common = PasswordSamples.CommonPasswords(1500);
        return
        [
            .. common,
            .. PasswordSamples.DressedCommonPasswords(1500),
            .. common.Take(300).Select(p => p.Replace('a', '@').Replace('o', '0').Replace('e', '3').Replace('s', '$')),
            .. PasswordSamples.Passphrases(300, words: 2),
            .. PasswordSamples.Passphrases(300, words: 3),
            "Lovelace1815!", "ada.lovelace1815", "4d4l0v3l4c3", "AuthFunctions2024", "engines-analytical",
            "qwertyuiop", "zxcvbnm,./", "1qaz2wsx3edc", "abcdefghij", "9876543210", "aaaaaaaaaaaa", "abcabcabcabc",
            "12/05/1987", "1987-05-12", "05121987x", "born1999here", "2013summer", "19 Dec 2010",
            "Tr0ub4dor&3", "correct horse battery staple", "x7#Lq!9vR2@m", "passwordpassword", "P@ssw0rd2019!",
            "Jennifer1990", "smith-johnson", "TheSimpsons", "starwars123", "",
        ];
    }

    [Fact]
    public void EveryEstimateEqualsTheLibrarysDefault()
    {
        var library = new Zxcvbn.Zxcvbn();
        var ours = new Zxcvbn.Zxcvbn(new EstimatorMatchers());
        var samples = Samples().ToList();
        Assert.True(samples.Count > 3900, $"only {samples.Count} samples");
        var differences = samples
            .Select(password => (Password: password, Expected: Describe(library.EvaluatePassword(password, Context)), Actual: Describe(ours.EvaluatePassword(password, Context))))
            .Where(pair => pair.Expected != pair.Actual)
            .Take(5)
            .Select(pair => $"{pair.Password}:\n  library {pair.Expected}\n  ours    {pair.Actual}")
            .ToList();
        Assert.True(differences.Count == 0, string.Join('\n', differences));
    }

    [Fact]
    public void TheWholePasswordCheckReadsTheEstimatorsOwnList()
    {
        var matchers = new EstimatorMatchers();
        var estimatorMatchers = matchers.CreateMatchers(Context).ToList();
        Assert.Contains(matchers.CommonPasswordList, estimatorMatchers);
        Assert.Same(matchers.CommonPasswordList, matchers.CommonPasswords[0]);
        Assert.Contains(matchers.CommonPasswords[1].MatchPassword("p@ssw0rd"), match => match.i == 0 && match.j == 7);
    }

    private static string Describe(Zxcvbn.Result result) =>
        FormattableString.Invariant($"score={result.Score} entropy={result.Entropy:R} crack={result.CrackTime:R} ") +
        string.Join(" | ", result.MatchSequence.Select(match => FormattableString.Invariant(
            $"{match.Pattern}[{match.i}..{match.j}]'{match.Token}' {match.Entropy:R}{(match is DictionaryMatch word ? $" {word.DictionaryName}#{word.Rank} {word.MatchedWord}" : "")}")));
}
