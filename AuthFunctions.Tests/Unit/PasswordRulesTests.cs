using AuthFunctions.Auth;
using AuthFunctions.Accounts;

namespace AuthFunctions.Tests.Unit;

/// <summary>Password rules apply to the NFKC form, which is what gets hashed (NIST SP 800-63B §5.1.1.2).</summary>
public sealed class PasswordRulesTests
{
    [Fact]
    public void FullWidthPasswordOverSeventyTwoBytesTypedIsAcceptedWhenItsNfkcFormFits()
    {
        // 30 full-width letters: 90 UTF-8 bytes as typed, 30 once normalized.
        Assert.Null(CredentialRules.PasswordProblem(new string('ｐ', 30)));
    }

    [Fact]
    public void PasswordWhoseNfkcFormExceedsSeventyTwoBytesIsRefusedNotTruncated()
    {
        // U+FDFA is 3 bytes typed and 33 under NFKC: 14 bytes as typed, 74 normalized.
        string problem = CredentialRules.PasswordProblem("\uFDFA\uFDFAabcdefgh")!;
        Assert.Contains("at most 72 bytes", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CharactersAreCountedInTheNfkcForm()
    {
        // Eight code points typed, four once the accents compose.
        Assert.Contains("at least 8 characters", CredentialRules.PasswordProblem("e\u0301e\u0301e\u0301e\u0301")!, StringComparison.Ordinal);
        // Four code points typed, eight once the ligatures decompose.
        Assert.Null(CredentialRules.PasswordProblem("ﬃﬃab"));
    }

    [Fact]
    public void PasswordThatCannotBeNormalizedIsRefused() =>
        Assert.Contains("valid Unicode", CredentialRules.PasswordProblem("password\uFFFE")!, StringComparison.Ordinal);
}
