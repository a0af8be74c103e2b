using System.Diagnostics;
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
        var azurite = await AzuriteServer.Shared;
        int port = FreePort.Next();
        int decoy = FreePort.Next();
        string app = Path.Combine(AppContext.BaseDirectory, "AuthFunctions.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(app);
        start.Environment[CustomHandlerHosting.PortVariable] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{decoy}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Storage__ConnectionString"] = azurite.ConnectionString;
        start.Environment["Storage__TablePrefix"] = "p" + Guid.NewGuid().ToString("N")[..12];
        start.Environment["Auth__SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        start.Environment["Auth__BcryptCost"] = "10";
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            // Like the host: poll GET / until any answer.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            HttpResponseMessage? ready = null;
            while (ready is null && DateTime.UtcNow < deadline)
            {
                try
                {
                    ready = await client.GetAsync("/");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(50);
                }
            }
            Assert.NotNull(ready);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.False(ready.Headers.Contains("Server"), "no server banner");

            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/health")).StatusCode);
            string email = TestApp.UniqueEmail("handler");
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/register", new { email, password = TestApp.Password })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/login", new { email, password = TestApp.Password })).StatusCode);
            Assert.False(await FreePort.WaitUntilListeningAsync(decoy, TimeSpan.FromMilliseconds(200)), "ASPNETCORE_URLS must not win over the host's port");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
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
}
