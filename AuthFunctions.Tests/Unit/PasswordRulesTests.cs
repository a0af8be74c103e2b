using AuthFunctions.Accounts;
using AuthFunctions.Passwords;

namespace AuthFunctions.Tests.Unit;

/// <summary>Password rules apply to the NFKC form, which is what gets hashed (NIST SP 800-63B §5.1.1.2).</summary>
public sealed class PasswordRulesTests
{
    [Fact]
    public void FullWidthPasswordOverSeventyTwoBytesTypedIsAcceptedWhenItsNfkcFormFits()
    {
        // 30 full-width letters: 90 UTF-8 bytes as typed, 30 once normalized.
        Assert.Null(CredentialRules.PasswordProblem(new string('ｐ', 30)));
        Assert.Empty(NewPasswordPolicy.LengthWeaknesses(new string('ｐ', 30)));
    }

    [Fact]
    public void PasswordWhoseNfkcFormExceedsSeventyTwoBytesIsRefusedNotTruncated()
    {
        // U+FDFA is 3 bytes typed and 33 under NFKC: 14 bytes as typed, 74 normalized.
        Assert.Equal([PasswordWeakness.TooLong], NewPasswordPolicy.LengthWeaknesses("\uFDFA\uFDFAabcdefgh"));
    }

    [Fact]
    public void CharactersAreCountedInTheNfkcForm()
    {
        // Eight code points typed, four once the accents compose.
        Assert.Equal([PasswordWeakness.TooShort], NewPasswordPolicy.LengthWeaknesses("e\u0301e\u0301e\u0301e\u0301"));
        // Four code points typed, eight once the ligatures decompose.
        Assert.Empty(NewPasswordPolicy.LengthWeaknesses("ﬃﬃab"));
    }

    [Fact]
    public void PasswordThatCannotBeNormalizedIsRefused() =>
        Assert.Contains("valid Unicode", CredentialRules.PasswordProblem("password\uFFFE")!, StringComparison.Ordinal);
}
