using AuthFunctions.Passwords;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tests.Unit;

/// <summary>
/// The judgement on a new password (NIST SP 800-63B §3.1.1.2, ASVS 5.0 V6.2), over the estimator's own lists: the
/// common passwords below come from its embedded list at test time, not from a copy here.
/// </summary>
public sealed class NewPasswordPolicyTests : IDisposable
{
    private const string Email = "ada.lovelace1815@analytical-engines.org";
    private const string FullName = "Ada Lovelace";
    private readonly HashingThreads _threads = new(1);

    public void Dispose() => _threads.Dispose();

    private NewPasswordPolicy Policy(int minimumStrength = PasswordPolicyOptions.DefaultMinimumStrength, string? issuer = null, string? emailFrom = null) =>
        new(Options.Create(new PasswordPolicyOptions { MinimumStrength = minimumStrength }), _threads, NewPasswordPolicy.AppNames(issuer, emailFrom));

    public static TheoryData<int> EveryMinimum => [0, 1, 2, 3, 4];

    [Theory]
    [MemberData(nameof(EveryMinimum))]
    public void TheMostCommonPasswordsAreRefusedAtEveryMinimum(int minimum)
    {
        var policy = Policy(minimum);
        var common = PasswordSamples.CommonPasswords(100).Where(p => NewPasswordPolicy.LengthWeaknesses(p).Count == 0).ToList();
        Assert.True(common.Count >= 20, $"only {common.Count} of the top 100 have 8 characters");
        Assert.All(common, p => Assert.Equal([PasswordWeakness.Common], policy.Weaknesses(p, Email, FullName)));
    }

    [Theory]
    [MemberData(nameof(EveryMinimum))]
    public void CaseAndL33tVariantsOfAListedPasswordAreRefusedAtEveryMinimum(int minimum)
    {
        var policy = Policy(minimum);
        Assert.Contains("password1", PasswordSamples.CommonPasswords(1000));
        foreach (var variant in new[] { "PASSWORD", "Password", "P@ssw0rd", "p4ssw0rd", "PaSsWoRd1", "pa$$word" })
        {
            Assert.Equal([PasswordWeakness.Common], policy.Weaknesses(variant, Email, FullName));
        }
    }

    [Theory]
    [InlineData("ada.lovelace1815")] // the email's local part
    [InlineData("AdaLovelace")] // the full name
    [InlineData("analytical-engines")] // the email's domain
    [InlineData("4d4l0v3l4c3")] // the name in l33t
    [InlineData("AuthFunctions")] // the app's name
    public void TheAccountsOwnEmailNameAndTheAppsNameAreRefusedEvenWithOnlyTheListCheck(string password) =>
        Assert.Equal([PasswordWeakness.Context], Policy(minimumStrength: 0).Weaknesses(password, Email, FullName));

    [Fact]
    public void ContextWordsWithLittleAddedAreRefusedAsContext()
    {
        var policy = Policy();
        Assert.Contains(PasswordWeakness.Context, policy.Weaknesses("lovelace2024!", Email, FullName));
        Assert.Contains(PasswordWeakness.Context, policy.Weaknesses("myauthfunctions1", Email, FullName));
        // The same passwords for someone else are judged without that context.
        Assert.DoesNotContain(PasswordWeakness.Context, policy.Weaknesses("lovelace2024!", "grace@example.com", "Grace Hopper"));
    }

    [Fact]
    public void TheIssuersHostAndTheEmailSendersNameAreTheAppsName()
    {
        var policy = Policy(minimumStrength: 0, issuer: "https://contoso-auth.azurewebsites.net", emailFrom: "Fabrikam Portal <no-reply@example.com>");
        Assert.Equal([PasswordWeakness.Context], policy.Weaknesses("contoso-auth", Email, null));
        Assert.Equal([PasswordWeakness.Context], policy.Weaknesses("FabrikamPortal", Email, null));
        Assert.Empty(Policy(minimumStrength: 0).Weaknesses("FabrikamPortal", Email, null));
    }

    [Fact]
    public void RandomPassphrasesOfThreeWordsAndMoreAreAccepted()
    {
        var policy = Policy();
        var threeWords = PasswordSamples.Passphrases(200);
        Assert.True(threeWords.Count(p => policy.Weaknesses(p, Email, FullName).Count > 0) <= 2, "more than 1% of 3-word passphrases refused");
        Assert.All(PasswordSamples.Passphrases(50, words: 5), p => Assert.Empty(policy.Weaknesses(p, Email, FullName)));
        Assert.Empty(policy.Weaknesses("correct horse battery staple", Email, FullName));
    }

    /// <summary>README's table: what the default refuses beyond the list, measured on the estimator's own samples.</summary>
    [Fact]
    public void TheDefaultRefusesTwoWordPassphrasesAndDressedUpCommonPasswords()
    {
        var policy = Policy();
        Assert.All(PasswordSamples.Passphrases(100, words: 2), p => Assert.NotEmpty(policy.Weaknesses(p, Email, FullName)));
        Assert.All(PasswordSamples.DressedCommonPasswords(200), p => Assert.NotEmpty(policy.Weaknesses(p, Email, FullName)));
        // With only the list check the dressed-up ones mostly pass: that is what the minimum strength adds.
        Assert.True(PasswordSamples.DressedCommonPasswords(200).Count(p => Policy(0).Weaknesses(p, Email, FullName).Count == 0) > 50);
    }

    [Fact]
    public void NoCompositionRuleApplies()
    {
        var policy = Policy();
        // All lower-case letters and spaces, no digit or symbol: accepted.
        Assert.Empty(policy.Weaknesses("purple umbrella sandwich", Email, FullName));
        // Upper, lower, digit and symbol, but a dressed-up common password: refused.
        Assert.Equal([PasswordWeakness.Common], policy.Weaknesses("Password123!", Email, FullName));
    }

    [Theory]
    [InlineData("short", PasswordWeakness.TooShort)]
    [InlineData("e\u0301e\u0301e\u0301e\u0301", PasswordWeakness.TooShort)]
    public void LengthIsJudgedFirst(string password, string reason) =>
        Assert.Equal([reason], Policy().Weaknesses(password, Email, FullName));

    [Fact]
    public void TooLongIsTheOnlyReasonForAPasswordBcryptWouldTruncate() =>
        Assert.Equal([PasswordWeakness.TooLong], Policy().Weaknesses(new string('a', 73), Email, FullName));

    [Fact]
    public async Task ConcurrentChecksOnTheHashingThreadsAgreeWithSequentialOnes()
    {
        var policy = Policy();
        var passwords = PasswordSamples.CommonPasswords(40).Concat(PasswordSamples.Passphrases(40)).ToList();
        var sequential = passwords.Select(p => policy.Weaknesses(p, Email, FullName)).ToList();
        using var many = new HashingThreads(4);
        var shared = new NewPasswordPolicy(Options.Create(new PasswordPolicyOptions { MinimumStrength = PasswordPolicyOptions.DefaultMinimumStrength }), many, NewPasswordPolicy.AppNames(null, null));
        var concurrent = await Task.WhenAll(passwords.Select(p => shared.WeaknessesAsync(p, Email, FullName)));
        Assert.Equal(sequential, concurrent);
    }
}
