using System.Net;
using System.Text.RegularExpressions;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// Sign-in with a provider whose client authenticates with <c>private_key_jwt</c> (OpenID Connect Core 1.0 §9, RFC 7523),
/// through the real host against oidc-provider. The provider's client has no secret at all and knows only the public
/// keys of <see cref="ClientAssertionKeys"/>: a sign-in that succeeds proves the assertion (and that no secret was needed).
/// </summary>
public sealed partial class OidcPrivateKeyJwtTests(OidcFixture fixture) : IClassFixture<OidcFixture>
{
    private TestApp App => fixture.App;

    private OidcProviderServer Provider => fixture.Provider;

    [Theory]
    [InlineData("keyed")]
    [InlineData("keyed-ec")]
    public async Task AClientAssertionKeySignsInWithTheUsualTokenPair(string provider)
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject(provider);

        var tokens = await site.SignInAsync(subject, provider);

        var claims = TokenForge.Payload(tokens.Access);
        Assert.Equal(["fed", "pwd"], claims["amr"]!.AsArray().Select(m => m!.GetValue<string>()));
        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK);
        var identity = Assert.Single(me.GetProperty("identities").EnumerateArray());
        Assert.Equal(provider, identity.GetProperty("provider").GetString());
        Assert.Equal(subject, identity.GetProperty("subject").GetString());
        Assert.Equal(HttpStatusCode.OK, (await App.RefreshAsync(tokens.Refresh)).StatusCode);
    }

    [Fact]
    public async Task AKeyTheProviderDoesNotKnowIsRefusedAndCreatesNothing()
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject("stranger");

        var landed = await site.CallbackAsync(await site.ToCallbackAsync(subject, providerName: "stranger"));

        Assert.Equal(OidcFixture.ReturnUrl, landed.GetLeftPart(UriPartial.Path));
        Assert.Equal("invalid_request", OidcSite.Fragment(landed, "error"));
        Assert.Null(OidcSite.Fragment(landed, "code"));
        // The provider refused the client (RFC 6749 §5.2 invalid_client), not the code or the ID token.
        await App.Logs.WaitForAsync(e => e.EventId.Id == 6102 && e.Message.Contains("invalid_client", StringComparison.Ordinal));
        await App.Table("emails").CreateIfNotExistsAsync();
        Assert.Empty(App.Table("emails").Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {subject + "@idp.example.test"}")));
        await App.Table("identities").CreateIfNotExistsAsync();
        Assert.Empty(App.Table("identities").Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"stranger:" + subject}")));
    }

    [Fact]
    public async Task NoKeyMaterialOrAssertionReachesTheLogs()
    {
        using var site = new OidcSite(App, Provider);
        await site.SignInAsync(OidcProviderServer.NewSubject("logs"), "keyed");
        using var stranger = new OidcSite(App, Provider);
        await stranger.CallbackAsync(await stranger.ToCallbackAsync(OidcProviderServer.NewSubject("logs"), providerName: "stranger"));
        await App.Logs.WaitForAsync(e => e.EventId.Id == 6102);

        string text = App.Logs.AllText;
        foreach (string pem in new[] { fixture.Keys.CertifiedRsaPem, fixture.Keys.EcPem, fixture.Keys.UnknownPem })
        {
            foreach (string line in pem.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)))
            {
                Assert.DoesNotContain(line, text, StringComparison.Ordinal);
            }
        }
        // No JWT at all: neither a client assertion nor an ID token.
        Assert.DoesNotMatch(CompactJwt(), text);
    }

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")]
    private static partial Regex CompactJwt();
}
