using System.Globalization;
using System.Text;
using AuthFunctions.Mfa;

namespace AuthFunctions.Tests.Unit;

/// <summary>The TOTP code path the app verifies with (Otp.NET, SHA-1, 6 digits, 30 s) against RFC 6238 Appendix B.</summary>
public sealed class TotpVectorTests
{
    public static TheoryData<long, string> Vectors()
    {
        var data = new TheoryData<long, string>();
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "TestData", "rfc6238-sha1.tsv")).Where(l => !l.StartsWith('#')))
        {
            var columns = line.Split('\t');
            data.Add(long.Parse(columns[0], CultureInfo.InvariantCulture), columns[1]);
        }
        return data;
    }

    private static readonly byte[] Seed = Encoding.ASCII.GetBytes("12345678901234567890");

    [Theory]
    [MemberData(nameof(Vectors))]
    public void ComputesAndAcceptsTheRfcCode(long unixTime, string eightDigits)
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(unixTime);
        Assert.Equal(eightDigits[^6..], Authenticator.Compute(Seed, at));
        Assert.True(Authenticator.Verify(Seed, eightDigits[^6..], at, out long step));
        Assert.Equal(unixTime / 30, step);
    }

    [Fact]
    public void AcceptsOneStepEitherSideAndNoFurther()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1111111111);
        Assert.True(Authenticator.Verify(Seed, Authenticator.Compute(Seed, at.AddSeconds(-30)), at, out _));
        Assert.True(Authenticator.Verify(Seed, Authenticator.Compute(Seed, at.AddSeconds(30)), at, out _));
        Assert.False(Authenticator.Verify(Seed, Authenticator.Compute(Seed, at.AddSeconds(-60)), at, out _));
        Assert.False(Authenticator.Verify(Seed, Authenticator.Compute(Seed, at.AddSeconds(60)), at, out _));
    }

    [Fact]
    public void RecoveryCodesAreTenReadableCodesOfAtLeastFiftyBits()
    {
        var (codes, salt, hashes) = RecoveryCodes.NewSet();
        Assert.Equal(10, codes.Count);
        Assert.Equal(10, codes.Distinct().Count());
        Assert.True(RecoveryCodes.Length * Math.Log2(RecoveryCodes.Symbols.Length) >= 50);
        Assert.All(codes, code => Assert.Matches("^[A-HJKMNP-TV-Z2-9]{4}-[A-HJKMNP-TV-Z2-9]{4}-[A-HJKMNP-TV-Z2-9]{4}$", code));
        Assert.DoesNotContain(hashes, hash => codes.Any(code => hash.Contains(code.Replace("-", "", StringComparison.Ordinal), StringComparison.Ordinal)));
        Assert.Equal(3, RecoveryCodes.Find(salt, hashes, RecoveryCodes.Normalize(codes[3].ToLowerInvariant())!));
        Assert.Equal(-1, RecoveryCodes.Find(salt, hashes, "AAAABBBBCCCC"));
    }
}
