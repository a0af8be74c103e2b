using System.Net;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AuthFunctions.Tests.Browser;

/// <summary>
/// The sample static site in Debian's Chromium (driven by Playwright), served from one origin and
/// calling the API on another: the whole flow a frontend developer copies.
/// </summary>
public sealed class StaticSiteTests : IAsyncLifetime
{
    private readonly StaticSiteBrowser _sample = new();

    public Task InitializeAsync() => _sample.InitializeAsync();

    public Task DisposeAsync() => _sample.DisposeAsync();

    private string SiteOrigin => _sample.SiteOrigin;

    private async Task<IPage> OpenAsync(TestApp api)
    {
        var page = await _sample.Browser.NewPageAsync();
        await page.GotoAsync($"{SiteOrigin}/?api={Uri.EscapeDataString(new Uri(api.BaseAddress, "/api").ToString())}");
        return page;
    }

    [Fact]
    public async Task FullFlowAcrossOriginsWithSilentRefresh()
    {
        await using var api = await TestApp.StartAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins"] = SiteOrigin });
        Assert.NotEqual(SiteOrigin, api.BaseAddress.GetLeftPart(UriPartial.Authority));
        var page = await OpenAsync(api);
        string email = TestApp.UniqueEmail("browser");

        await page.FillAsync("#register-form [name=email]", email);
        await page.FillAsync("#register-form [name=password]", TestApp.Password);
        await page.FillAsync("#register-form [name=full_name]", "Browser User");
        await page.ClickAsync("#register-form button");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync($"Registered {email}");

        await page.FillAsync("#login-form [name=email]", email);
        await page.FillAsync("#login-form [name=password]", TestApp.Password);
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#welcome")).ToHaveTextAsync($"Welcome, {email}!");

        await page.ClickAsync("#me-button");
        await Assertions.Expect(page.Locator("#profile")).ToContainTextAsync("\"full_name\": \"Browser User\"");
        Directory.CreateDirectory(Path.Combine(RepositoryRoot.Path, "artifacts", "screenshots"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(RepositoryRoot.Path, "artifacts", "screenshots", "logged-in.png"), FullPage = true });

        // The access token expires; the page refreshes silently and the call still succeeds.
        api.Clock.Advance(TimeSpan.FromMinutes(16));
        await page.ClickAsync("#protected-button");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync($"Welcome, {email}!");
        Assert.Equal("1", await page.Locator("#status").GetAttributeAsync("data-refreshed"));
        // Only the device token outlives the tab; no access or refresh token is in localStorage.
        Assert.Equal("authfunctions.device_token", await page.EvaluateAsync<string>("() => Object.keys(localStorage).join(',')"));

        await page.ClickAsync("#logout-button");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Logged out everywhere.");
        await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();
        Assert.Contains(api.Logs.Entries, e => e.EventId.Id == 1004);
    }

    /// <summary>Someone who knows the email locks the account's untrusted pool; this browser, holding its device token, still logs in.</summary>
    [Fact]
    public async Task TheBrowsersDeviceTokenKeepsItLoggingInDuringAGuessingAttack()
    {
        await using var api = await TestApp.StartAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins"] = SiteOrigin });
        var (email, _) = await api.NewUserAsync("device");
        var page = await OpenAsync(api);
        await page.FillAsync("#login-form [name=email]", email);
        await page.FillAsync("#login-form [name=password]", TestApp.Password);
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#welcome")).ToHaveTextAsync($"Welcome, {email}!");
        await page.ClickAsync("#logout-button");
        await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();

        for (int i = 0; i < 6; i++)
        {
            await api.PostAsync("/api/login", null, new { email, password = "attacker guess " + i });
        }
        await ProblemAssert.IsProblemAsync(await api.PostAsync("/api/login", null, new { email, password = TestApp.Password }), HttpStatusCode.TooManyRequests);

        await page.FillAsync("#login-form [name=email]", email);
        await page.FillAsync("#login-form [name=password]", TestApp.Password);
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#welcome")).ToHaveTextAsync($"Welcome, {email}!");
    }

    [Fact]
    public async Task ProblemDetailsAreShownToTheUser()
    {
        await using var api = await TestApp.StartAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins"] = SiteOrigin });
        var page = await OpenAsync(api);

        await page.FillAsync("#login-form [name=email]", TestApp.UniqueEmail("nobody"));
        await page.FillAsync("#login-form [name=password]", "wrong password");
        await page.ClickAsync("#login-form button");

        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("The email or password is incorrect.");
    }

    /// <summary>The API's reasons for refusing a new password, shown next to the field; gone once a good one is accepted.</summary>
    [Fact]
    public async Task AWeakPasswordsReasonsAreShownNextToItsField()
    {
        await using var api = await TestApp.StartAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins"] = SiteOrigin });
        var page = await OpenAsync(api);
        string email = TestApp.UniqueEmail("weak");
        var reasons = page.Locator("#register-form-password-reasons li");
        await page.FillAsync("#register-form [name=email]", email);

        await page.FillAsync("#register-form [name=password]", "P@ssw0rd");
        await page.ClickAsync("#register-form button");
        await Assertions.Expect(reasons).ToHaveAttributeAsync("data-reason", "common");
        await Assertions.Expect(reasons).ToContainTextAsync("common password");
        await Assertions.Expect(page.Locator("#register-form [name=password]")).ToHaveAttributeAsync("aria-describedby", "register-form-password-reasons");

        await page.FillAsync("#register-form [name=password]", email[..email.IndexOf('@', StringComparison.Ordinal)]);
        await page.ClickAsync("#register-form button");
        await Assertions.Expect(reasons).ToHaveAttributeAsync("data-reason", "context");

        await page.FillAsync("#register-form [name=password]", TestApp.Password);
        await page.ClickAsync("#register-form button");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync($"Registered {email}");
        await Assertions.Expect(reasons).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task ADisallowedOriginIsBlockedByTheBrowser()
    {
        await using var api = await TestApp.StartAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins"] = "https://some-other-site.example" });
        var page = await OpenAsync(api);
        int before = await api.CountEntitiesAsync();

        await page.FillAsync("#register-form [name=email]", TestApp.UniqueEmail("blocked"));
        await page.FillAsync("#register-form [name=password]", TestApp.Password);
        await page.ClickAsync("#register-form button");

        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("Could not reach the API");
        // The JSON POST needs a preflight, which fails, so the request itself is never sent.
        Assert.Equal(before, await api.CountEntitiesAsync());
        var direct = await api.Client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
    }
}
