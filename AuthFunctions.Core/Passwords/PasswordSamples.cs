namespace AuthFunctions.Passwords;

/// <summary>
/// Samples that the benchmark and the tests measure <see cref="NewPasswordPolicy"/> on, drawn from the estimator's own
/// embedded frequency lists (nothing copied into this repository): its most common passwords, and passphrases of
/// words picked at random from its English list.
/// </summary>
public static class PasswordSamples
{
    /// <summary>A Diceware list's size: passphrases are drawn from this many of the most frequent English words.</summary>
    public const int PassphraseVocabulary = 7776;

    /// <summary>The <paramref name="count"/> most common passwords of the estimator's list, most common first.</summary>
    public static IReadOnlyList<string> CommonPasswords(int count) => [.. EstimatorLists.Read(EstimatorLists.Passwords).Take(count)];

    /// <summary>
    /// The <paramref name="count"/> most common passwords as people dress them up for a composition rule: the first
    /// letter upper-cased and one of a few usual endings (a digit, 123, !, a year) added.
    /// </summary>
    public static IReadOnlyList<string> DressedCommonPasswords(int count, int seed = 20260)
    {
        string[] endings = ["1", "12", "123", "!", "1!", "2024"];
#pragma warning disable CA5394 // A reproducible measurement sample, not a secret.
        var random = new Random(seed);
        return [.. CommonPasswords(count).Select(p => char.ToUpperInvariant(p[0]) + p[1..] + endings[random.Next(endings.Length)])];
#pragma warning restore CA5394
    }

    /// <summary><paramref name="count"/> passphrases of <paramref name="words"/> words each, separated by spaces, from a seeded generator (the same sample every run).</summary>
    public static IReadOnlyList<string> Passphrases(int count, int words = 3, int seed = 20260)
    {
        var vocabulary = EstimatorLists.Read(EstimatorLists.English).Take(PassphraseVocabulary).ToArray();
#pragma warning disable CA5394 // A reproducible measurement sample, not a secret.
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => string.Join(' ', Enumerable.Range(0, words).Select(_ => vocabulary[random.Next(vocabulary.Length)])))];
#pragma warning restore CA5394
    }
}

/// <summary>The frequency lists embedded in the estimator's assembly (zxcvbn-core), read by name, most frequent first.</summary>
internal static class EstimatorLists
{
    public const string Passwords = "passwords";
    public const string English = "english";

    public static IEnumerable<string> Read(string name)
    {
        var assembly = typeof(Zxcvbn.Zxcvbn).Assembly;
        string resource = assembly.GetManifestResourceNames().Single(r => r.EndsWith($".{name}.lst", StringComparison.Ordinal));
        using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                yield return line;
            }
        }
    }
}
