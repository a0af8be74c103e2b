using System.Net;
using AuthFunctions.Hosting;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuthFunctions.Tests.Hosting;

public sealed class StartupWarmUpTests
{
    private static readonly Dictionary<string, string?> DebugLogs = new() { [$"Logging:LogLevel:{typeof(StartupWarmUp).FullName}"] = "Debug" };

    [Fact]
    public async Task WarmUpRunsAfterStartAndWritesNothing()
    {
        await using var app = await TestApp.StartAsync(DebugLogs);

        await app.Services.GetRequiredService<StartupWarmUp>().Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Contains(app.Logs.Entries, entry => entry.Category == typeof(StartupWarmUp).FullName && entry.Message == "Start-up warm-up done.");
        Assert.Equal(0, await app.CountEntitiesAsync());
        Assert.DoesNotContain(app.Logs.Entries, entry => entry.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task StorageDownAtStartOnlyCostsTheWarmUpAndTheAppStillServes()
    {
        // Never started: nothing listens on its port.
        await using var azurite = new AzuriteServer(location: null);
        await using var app = await TestApp.StartAsync(DebugLogs, azurite);

        await app.Services.GetRequiredService<StartupWarmUp>().Completion.WaitAsync(TimeSpan.FromSeconds(30));

        var stopped = Assert.Single(app.Logs.Entries, entry => entry.Category == typeof(StartupWarmUp).FullName);
        Assert.Equal(LogLevel.Debug, stopped.Level);
        Assert.Equal("Start-up warm-up stopped early; the first request pays those costs.", stopped.Message);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client.GetAsync(new Uri("/api/health", UriKind.Relative))).StatusCode);
    }
}
