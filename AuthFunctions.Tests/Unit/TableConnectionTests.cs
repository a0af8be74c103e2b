using AuthFunctions.Storage;

namespace AuthFunctions.Tests.Unit;

public sealed class TableConnectionTests
{
    [Fact]
    public void DevelopmentStorageUsesAzuriteDefaults()
    {
        var connection = TableConnection.Parse("UseDevelopmentStorage=true");
        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), connection.Endpoint);
        Assert.Equal("devstoreaccount1", connection.AccountName);
        Assert.NotNull(connection.AccountKey);
    }

    [Fact]
    public void AccountConnectionStringBuildsHostStyleEndpoint()
    {
        var connection = TableConnection.Parse("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=AAAA;EndpointSuffix=core.chinacloudapi.cn");
        Assert.Equal(new Uri("https://acme.table.core.chinacloudapi.cn"), connection.Endpoint);
        Assert.Equal("acme", connection.AccountName);
    }

    [Fact]
    public void ExplicitTableEndpointWinsAndNamesTheAccountFromThePath()
    {
        var connection = TableConnection.Parse("TableEndpoint=http://127.0.0.1:5555/devstoreaccount1/;AccountKey=AAAA");
        Assert.Equal(new Uri("http://127.0.0.1:5555/devstoreaccount1"), connection.Endpoint);
        Assert.Equal("devstoreaccount1", connection.AccountName);
    }

    [Theory]
    [InlineData("AccountName=acme")]
    [InlineData("AccountName=acme;AccountKey=not base64!")]
    [InlineData("AccountKey=AAAA")]
    [InlineData("garbage")]
    [InlineData("SharedAccessSignature=sv=2020&sig=abc;TableEndpoint=https://x.table.core.windows.net")]
    public void MalformedConnectionStringsAreRejectedWithoutEchoingSecrets(string value)
    {
        var failure = Assert.Throws<FormatException>(() => TableConnection.Parse(value));
        Assert.DoesNotContain("AAAA", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=abc", failure.Message, StringComparison.Ordinal);
    }
}
