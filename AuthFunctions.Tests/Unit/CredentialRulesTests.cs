using System.Text;
using AuthFunctions.Auth;
using AuthFunctions.Accounts;

namespace AuthFunctions.Tests.Unit;

/// <summary>Emails and names that look alike must not be different accounts, and invisible code points are refused.</summary>
public sealed class CredentialRulesTests
{
    /// <summary>Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt), bidi controls among them.</summary>
    public static readonly (int First, int Last)[] DefaultIgnorable =
    [
        (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
        (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
        (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
    ];

    public static readonly int[] BidiControls = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069];

    private static IEnumerable<int> EveryIgnorable() =>
        DefaultIgnorable.SelectMany(range => Enumerable.Range(range.First, range.Last - range.First + 1));

    private static string Fullwidth(string ascii) =>
        string.Concat(ascii.Select(c => c is > ' ' and <= '~' ? (char)(c + 0xFEE0) : c));

    private static string Normalized(string input)
    {
        Assert.True(CredentialRules.TryNormalizeEmail(input, out var email, out var error), error);
        return email;
    }

    [Fact]
    public void FullwidthLettersAreTheSameEmail()
    {
        Assert.Equal("ada@example.com", Normalized("ＡＤＡ@ｅｘａｍｐｌｅ.ｃｏｍ"));
        // Every character fullwidth, the at sign and dots included.
        Assert.Equal("ada.lovelace-1815@example.com", Normalized(Fullwidth("Ada.Lovelace-1815@Example.com")));
    }

    [Theory]
    [InlineData("\U0001D41A\U0001D41D\U0001D41A@example.com")] // mathematical bold a d a
    [InlineData("\u24D0\u24D3\u24D0@example.com")] // circled letters
    [InlineData("ada@\u212Aexample.com", "ada@kexample.com")] // Kelvin sign
    [InlineData("\uFB01ada@example.com", "fiada@example.com")] // the fi ligature
    [InlineData("ad\u00AA@example.com")] // feminine ordinal indicator
    [InlineData("ADA@EXAMPLE.COM")]
    [InlineData("  ada@example.com\t")]
    public void CompatibilityAndCaseVariantsFoldToOneEmail(string input, string expected = "ada@example.com") =>
        Assert.Equal(expected, Normalized(input));

    [Fact]
    public void FoldingIsStable()
    {
        foreach (string input in new[] { "ＡＤＡ@ｅｘａｍｐｌｅ.ｃｏｍ", "Ünïcødé@Exämple.com", "\u1E9Ee@example.com", "\u2126mega@example.com", "\u0130stanbul@example.com" })
        {
            string once = Normalized(input);
            Assert.Equal(once, Normalized(once));
            Assert.True(once.IsNormalized(NormalizationForm.FormKC));
            Assert.Equal(once, once.ToLowerInvariant());
        }
    }

    [Fact]
    public void EveryDefaultIgnorableCodePointIsRefusedInEmailsAnywhere()
    {
        foreach (int code in EveryIgnorable())
        {
            string invisible = char.ConvertFromUtf32(code);
            foreach (string email in new[] { $"a{invisible}da@example.com", $"ada@exa{invisible}mple.com", $"{invisible}ada@example.com", $"ada@example.com{invisible}" })
            {
                Assert.False(CredentialRules.TryNormalizeEmail(email, out _, out var error), $"U+{code:X4} was accepted");
                Assert.DoesNotContain(invisible, error!, StringComparison.Ordinal);
                Assert.DoesNotContain("ada", error!, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(0xFFF9)] // interlinear annotation anchor: a format character that is not default-ignorable
    [InlineData(0x0600)] // Arabic number sign
    [InlineData(0x110BD)] // Kaithi number sign
    [InlineData(0x0378)] // unassigned: its normalization may change in a later Unicode version
    public void OtherFormatAndUnassignedCodePointsAreRefusedInEmails(int code) =>
        Assert.False(CredentialRules.TryNormalizeEmail($"a{char.ConvertFromUtf32(code)}da@example.com", out _, out _));

    [Fact]
    public void EveryDefaultIgnorableCodePointIsRefusedInNames()
    {
        foreach (int code in EveryIgnorable().Concat(BidiControls))
        {
            string invisible = char.ConvertFromUtf32(code);
            var problem = CredentialRules.FullNameProblem($"Ada{invisible} Lovelace");
            Assert.True(problem is not null, $"U+{code:X4} was accepted");
            Assert.DoesNotContain(invisible, problem, StringComparison.Ordinal);
            Assert.DoesNotContain("Ada", problem, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Ada Lovelace")]
    [InlineData("Zoë Ångström-Ørsted")]
    [InlineData("José Nuñez O'Brien")]
    [InlineData("山田 太郎")]
    [InlineData("Ἀριστοτέλης")]
    [InlineData("محمد")]
    [InlineData("हिन्दी")]
    public void OrdinaryNamesAreAccepted(string name) => Assert.Null(CredentialRules.FullNameProblem(name));

    [Theory]
    [InlineData("ünïcødé@exämple.com")]
    [InlineData("o'reilly@example.com")]
    [InlineData("slash/and#hash?@example.com")]
    [InlineData("用户@例子.广告")]
    [InlineData("θσ@example.gr")]
    public void OrdinaryEmailsAreUnchanged(string email) => Assert.Equal(email, Normalized(email));
}
