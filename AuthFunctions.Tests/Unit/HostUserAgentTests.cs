using AuthFunctions.Http;
using AuthFunctions.Hosting;

namespace AuthFunctions.Tests.Unit;

public sealed class HostUserAgentTests
{
    [Theory]
    [InlineData("Mozilla/5.0 (X11) Azure-Functions-Host/4.1037.0", "Mozilla/5.0 (X11)")]
    [InlineData("curl/8.5.0 Azure-Functions-Host/4.1040.100.0", "curl/8.5.0")]
    public void TheHostsTrailingTokenIsRemoved(string forwarded, string sent) =>
        Assert.Equal(sent, HostUserAgent.ClientPart(forwarded));

    [Theory]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")]
    [InlineData("")]
    [InlineData("laptop-browser/1.0")]
    public void AUserAgentWithoutTheHostsTokenIsKept(string sent) =>
        Assert.Equal(sent, HostUserAgent.ClientPart(sent));

    [Fact]
    public void AClientThatSentNoUserAgentHasAnEmptyOne() =>
        Assert.Equal("", HostUserAgent.ClientPart("Azure-Functions-Host/4.1037.0"));

    [Theory]
    [InlineData("Azure-Functions-Host/4.1037.0 Mozilla/5.0 (X11)")]
    [InlineData("Mozilla/5.0 Azure-Functions-Host/4.1037.0 (X11)")]
    [InlineData("Mozilla/5.0 NotAzure-Functions-Host/4.1037.0")]
    [InlineData("Mozilla/5.0 Azure-Functions-Host/")]
    public void TheTokenAnywhereButAtTheEndIsTheClientsOwnText(string sent) =>
        Assert.Equal(sent, HostUserAgent.ClientPart(sent));
}
