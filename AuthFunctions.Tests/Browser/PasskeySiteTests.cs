using AuthFunctions.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AuthFunctions.Tests.Browser;

/// <summary>
/// The sample's passkeys page in Chromium with a CTAP2 virtual authenticator (DevTools protocol WebAuthn domain: internal
/// transport, resident keys, user verification): the browser's own WebAuthn ceremonies against the API on another origin.
/// </summary>
public sealed class PasskeySiteTests : IAsyncLifetime
{
    private readonly StaticSiteBrowser _sample = new();

    public Task InitializeAsync() => _sample.InitializeAsync();

    public Task DisposeAsync() => _sample.DisposeAsync();

    /// <summary>The site as the browser opens it: on <c>localhost</c>, a secure context whose host can be an RP ID (an IP address cannot).</summary>
    private string SiteOrigin => new UriBuilder(_sample.SiteOrigin) { Host = "localhost" }.Uri.GetLeftPart(UriPartial.Authority);

    [Fact]
    public async Task RegisterAPasskeySignInWithoutAnEmailListAndDeleteIt()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Cors:AllowedOrigins"] = SiteOrigin,
            ["Passkeys:RelyingPartyId"] = "localhost",
            ["Passkeys:RelyingPartyName"] = "AuthFunctions sample",
            ["Passkeys:Origins"] = SiteOrigin,
        };
        await using var api = await TestApp.StartAsync(settings);
        var (email, _) = await api.NewUserAsync("browser-passkey");
        var page = await _sample.Browser.NewPageAsync();
        var devtools = await page.Context.NewCDPSessionAsync(page);
        await devtools.SendAsync("WebAuthn.enable", new Dictionary<string, object> { ["enableUI"] = false });
        await devtools.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2",
                ["transport"] = "internal",
                ["hasResidentKey"] = true,
                ["hasUserVerification"] = true,
                ["isUserVerified"] = true,
                ["automaticPresenceSimulation"] = true,
            },
        });
        await page.GotoAsync($"{SiteOrigin}/passkeys/?api={Uri.EscapeDataString(new Uri(api.BaseAddress, "/api").ToString())}");

        // Signed in with the password, the account adds a passkey.
        await page.FillAsync("#login-form [name=email]", email);
        await page.FillAsync("#login-form [name=password]", TestApp.Password);
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#welcome")).ToHaveTextAsync($"Signed in as {email}");
        await page.FillAsync("#passkey-form [name=name]", "Virtual authenticator");
        await page.ClickAsync("#passkey-form button");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Passkey created.");
        await Assertions.Expect(page.Locator("#passkey-list li")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#passkey-list li")).ToContainTextAsync("Virtual authenticator");
        await page.ClickAsync("#logout-button");
        await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();

        // Signed out, the passkey alone signs in: no email is typed.
        await page.ClickAsync("#passkey-login-button");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Signed in with a passkey.");
        await Assertions.Expect(page.Locator("#welcome")).ToHaveTextAsync($"Signed in as {email}");
        await Assertions.Expect(page.Locator("#passkey-list li")).ToContainTextAsync("last used");
        Assert.Contains(api.Logs.Entries, e => e.EventId.Id == 1204);

        // Deleted, it signs in no more.
        await page.ClickAsync("#passkey-list li button");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Deleted the passkey Virtual authenticator.");
        await Assertions.Expect(page.Locator("#passkey-list li")).ToHaveCountAsync(0);
        await page.ClickAsync("#logout-button");
        await page.ClickAsync("#passkey-login-button");
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("The passkey could not be verified");
        await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();
    }
}
