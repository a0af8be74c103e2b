using AuthFunctions.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AuthFunctions.Tests.Browser;

/// <summary>
/// The sample's two-step sign-in in Chromium: enrol an authenticator (the QR code shown as an SVG image, the code
/// confirmed, the recovery codes shown once), then log in again through the code step; every code is computed by
/// oathtool/pyotp from the key the page shows.
/// </summary>
public sealed class MfaSiteTests : IAsyncLifetime
{
    private readonly StaticSiteBrowser _sample = new();

    public Task InitializeAsync() => _sample.InitializeAsync();

    public Task DisposeAsync() => _sample.DisposeAsync();

    [Fact]
    public async Task EnrolsAnAuthenticatorAndLogsInWithItsCode()
    {
        await using var api = await TestApp.StartAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins"] = _sample.SiteOrigin });
        var (email, _) = await api.NewUserAsync("browser-mfa");
        var page = await _sample.Browser.NewPageAsync();
        await page.GotoAsync($"{_sample.SiteOrigin}/?api={Uri.EscapeDataString(new Uri(api.BaseAddress, "/api").ToString())}");
        await page.FillAsync("#login-form [name=email]", email);
        await page.FillAsync("#login-form [name=password]", TestApp.Password);
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#welcome")).ToHaveTextAsync($"Welcome, {email}!");

        await page.ClickAsync("#mfa-start-button");
        await Assertions.Expect(page.Locator("#mfa-enrol")).ToBeVisibleAsync();
        string secret = await page.Locator("#mfa-secret").InnerTextAsync();
        Assert.StartsWith("data:image/svg+xml;base64,", await page.Locator("#mfa-qr").GetAttributeAsync("src"), StringComparison.Ordinal);
        Assert.True(await page.EvaluateAsync<bool>("() => document.getElementById('mfa-qr').complete && document.getElementById('mfa-qr').naturalWidth > 0"));
        await page.FillAsync("#mfa-confirm-form [name=code]", await IndependentTotp.CodeAsync(secret, api.Clock.GetUtcNow()));
        await page.ClickAsync("#mfa-confirm-form button");
        await Assertions.Expect(page.Locator("#mfa-recovery-codes li")).ToHaveCountAsync(10);
        Directory.CreateDirectory(Path.Combine(RepositoryRoot.Path, "artifacts", "screenshots"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(RepositoryRoot.Path, "artifacts", "screenshots", "mfa-enrolled.png"), FullPage = true });
        api.Clock.Advance(TimeSpan.FromSeconds(30));

        await page.ClickAsync("#logout-button");
        await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();
        await page.FillAsync("#login-form [name=email]", email);
        await page.FillAsync("#login-form [name=password]", TestApp.Password);
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#mfa-login-form")).ToBeVisibleAsync();
        await page.FillAsync("#mfa-login-form [name=code]", await IndependentTotp.CodeAsync(secret, api.Clock.GetUtcNow()));
        await page.ClickAsync("#mfa-login-form button");
        await Assertions.Expect(page.Locator("#welcome")).ToHaveTextAsync($"Welcome, {email}!");
        Assert.True(await page.Locator("#mfa-login-form").IsHiddenAsync());
    }
}
