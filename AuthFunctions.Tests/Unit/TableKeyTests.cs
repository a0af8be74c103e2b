using AuthFunctions.Storage;

namespace AuthFunctions.Tests.Unit;

public sealed class TableKeyTests
{
    [Theory]
    [InlineData("plain@example.com", "plain@example.com")]
    [InlineData("a/b", "a%002Fb")]
    [InlineData(@"a\b", "a%005Cb")]
    [InlineData("a#b?c", "a%0023b%003Fc")]
    [InlineData("o'brien", "o%0027brien")]
    [InlineData("100%", "100%0025")]
    [InlineData("tab\t", "tab%0009")]
    [InlineData("ünï", "ünï")]
    [InlineData("😀", "😀")]
    public void EncodesOnlyWhatTheServiceForbids(string raw, string expected)
    {
        Assert.Equal(expected, TableKey.Encode(raw));
        Assert.Equal(raw, TableKey.Decode(expected));
    }

    [Fact]
    public void EveryUtf16CodeUnitRoundTrips()
    {
        var all = new string(Enumerable.Range(0, 0x10000).Select(i => (char)i).ToArray());
        string encoded = TableKey.Encode(all);

        Assert.Equal(all, TableKey.Decode(encoded));
        Assert.DoesNotContain(encoded, c => c is '/' or '\\' or '#' or '?' or '\'' || char.IsControl(c));
        // Only well-formed surrogate pairs survive unescaped, so the key is valid UTF-8 on the wire.
        _ = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(encoded);
    }

    [Fact]
    public void UnpairedSurrogatesAreEscaped()
    {
        // Built at run time: xunit's theory serialization would replace a lone surrogate.
        string raw = "a" + (char)0xD800 + "b" + (char)0xDC00;
        Assert.Equal("a%D800b%DC00", TableKey.Encode(raw));
        Assert.Equal(raw, TableKey.Decode("a%D800b%DC00"));
    }

    [Fact]
    public void TruncatedEscapeIsRejected() =>
        Assert.Throws<FormatException>(() => TableKey.Decode("abc%00"));
}
