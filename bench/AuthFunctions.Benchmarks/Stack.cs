using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tokens;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// Azurite (blob, queue and table: the Functions host's <c>AzureWebJobsStorage</c> and the app's tables) and the
/// real Functions host (<see cref="FunctionsHost"/>) over the deployable package (<see cref="ProductUnderHost"/>):
/// every suite starts the app as Azure serves it, through the host, each instance ended by PID.
/// </summary>
internal sealed class Stack : IDisposable
{
    /// <summary>The key TOTP secrets are sealed under (<c>Mfa__EncryptionKeys__0</c>), one per stack like the signing key.</summary>
    public string MfaKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>ES256, as new deployments sign (one PKCS#8 PEM P-256 key, <c>Auth__SigningKeys__0</c>).</summary>
    public static readonly string SigningKeyPem = CreateSigningKeyPem();

    /// <summary>A token older than this is not reused for a cold start (access tokens live 15 minutes).</summary>
    private static readonly TimeSpan TokenReuse = TimeSpan.FromMinutes(10);

    private readonly List<FunctionsHostInstance> _instances = [];
    private readonly (int Blob, int Queue) _hostStoragePorts;
    private (string Access, Stopwatch Age)? _benchmarkToken;

    private Stack(string root, ChildProcess azurite, (int Blob, int Queue) hostStoragePorts, FunctionsHost host, FunctionsApp product)
    {
        Root = root;
        Azurite = azurite;
        _hostStoragePorts = hostStoragePorts;
        Host = host;
        Product = product;
    }

    public string Root { get; }

    public ChildProcess Azurite { get; }

    /// <summary>The Functions host every app in the benchmark runs under.</summary>
    public FunctionsHost Host { get; }

    /// <summary>scripts/package's output, as the host loads it.</summary>
    public FunctionsApp Product { get; }

    public string TablePrefix { get; } = "b" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// Finds the Functions host and the package, then starts Azurite's blob, queue and table services (the host needs
    /// blob and queue for <c>AzureWebJobsStorage</c>: timer locks, host id lease).
    /// </summary>
    public static async Task<Stack> StartAsync()
    {
        string root = FindRoot();
        var host = await FunctionsHost.LocateAsync(root);
        var product = ProductUnderHost.Package(root);
        int port = ChildProcess.FreePort();
        var hostPorts = (Blob: ChildProcess.FreePort(), Queue: ChildProcess.FreePort());
        var azurite = ChildProcess.Start(Path.Combine(root, "node_modules", ".bin", "azurite"),
            ["--blobHost", "127.0.0.1", "--blobPort", hostPorts.Blob.ToString(CultureInfo.InvariantCulture),
             "--queueHost", "127.0.0.1", "--queuePort", hostPorts.Queue.ToString(CultureInfo.InvariantCulture),
             "--tableHost", "127.0.0.1", "--tablePort", port.ToString(CultureInfo.InvariantCulture),
             "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
            new Dictionary<string, string>(), port);
        await WaitForTcpAsync(hostPorts.Blob);
        await WaitForTcpAsync(hostPorts.Queue);
        await WaitForTcpAsync(port);
        Console.WriteLine($"bench=stack host={host.Label} host_executable={host.Executable} product={product.OutputDirectory}");
        return new Stack(root, azurite, hostPorts, host, product);
    }

    private const string DevelopmentAccount =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;";

    public string ConnectionString => DevelopmentAccount + $"TableEndpoint=http://127.0.0.1:{Azurite.Port}/devstoreaccount1;";

    /// <summary>The Functions host's <c>AzureWebJobsStorage</c>: the same Azurite account with blob, queue and table endpoints.</summary>
    public string HostStorageConnectionString => DevelopmentAccount +
        $"BlobEndpoint=http://127.0.0.1:{_hostStoragePorts.Blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{_hostStoragePorts.Queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{Azurite.Port}/devstoreaccount1;";

    /// <summary>
    /// The app's settings (environment variables of the host, which passes them to the worker, as Azure passes app
    /// settings), the same for every instance: one storage account and table prefix, one signing key, bcrypt cost 12,
    /// the product's host-only settings (<see cref="ProductUnderHost.HostSettings"/>); <paramref name="extra"/> on top.
    /// </summary>
    public Dictionary<string, string> AppSettings(IDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>(ProductUnderHost.HostSettings)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Storage__ConnectionString"] = ConnectionString,
            ["Storage__TablePrefix"] = TablePrefix,
            ["Auth__SigningKeys__0"] = SigningKeyPem,
            ["Mfa__EncryptionKeys__0"] = MfaKey,
            ["Auth__BcryptCost"] = "12",
            ["RateLimit__PermitsPerMinute"] = "100000",
            ["Throttle__FreeAttempts"] = "20",
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            settings[name] = value;
        }
        return settings;
    }

    /// <summary>Starts one instance of the product under the host (not yet serving: see <see cref="StartProductAsync"/>).</summary>
    public FunctionsHostInstance StartProduct(IDictionary<string, string>? extra = null)
    {
        var instance = Host.Start(Product, AppSettings(extra), HostStorageConnectionString);
        lock (_instances)
        {
            _instances.Add(instance);
        }
        return instance;
    }

    /// <summary>Starts one instance of the product under the host and waits until it serves (<see cref="ProductUnderHost.ReadyPath"/> answers 200).</summary>
    public async Task<FunctionsHostInstance> StartProductAsync(IDictionary<string, string>? extra = null)
    {
        var instance = StartProduct(extra);
        try
        {
            await instance.WaitForFirst200Async(ProductUnderHost.ReadyPath, timeout: TimeSpan.FromSeconds(120));
        }
        catch
        {
            instance.Dispose();
            throw;
        }
        return instance;
    }

    /// <summary>Starts the floor, bench/BareFunction, under the same host and storage, with the same logging and environment.</summary>
    public FunctionsHostInstance StartFloor(FunctionsApp bare)
    {
        var settings = new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["Logging__LogLevel__Default"] = "Warning" };
        var instance = Host.Start(bare, settings, HostStorageConnectionString);
        lock (_instances)
        {
            _instances.Add(instance);
        }
        return instance;
    }

