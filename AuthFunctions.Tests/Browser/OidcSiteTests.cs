using AuthFunctions.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AuthFunctions.Tests.Browser;

/// <summary>
/// "Sign in with a provider" in the sample static site, in Chromium: the site sends the browser through the API to a real
/// OpenID Connect provider (oidc-provider), the user signs in at the provider's own login page, and lands back on the
/// site signed in, with the identity in its profile.
/// </summary>
public sealed class OidcSiteTests : IAsyncLifetime
{
    private readonly StaticSiteBrowser _sample = new();

    public Task InitializeAsync() => _sample.InitializeAsync();

    public Task DisposeAsync() => _sample.DisposeAsync();

    /// <summary>The provider's login page, which the site sent the browser to: signs in as <paramref name="subject"/>.</summary>
    private static async Task SignInAtProviderAsync(IPage page, OidcProviderServer provider, string subject)
    {
        await page.WaitForURLAsync(url => url.StartsWith(provider.Issuer.ToString(), StringComparison.Ordinal));
        await page.FillAsync("input[name=login]", subject);
        await page.FillAsync("input[name=password]", "any password");
        await page.ClickAsync("button[type=submit]");
    }

    /// <summary>The API with the provider <c>test</c>, and the sample site open on it in a new page.</summary>
    private async Task<(TestApp Api, OidcProviderServer Provider, IPage Page)> OpenSiteAsync()
    {
        int appPort = FreePort.Next();
        var provider = await OidcProviderServer.StartAsync($"http://127.0.0.1:{appPort}/api/oidc/test/callback");
        var settings = OidcFixture.Settings(appPort, provider, returnUrls: $"{_sample.SiteOrigin}/");
        settings["Cors:AllowedOrigins"] = _sample.SiteOrigin;
        var api = await TestApp.StartOnPortAsync(appPort, settings);
        var page = await _sample.Browser.NewPageAsync();
        // The provider's development login page imports a web font; nothing leaves the machine.
        await page.RouteAsync("https://fonts.googleapis.com/**", route => route.AbortAsync());
        await page.GotoAsync($"{_sample.SiteOrigin}/?api={Uri.EscapeDataString(new Uri(api.BaseAddress, "/api").ToString())}&oidc=test");
        return (api, provider, page);
    }

    [Fact]
    public async Task SigningInAtTheProvidersLoginPageLandsBackOnTheSiteSignedIn()
    {
        var (api, provider, page) = await OpenSiteAsync();
        await using var _ = api;
        await using var __ = provider;
        string subject = OidcProviderServer.NewSubject("browser");

        await page.ClickAsync("#oidc-form button");
        await SignInAtProviderAsync(page, provider, subject);

        await Assertions.Expect(page.Locator("#welcome")).ToHaveTextAsync($"Welcome, {subject}@idp.example.test!");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Signed in with test.");
        // The login code was taken out of the address bar; no token ever was in it.
        Assert.Equal($"{_sample.SiteOrigin}/", page.Url.Split('?')[0]);
        Assert.DoesNotContain("#", page.Url, StringComparison.Ordinal);
        await page.ClickAsync("#me-button");
        await Assertions.Expect(page.Locator("#profile")).ToContainTextAsync("\"provider\": \"test\"");
        await Assertions.Expect(page.Locator("#profile")).ToContainTextAsync($"\"subject\": \"{subject}\"");
    }

    [Fact]
    public async Task AnAccountWithoutAPasswordIsDeletedAfterSigningInAgainAtTheProvider()
    {
        var (api, provider, page) = await OpenSiteAsync();
        await using var _ = api;
        await using var __ = provider;
        string subject = OidcProviderServer.NewSubject("delete");
        page.Dialog += (sender, dialog) => dialog.AcceptAsync();
        await page.ClickAsync("#oidc-form button");
        await SignInAtProviderAsync(page, provider, subject);
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Signed in with test.");

        // No password to give: the API asks for a fresh sign-in, and the site sends the browser to the provider for it.
        await page.ClickAsync("#delete-form button");
        await SignInAtProviderAsync(page, provider, subject);
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Signed in again at test: you can delete your account in the next 5 minutes.");
        await page.ClickAsync("#delete-form button");

        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Your account is deleted.");
        Assert.Empty(api.Table("identities").Query<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {"test:" + subject}")));
    }
}
