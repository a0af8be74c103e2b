using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tests.Probe;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// The product as Azure runs it: the built isolated worker under the real Functions host (<see cref="FunctionsHost"/>)
/// on a free loopback port, against real Azurite and maildev, with its own tables (a unique prefix). Settings reach
/// it as environment variables (<c>Auth__SigningKeys__0</c>), as Azure's app settings do; tests name them with
/// <c>:</c> (<c>Auth:SigningKeys:0</c>) and null unsets one. Logs are the host's console.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string Password = "correct horse battery";

    /// <summary>The lowest cost bcrypt allows keeps tests fast; the product refuses it outside tests.</summary>
    public const int BcryptCost = 4;

    private readonly FunctionsHost _host;
    private bool _sharesClock;

    private TestApp(FunctionsHost host, AzuriteServer azurite, string tablePrefix, ManualClock clock, ProbeFile probe, byte[] signingKey,
        IReadOnlyDictionary<string, string?> keySettings, IReadOnlyDictionary<string, string?> settings)
    {
        Clock = clock;
        Probe = probe;
        KeySettings = keySettings;
        Settings = settings;
        _host = host;
        Azurite = azurite;
        TablePrefix = tablePrefix;
        SigningKey = signingKey;
        BaseAddress = new Uri($"http://127.0.0.1:{host.Port}");
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    /// <summary>Every setting this instance started with (<c>:</c> names).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; }

    /// <summary>
    /// The worker's services live in another process under the host: not reachable from a test. What tests need of
    /// them is read through <see cref="Probe"/> (the app's metrics) instead.
    /// </summary>
    public IServiceProvider Services => throw new NotSupportedException("The worker's services run in the host's worker process: read its metrics through TestApp.Probe.");

    /// <summary>The poll interval this instance's revocation feed runs at.</summary>
    public TimeSpan RevocationPollInterval => TimeSpan.FromMilliseconds(
        Settings.GetValueOrDefault("Auth:RevocationPollMilliseconds") is { } ms ? int.Parse(ms, CultureInfo.InvariantCulture) : 1000);

    /// <summary>README's promise: a revocation made on any instance is refused on this one within two poll intervals.</summary>
    public TimeSpan RevocationBound => 2 * RevocationPollInterval;

    /// <summary>The host process (for tests that stop or signal it).</summary>
    public FunctionsHost Host => _host;

    public AzuriteServer Azurite { get; }

    public string TablePrefix { get; }

    public HostLogs Logs => _host.Logs;

    /// <summary>This deployment's clock (shared by its instances): <c>Clock.Advance</c> moves time in the worker.</summary>
    public ManualClock Clock { get; }

    /// <summary>This instance's metrics, as its worker measured them (see <see cref="ProbeEnvironment"/>).</summary>
    public ProbeFile Probe { get; }

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

    /// <summary>A new <c>Mfa__EncryptionKeys__N</c> value: base64 of 32 random bytes.</summary>
    public static string NewMfaKey() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static bool IsMfaKeySetting(string name) => name.StartsWith("Mfa:EncryptionKeys:", StringComparison.Ordinal);

    private static bool IsSigningKeySetting(string name) =>
        name == "Auth:SigningKey" || name.StartsWith("Auth:SigningKeys:", StringComparison.Ordinal);

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public static Task<TestApp> StartAsync(IDictionary<string, string?>? settings = null, AzuriteServer? azurite = null) =>
        StartAsync(settings, azurite, clock: null);

    /// <summary>The product on a port chosen beforehand: for settings that name the app's own address (<c>Oidc:CallbackBaseUrl</c>).</summary>
    public static Task<TestApp> StartOnPortAsync(int port, IDictionary<string, string?>? settings = null) =>
        StartAsync(settings, azurite: null, clock: null, port: port);

    /// <summary>The product from another build of the worker (the deployable package: <c>scripts/package</c>'s output).</summary>
    public static Task<TestApp> StartFromAsync(string workerOutput, IDictionary<string, string?>? settings = null) =>
        StartAsync(settings, azurite: null, clock: null, workerOutput);

    private static async Task<TestApp> StartAsync(IDictionary<string, string?>? settings, AzuriteServer? azurite, ManualClock? clock, string? workerOutput = null, int? port = null)
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
            ["Cleanup:Schedule"] = "0 0 0 1 1 *",
            ["Backup:Schedule"] = "0 0 0 1 1 *",
            // The key the TOTP secrets are sealed under (required outside Development), one per deployment.
            ["Mfa:EncryptionKeys:0"] = NewMfaKey(),
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
        clock ??= new ManualClock();
        var probe = new ProbeFile(Path.Combine(Path.GetTempPath(), $"authfunctions-probe-{Guid.NewGuid():N}"));
        var environment = new Dictionary<string, string?>(ProbeEnvironment(clock, probe)) { ["AzureWebJobsStorage"] = azurite.ConnectionString };
        foreach (var (name, value) in configuration)
        {
            environment[name.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        FunctionsHost host;
        try
        {
            host = await FunctionsHost.StartAsync(environment, workerOutput: workerOutput, port: port);
        }
        catch
        {
            probe.Dispose();
            throw;
        }
        return new TestApp(host, azurite, prefix, clock, probe, key, keySettings, configuration);
    }

    // The outside probe: the tests' startup hook (AuthFunctions.Tests.Probe), loaded into the worker, moves its clock
    // (the deployment's shared ManualClock file) and appends its metrics to this instance's own probe file.
    private static Dictionary<string, string?> ProbeEnvironment(ManualClock clock, ProbeFile probe) => new()
    {
        ["DOTNET_STARTUP_HOOKS"] = Path.Combine(AppContext.BaseDirectory, "AuthFunctions.Tests.Probe.dll"),
        [SharedManualClock.EnvironmentVariable] = clock.FilePath,
        [MetricsProbe.EnvironmentVariable] = probe.Path,
    };

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
    /// A second instance of the same deployment, as a scaled-out Functions app has: another host and worker over the same
    /// tables, signing keys and storage; <paramref name="settings"/> on top (signing-key
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
        if (settings is null || !settings.Keys.Any(IsMfaKeySetting))
        {
            foreach (var (name, value) in Settings.Where(s => IsMfaKeySetting(s.Key)))
            {
                shared[name] = value;
            }
        }
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            shared[name] = value;
        }
        var other = await StartAsync(shared, Azurite, Clock);
        other._sharesClock = true;
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

    public async Task<TokenPair> LoginAsync(string email, string password = Password)
    {
        var response = await Client.PostAsJsonAsync("/api/login", new { email, password });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new TokenPair(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    /// <summary>Registers a new user and logs in.</summary>
    public async Task<(string Email, TokenPair Tokens)> NewUserAsync(string tag = "user")
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
        await _host.DisposeAsync();
        Probe.Dispose();
        if (!_sharesClock)
        {
            Clock.Dispose();
        }
    }
}

public sealed record TokenPair(string Access, string Refresh);