    /// <summary>Registers a user on <paramref name="client"/>'s instance and logs it in; the access token is kept for later cold starts.</summary>
    public async Task<(string Email, string Access)> RegisterBenchmarkUserAsync(HttpClient client, string tag)
    {
        string email = $"{tag}-{Guid.NewGuid():N}@example.com";
        var (access, _) = await RegisterAndLoginAsync(client, email, BenchmarkPassword);
        _benchmarkToken = (access, Stopwatch.StartNew());
        return (email, access);
    }

    /// <summary>The last access token <see cref="RegisterBenchmarkUserAsync"/> obtained, while it is recent; else null.</summary>
    public string? RecentAccessToken => _benchmarkToken is { } kept && kept.Age.Elapsed < TokenReuse ? kept.Access : null;

    /// <summary>
    /// An access token an earlier instance issued, for a first authenticated request to a new instance: the last one
    /// <see cref="RegisterBenchmarkUserAsync"/> obtained when it is recent, else one from an instance started for it.
    /// </summary>
    public async Task<string> IssuedAccessTokenAsync()
    {
        if (RecentAccessToken is { } recent)
        {
            return recent;
        }
        using var instance = await StartProductAsync();
        using var client = Client(instance);
        return (await RegisterBenchmarkUserAsync(client, "issued")).Access;
    }

    public const string BenchmarkPassword = "quartz walrus juggles seven lanterns"; // one the weak-password check accepts

    public static HttpClient Client(IServedApp app) => new() { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"), Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<(string Access, string Refresh)> RegisterAndLoginAsync(HttpClient client, string email, string password)
    {
        var registered = await client.PostAsync("/api/register", JsonBody(new { email, password }));
        if (registered.StatusCode != System.Net.HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"register answered {(int)registered.StatusCode}");
        }
        var login = await client.PostAsync("/api/login", JsonBody(new { email, password }));
        var json = await login.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    /// <summary>A JSON body with a Content-Length, as browsers and curl send it (the soak sends its bodies chunked).</summary>
    private static StringContent JsonBody<T>(T value) => new(JsonSerializer.Serialize(value), System.Text.Encoding.UTF8, "application/json");

    private static async Task WaitForTcpAsync(int port)
    {
        for (int i = 0; i < 600; i++)
        {
            try
            {
                using var tcp = new System.Net.Sockets.TcpClient();
                await tcp.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException("Azurite did not start");
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AuthFunctions.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("run from inside the repository");
    }

    public void Dispose()
    {
        lock (_instances)
        {
            foreach (var instance in _instances)
            {
                instance.Dispose();
            }
        }
        Azurite.Dispose();
    }

    private static string CreateSigningKeyPem()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKeyPem();
    }
}
