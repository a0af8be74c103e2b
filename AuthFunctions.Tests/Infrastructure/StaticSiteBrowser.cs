using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.FileProviders;
using Microsoft.Playwright;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// samples/static-site served from its own loopback origin, and Debian's Chromium driven by Playwright
/// (no browser download): what the browser tests open the sample with.
/// </summary>
public sealed class StaticSiteBrowser : IAsyncLifetime
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private WebApplication? _site;
    private Uri _siteOrigin = null!;
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public string SiteOrigin => _siteOrigin.GetLeftPart(UriPartial.Authority);

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), "Chromium is missing: scripts/setup --test-tools installs it (apt-get install chromium).");
        var builder = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        _site = builder.Build();
        var files = new PhysicalFileProvider(Path.Combine(RepositoryRoot.Path, "samples", "static-site"));
        _site.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        _site.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        await _site.StartAsync();
        _siteOrigin = new Uri(_site.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (_site is not null)
        {
            await _site.DisposeAsync();
        }
    }
}
