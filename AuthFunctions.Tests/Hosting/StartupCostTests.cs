using Microsoft.Extensions.Configuration.Json;

namespace AuthFunctions.Tests.Hosting;

public sealed class StartupCostTests
{
    [Fact]
    public async Task SettingsFilesAreReadWithoutAWatcherOverTheContentRoot()
    {
        // A reloading settings file makes the host watch the content root (the working directory) and every
        // folder under it, a walk paid at start-up: 2,085 inotify watches from the repository root.
        await using var app = AuthFunctions.Hosting.AuthFunctionsApp.Build(["--urls", "http://127.0.0.1:0", "--environment", "Testing"]);
        var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<JsonConfigurationProvider>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, $"{file.Source.Path} is watched for changes"));
    }
}
