using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Hosting;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Hosting;

/// <summary>The built app started as the Functions host starts a custom handler: its own process, port from FUNCTIONS_CUSTOMHANDLER_PORT.</summary>
public sealed class CustomHandlerProcessTests
{
    [Fact]
    public async Task ListensOnTheHostsPortEvenWhenAspNetCoreUrlsSaysOtherwise()
    {
        int decoy = FreePort.Next();
        await using var handler = await HandlerProcess.StartAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "AuthFunctions.dll")], AppContext.BaseDirectory,
            new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{decoy}" });
        var client = handler.Client;

        Assert.Equal(HttpStatusCode.OK, handler.Readiness.StatusCode);
        Assert.False(handler.Readiness.Headers.Contains("Server"), "no server banner");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/health")).StatusCode);
        string email = TestApp.UniqueEmail("handler");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/register", new { email, password = TestApp.Password })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/login", new { email, password = TestApp.Password })).StatusCode);
        Assert.False(await FreePort.WaitUntilListeningAsync(decoy, TimeSpan.FromMilliseconds(200)), "ASPNETCORE_URLS must not win over the host's port");
    }

    [Fact]
    public void DefaultsToPort7071WithoutAnyUrlSetting()
    {
        var builder = WebApplication.CreateSlimBuilder([]);
        builder.ConfigureCustomHandlerHosting();
        Assert.Equal(CustomHandlerHosting.DefaultUrl, builder.WebHost.GetSetting("urls"));
    }

    [Fact]
    public void UsualUrlSettingsStillApplyStandalone()
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:5123"]);
        builder.ConfigureCustomHandlerHosting();
        Assert.Equal("http://127.0.0.1:5123", builder.WebHost.GetSetting("urls"));
    }

    [Fact]
    public async Task InvalidSettingsEndTheProcessWithTheReasonAndExitCodeOne()
    {
        var start = HandlerProcess.HostLikeStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "AuthFunctions.dll")], AppContext.BaseDirectory,
            FreePort.Next(), "UseDevelopmentStorage=true", new Dictionary<string, string> { ["RateLimit__PermitsPerMinute"] = "0" });
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("AuthFunctions cannot start: RateLimit__PermitsPerMinute must be between", await errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", (await output) + (await errors), StringComparison.Ordinal);
    }
}
