using AuthFunctions.Hosting;
using Microsoft.Extensions.Hosting;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// The worker's services in this process, without the Functions host: for tests of settings validation and of the
/// stores, which need no HTTP. Registered by the same calls the worker's Program.cs makes.
/// </summary>
public sealed class ServicesHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ServicesHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public static ServicesHost Build(string environment, IDictionary<string, string?> configuration, ILoggerProvider? logs = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, DisableDefaults = true });
        // Like TestApp: a deployment has its TOTP sealing key (tests of that setting pass their own, "" for none).
        builder.Configuration.AddInMemoryCollection(configuration.ContainsKey("Mfa:EncryptionKeys:0")
            ? configuration
            : new Dictionary<string, string?>(configuration) { ["Mfa:EncryptionKeys:0"] = TestApp.NewMfaKey() });
        builder.Services.AddLogging(logging =>
        {
            if (logs is not null)
            {
                logging.AddProvider(logs);
                logging.SetMinimumLevel(LogLevel.Debug);
            }
        });
        builder.Services.AddAuthCore(builder.Configuration);
        builder.Services.AddHttpFeatures(builder.Configuration);
        return new ServicesHost(builder.Build());
    }

    /// <summary>The services in Testing over the shared Azurite, in tables of their own (a fresh prefix), signing with a new ES256 key.</summary>
    public static async Task<ServicesHost> OverSharedAzuriteAsync()
    {
        var azurite = await AzuriteServer.Shared;
        return Build("Testing", new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = azurite.ConnectionString,
            ["Storage:TablePrefix"] = "s" + Guid.NewGuid().ToString("N")[..16],
            ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem(),
        });
    }

    public Task StartAsync() => _host.StartAsync();

    public Task StopAsync() => _host.StopAsync();

    public async ValueTask DisposeAsync()
    {
        if (_host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }
    }
}
