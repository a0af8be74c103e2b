using Zxcvbn;
using Zxcvbn.Matcher;

namespace AuthFunctions.Passwords;

/// <summary>
/// The estimator's matchers (zxcvbn-core 1.1.17's default set, in its order and with its parameters), built here so
/// that <see cref="NewPasswordPolicy"/>'s whole-password check reads the very common-password list the estimator
/// reads: loaded twice, that list cost the worker 2.1 MB of heap (issue 20, worker memory). Held to the library's
/// own default factory by <c>EstimatorMatchersTests</c>, which compares every estimate over thousands of passwords.
/// </summary>
internal sealed class EstimatorMatchers : IMatcherFactory
{
    /// <summary>The name of the list made of one evaluation's own words (the account's email, name, the app's name).</summary>
    public const string UserInputs = "user_inputs";

    private readonly IMatcher[] _shared;

    public EstimatorMatchers()
    {
        // Each list is read from the estimator's assembly on its first use, once.
        DictionaryMatcher[] lists =
        [
            CommonPasswordList,
            List(EstimatorLists.English),
            List("male_names"),
            List("female_names"),
            List("surnames"),
            List("us_tv_and_film"),
        ];
        _shared =
        [
            new RepeatMatcher(),
            new SequenceMatcher(),
            new RegexMatcher(@"\d{3,}", 10, true, "digits"),
            new RegexMatcher(@"19\d\d|200\d|201\d", 119, false, "year"),
            new DateMatcher(),
            new SpatialMatcher(),
            .. lists,
            new L33tMatcher([.. lists]),
        ];
        CommonPasswords = [CommonPasswordList, new L33tMatcher(CommonPasswordList)];
    }

    /// <summary>The list of common passwords (name <see cref="EstimatorLists.Passwords"/>), also one of the estimator's matchers.</summary>
    public DictionaryMatcher CommonPasswordList { get; } = List(EstimatorLists.Passwords);

    /// <summary>The common-password list and its l33t variants, for asking whether a whole password is on it.</summary>
    public IReadOnlyList<IMatcher> CommonPasswords { get; }

    /// <summary>The shared matchers, and the words of one evaluation as their own list (plain and l33t), as the library's factory does.</summary>
    public IEnumerable<IMatcher> CreateMatchers(IEnumerable<string> userInputs)
    {
        var context = new DictionaryMatcher(UserInputs, userInputs);
        return [.. _shared, context, new L33tMatcher(context)];
    }

    private static DictionaryMatcher List(string name) => new(name, name + ".lst");
}
