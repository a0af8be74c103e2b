using AuthFunctions.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AuthFunctions.Tests.Browser;

/// <summary>
/// The sample's account pages in Chromium, with real emails through maildev: register → open the email →
/// click the link → verified; forgot → email → reset → log in with the new password; profile, remember me, deletion.
/// </summary>
public sealed class AccountLifecycleSiteTests : IAsyncLifetime
{
    private readonly StaticSiteBrowser _sample = new();

    public Task InitializeAsync() => _sample.InitializeAsync();

    public Task DisposeAsync() => _sample.DisposeAsync();

    private string SiteOrigin => _sample.SiteOrigin;

    /// <summary>The API with this site's origin allowed and its email links pointing at this site.</summary>
    private Task<TestApp> StartApiAsync() => TestApp.StartAsync(new Dictionary<string, string?>
    {
        ["Cors:AllowedOrigins"] = SiteOrigin,
        ["Email:LinkBaseUrl"] = SiteOrigin + "/",
    });

    private async Task<IPage> OpenAsync(TestApp api)
    {
        var page = await _sample.Browser.NewPageAsync();
        await page.GotoAsync($"{SiteOrigin}/?api={Uri.EscapeDataString(new Uri(api.BaseAddress, "/api").ToString())}");
        return page;
    }

    private static async Task RegisterAsync(IPage page, string email)
    {
        await page.FillAsync("#register-form [name=email]", email);
        await page.FillAsync("#register-form [name=password]", TestApp.Password);
        await page.ClickAsync("#register-form button");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync($"Registered {email}");
    }

    private static async Task LogInAsync(IPage page, string email, string password = TestApp.Password, bool rememberMe = true)
    {
        await page.FillAsync("#login-form [name=email]", email);
        await page.FillAsync("#login-form [name=password]", password);
        await page.SetCheckedAsync("#login-form [name=remember_me]", rememberMe);
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#welcome")).ToHaveTextAsync($"Welcome, {email}!");
    }

    [Fact]
    public async Task RegisterThenTheEmailedLinkVerifiesTheAddress()
    {
        await using var api = await StartApiAsync();
        var page = await OpenAsync(api);
        string email = TestApp.UniqueEmail("browser");

        await RegisterAsync(page, email);
        var message = await (await MailDevServer.Shared).WaitForMessageAsync(email);
        await page.GotoAsync(message.Link("verify-email"));

        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Your email address is verified.");
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
        await page.GotoAsync($"{SiteOrigin}/");
        await LogInAsync(page, email);
        await page.ClickAsync("#me-button");
        await Assertions.Expect(page.Locator("#profile")).ToContainTextAsync("\"email_verified\": true");
    }

    [Fact]
    public async Task ForgotThenTheEmailedLinkSetsANewPasswordThatLogsIn()
    {
        await using var api = await StartApiAsync();
        var page = await OpenAsync(api);
        string email = TestApp.UniqueEmail("browser");
        await RegisterAsync(page, email);
        var maildev = await MailDevServer.Shared;
        await maildev.WaitForMessageAsync(email);

        await page.FillAsync("#forgot-form [name=email]", email);
        await page.ClickAsync("#forgot-form button");
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("If an account has this email");
        var message = await maildev.WaitForMessageAsync(email, count: 2);
        await page.GotoAsync(message.Link("reset-password"));
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
        // A refused password leaves the link usable: the reasons show, and a better password goes through.
        await page.FillAsync("#reset-form [name=new_password]", "Password123!");
        await page.ClickAsync("#reset-form button");
        await Assertions.Expect(page.Locator("#reset-form-new_password-reasons li")).ToHaveAttributeAsync("data-reason", "common");
        await page.FillAsync("#reset-form [name=new_password]", "a new browser passphrase");
        await page.ClickAsync("#reset-form button");

        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("Your password is changed");
        await page.GotoAsync($"{SiteOrigin}/");
        await LogInAsync(page, email, "a new browser passphrase");
    }

    [Fact]
    public async Task ProfileEditAndAccountDeletion()
    {
        await using var api = await StartApiAsync();
        var page = await OpenAsync(api);
        string email = TestApp.UniqueEmail("browser");
        await RegisterAsync(page, email);
        await LogInAsync(page, email);

        await page.FillAsync("#profile-form [name=full_name]", "Grace Hopper");
        await page.ClickAsync("#profile-form button");
        await Assertions.Expect(page.Locator("#profile")).ToContainTextAsync("\"full_name\": \"Grace Hopper\"");

        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await page.FillAsync("#delete-form [name=password]", TestApp.Password);
        await page.ClickAsync("#delete-form button");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Your account is deleted.");
        await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();

        await page.FillAsync("#login-form [name=email]", email);
        await page.FillAsync("#login-form [name=password]", TestApp.Password);
        await page.ClickAsync("#login-form button");
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("The email or password is incorrect.");
    }

    [Fact]
    public async Task WithoutRememberMeTheSessionEndsAfterTwelveHours()
    {
        await using var api = await StartApiAsync();
        var page = await OpenAsync(api);
        string email = TestApp.UniqueEmail("browser");
        await RegisterAsync(page, email);
        await LogInAsync(page, email, rememberMe: false);

        api.Clock.Advance(TimeSpan.FromHours(12) + TimeSpan.FromMinutes(1));
        await page.ClickAsync("#protected-button");

        await Assertions.Expect(page.Locator("#error")).ToHaveTextAsync("Your session has ended. Please log in again.");
        await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();
    }
}
