using AuthFunctions.Hosting;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration.Json;
using AuthFunctions.Sessions;

namespace AuthFunctions.Tests.Hosting;

/// <summary>The start-up warm-up (a hosted service of the services) and the worker's start-up configuration, in process.</summary>
public sealed class StartupWarmUpTests
{
    private static async Task<ServicesHost> ServicesAsync(AzuriteServer azurite, string prefix, CapturedLogs logs)
    {
        var settings = (await MailDevServer.Shared).Settings();
        settings["Storage:ConnectionString"] = azurite.ConnectionString;
        settings["Storage:TablePrefix"] = prefix;
        settings["Storage:OperationTimeoutSeconds"] = "2";
        settings["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem();
        return ServicesHost.Build("Testing", settings, logs);
    }

    [Fact]
    public async Task WarmUpRunsAfterStartAndWritesNothing()
    {
        var azurite = await AzuriteServer.Shared;
        string prefix = "w" + Guid.NewGuid().ToString("N")[..16];
        var logs = new CapturedLogs();
        await using var services = await ServicesAsync(azurite, prefix, logs);
        await services.StartAsync();

        await services.Services.GetRequiredService<StartupWarmUp>().Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Contains(logs.Entries, entry => entry.Category == typeof(StartupWarmUp).FullName && entry.Message == "Start-up warm-up done.");
        var tables = await new TableServiceClient(azurite.ConnectionString).QueryAsync(t => t.Name.CompareTo(prefix) >= 0 && t.Name.CompareTo(prefix + "~") < 0).ToListAsync();
        foreach (var table in tables)
        {
            Assert.Empty(await new TableClient(azurite.ConnectionString, table.Name).QueryAsync<TableEntity>().ToListAsync());
        }
        Assert.DoesNotContain(logs.Entries, entry => entry.Level >= LogLevel.Warning && entry.Category.StartsWith("AuthFunctions", StringComparison.Ordinal));
        await services.StopAsync();
    }

    [Fact]
    public async Task StorageDownAtStartOnlyCostsTheWarmUp()
    {
        // Never started: nothing listens on its port.
        await using var azurite = new AzuriteServer(location: null);
        var logs = new CapturedLogs();
        await using var services = await ServicesAsync(azurite, "w" + Guid.NewGuid().ToString("N")[..16], logs);
        await services.StartAsync();

        await services.Services.GetRequiredService<StartupWarmUp>().Completion.WaitAsync(TimeSpan.FromSeconds(30));

        var stopped = Assert.Single(logs.Entries, entry => entry.Category == typeof(StartupWarmUp).FullName);
        Assert.Equal(LogLevel.Debug, stopped.Level);
        Assert.Equal("Start-up warm-up stopped early; the first request pays those costs.", stopped.Message);
        await services.StopAsync();
    }

    [Fact]
    public void SettingsFilesAreReadWithoutAWatcherOverTheContentRoot()
    {
        // A reloading settings file makes the host builder watch the content root (the working directory) and every
        // folder under it, a walk paid at start-up: 2,085 inotify watches from the repository root.
        var builder = AuthFunctionsWorker.CreateBuilder([]);
        var files = ((IConfigurationRoot)builder.Configuration).Providers.OfType<JsonConfigurationProvider>().ToList();

        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, $"{file.Source.Path} is watched for changes"));
    }
}
