using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Hosting;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// The real app on real Kestrel at a random loopback port, against real Azurite, with its own
/// tables (a unique prefix), a manual clock and captured logs. Built exactly as Program.cs builds it.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string Password = "correct horse battery";

    /// <summary>The lowest cost bcrypt allows keeps tests fast; the product refuses it outside tests.</summary>
    public const int BcryptCost = 4;

    private readonly WebApplication _app;

    private TestApp(WebApplication app, AzuriteServer azurite, string tablePrefix, ManualClock clock, CapturedLogs logs, byte[] signingKey,
        IReadOnlyDictionary<string, string?> keySettings)
    {
        KeySettings = keySettings;
        _app = app;
        Azurite = azurite;
        TablePrefix = tablePrefix;
        Clock = clock;
        Logs = logs;
        SigningKey = signingKey;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    public AzuriteServer Azurite { get; }

    public string TablePrefix { get; }

    public ManualClock Clock { get; }

    public CapturedLogs Logs { get; }

    /// <summary>
    /// The newest signing key as bytes: the HS256 key, or the PKCS#8 encoding of the EC key (ES256, the default);
    /// <see cref="TokenForge.Resign"/> signs with it as the token's <c>alg</c> says.
    /// </summary>
    public byte[] SigningKey { get; }

    /// <summary>The <c>Auth:SigningKey</c> / <c>Auth:SigningKeys:N</c> settings this instance runs with.</summary>
    public IReadOnlyDictionary<string, string?> KeySettings { get; }

    /// <summary>The configured EC keys (PKCS#8 PEM), newest first; empty in HS256 mode.</summary>
    public IReadOnlyList<string> SigningKeyPems =>
        [.. KeySettings.Where(s => s.Key.StartsWith("Auth:SigningKeys:", StringComparison.Ordinal) && !string.IsNullOrEmpty(s.Value))
            .OrderBy(s => int.Parse(s.Key["Auth:SigningKeys:".Length..], CultureInfo.InvariantCulture)).Select(s => s.Value!)];

    /// <summary>Settings for an app in HS256 mode (one shared <c>Auth:SigningKey</c>) instead of the default ES256.</summary>
    public static Dictionary<string, string?> Hs256Settings() =>
        new() { ["Auth:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) };

    /// <summary>A new EC P-256 private key in PKCS#8 PEM, as <c>scripts/rotate-signing-key</c> makes them.</summary>
    public static string NewSigningKeyPem()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKeyPem();
    }

    private static bool IsSigningKeySetting(string name) =>
        name == "Auth:SigningKey" || name.StartsWith("Auth:SigningKeys:", StringComparison.Ordinal);

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestApp> StartAsync(IDictionary<string, string?>? settings = null, AzuriteServer? azurite = null)
    {
        azurite ??= await AzuriteServer.Shared;
        string prefix = "t" + Guid.NewGuid().ToString("N")[..16];
        var configuration = new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = azurite.ConnectionString,
            ["Storage:TablePrefix"] = prefix,
            ["Storage:OperationTimeoutSeconds"] = "4",
            ["Auth:BcryptCost"] = BcryptCost.ToString(CultureInfo.InvariantCulture),
            // Every test client is 127.0.0.1; the rate limit tests set their own small limit.
            ["RateLimit:PermitsPerMinute"] = "100000",
            ["Logging:LogLevel:Default"] = "Information",
        };
        // ES256 with a key of its own unless the test chose its keys (HS256 via Hs256Settings, or EC keys).
        if (settings is null || !settings.Keys.Any(IsSigningKeySetting))
        {
            configuration["Auth:SigningKeys:0"] = NewSigningKeyPem();
        }
        // Every app sends its emails to the run's maildev; tests that need other Email settings pass their own.
        foreach (var (name, value) in (await MailDevServer.Shared).Settings())
        {
            configuration[name] = value;
        }
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[name] = value;
        }
        var keySettings = configuration.Where(s => IsSigningKeySetting(s.Key)).ToDictionary();
        byte[] key = NewestKeyBytes(keySettings);
        var clock = new ManualClock();
        var logs = new CapturedLogs();
        var app = AuthFunctionsApp.Build(["--urls", "http://127.0.0.1:0", "--environment", "Testing"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.Services.AddSingleton<TimeProvider>(clock);
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
        });
        await app.StartAsync();
        return new TestApp(app, azurite, prefix, clock, logs, key, keySettings);
    }

    private static byte[] NewestKeyBytes(IReadOnlyDictionary<string, string?> keySettings)
    {
        if (keySettings.GetValueOrDefault("Auth:SigningKeys:0") is { Length: > 0 } pem)
        {
            using var ec = System.Security.Cryptography.ECDsa.Create();
            ec.ImportFromPem(pem);
            return ec.ExportPkcs8PrivateKey();
        }
        return keySettings.GetValueOrDefault("Auth:SigningKey") is { Length: > 0 } hs256 ? Convert.FromBase64String(hs256) : [];
    }

    /// <summary>
    /// A second instance of the same deployment, as a scaled-out Functions app has: the same tables,
    /// signing keys and storage, its clock set to this one's time; <paramref name="settings"/> on top (signing-key
    /// settings there replace the shared keys: a rotation is another instance with keys [new, old]).
    /// </summary>
    public async Task<TestApp> StartAnotherInstanceAsync(IDictionary<string, string?>? settings = null)
    {
        var shared = new Dictionary<string, string?> { ["Storage:TablePrefix"] = TablePrefix };
        if (settings is null || !settings.Keys.Any(IsSigningKeySetting))
        {
            foreach (var (name, value) in KeySettings)
            {
                shared[name] = value;
            }
        }
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            shared[name] = value;
        }
        var other = await StartAsync(shared, Azurite);
        other.Clock.Advance(Clock.GetUtcNow() - other.Clock.GetUtcNow());
        return other;
    }

    /// <summary>One of the app's tables, straight through the SDK: for tests that look at or change rows behind the app's back.</summary>
    public TableClient Table(string name) => new(Azurite.ConnectionString, TablePrefix + name);

    /// <summary>Rows in the app's tables (0 for a table not created yet): the "storage unchanged" check.</summary>
    public async Task<int> CountEntitiesAsync()
    {
        int count = 0;
        foreach (var name in new[] { "users", "emails" })
        {
            var table = Table(name);
            await table.CreateIfNotExistsAsync();
            await foreach (var _ in table.QueryAsync<TableEntity>(select: ["PartitionKey"]))
            {
                count++;
            }
        }
        return count;
    }

    public static string UniqueEmail(string tag = "user") => $"{tag}-{Guid.NewGuid():N}@example.com";

    public async Task<HttpResponseMessage> RegisterAsync(string email, string password = Password, string? fullName = null) =>
        await Client.PostAsJsonAsync("/api/register", new { email, password, full_name = fullName });

    public async Task<Tokens> LoginAsync(string email, string password = Password)
    {
        var response = await Client.PostAsJsonAsync("/api/login", new { email, password });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new Tokens(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    /// <summary>Registers a new user and logs in.</summary>
    public async Task<(string Email, Tokens Tokens)> NewUserAsync(string tag = "user")
    {
        string email = UniqueEmail(tag);
        Assert.Equal(System.Net.HttpStatusCode.Created, (await RegisterAsync(email)).StatusCode);
        return (email, await LoginAsync(email));
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? accessToken, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }
        return await Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> GetAsync(string path, string? accessToken) => SendAsync(HttpMethod.Get, path, accessToken);

    public Task<HttpResponseMessage> PostAsync(string path, string? accessToken, object? body = null) =>
        SendAsync(HttpMethod.Post, path, accessToken, body is null ? null : JsonContent.Create(body));

    public async Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        await Client.PostAsJsonAsync("/api/refresh", new { refresh_token = refreshToken });

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record Tokens(string Access, string Refresh);
