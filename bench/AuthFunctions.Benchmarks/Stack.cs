using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace AuthFunctions.Benchmarks;

/// <summary>Azurite and the app (Release build), started the way the Functions host starts the handler.</summary>
internal sealed class Stack : IDisposable
{
    /// <summary>ES256, as new deployments sign (one PKCS#8 PEM P-256 key, <c>Auth__SigningKeys__0</c>).</summary>
    public static readonly string SigningKeyPem = CreateSigningKeyPem();
    private readonly List<ChildProcess> _apps = [];

    private readonly (int Blob, int Queue)? _hostStoragePorts;

    private Stack(string root, ChildProcess azurite, (int Blob, int Queue)? hostStoragePorts)
    {
        Root = root;
        Azurite = azurite;
        _hostStoragePorts = hostStoragePorts;
    }

    public string Root { get; }

    public ChildProcess Azurite { get; }

    public string TablePrefix { get; } = "b" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// Starts Azurite's table service; with <paramref name="hostStorage"/>, its blob and queue services too,
    /// which the Functions host needs for <c>AzureWebJobsStorage</c> (timer locks, host id lease).
    /// </summary>
    public static async Task<Stack> StartAsync(bool hostStorage = false)
    {
        string root = FindRoot();
        int port = ChildProcess.FreePort();
        string tablePort = port.ToString(CultureInfo.InvariantCulture);
        string[] common = ["--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry"];
        ChildProcess azurite;
        (int Blob, int Queue)? hostPorts = null;
        if (hostStorage)
        {
            hostPorts = (ChildProcess.FreePort(), ChildProcess.FreePort());
            azurite = ChildProcess.Start(Path.Combine(root, "node_modules", ".bin", "azurite"),
                ["--blobHost", "127.0.0.1", "--blobPort", hostPorts.Value.Blob.ToString(CultureInfo.InvariantCulture),
                 "--queueHost", "127.0.0.1", "--queuePort", hostPorts.Value.Queue.ToString(CultureInfo.InvariantCulture),
                 "--tableHost", "127.0.0.1", "--tablePort", tablePort, .. common],
                new Dictionary<string, string>(), port);
            await WaitForTcpAsync(hostPorts.Value.Blob);
            await WaitForTcpAsync(hostPorts.Value.Queue);
        }
        else
        {
            azurite = ChildProcess.Start(Path.Combine(root, "node_modules", ".bin", "azurite-table"),
                ["--tableHost", "127.0.0.1", "--tablePort", tablePort, .. common],
                new Dictionary<string, string>(), port);
        }
        await WaitForTcpAsync(port);
        return new Stack(root, azurite, hostPorts);
    }

    private const string DevelopmentAccount =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;";

    public string ConnectionString => DevelopmentAccount + $"TableEndpoint=http://127.0.0.1:{Azurite.Port}/devstoreaccount1;";

    /// <summary>The Functions host's <c>AzureWebJobsStorage</c>: the same Azurite account with blob, queue and table endpoints.</summary>
    public string HostStorageConnectionString => _hostStoragePorts is { } ports
        ? DevelopmentAccount +
          $"BlobEndpoint=http://127.0.0.1:{ports.Blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{ports.Queue}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{Azurite.Port}/devstoreaccount1;"
        : throw new InvalidOperationException("this stack runs Azurite's table service only: start it with StartAsync(hostStorage: true)");

    /// <summary>The app's settings (as environment variables, as Azure passes app settings), the same for every way the app is started.</summary>
    public Dictionary<string, string> AppSettings(IDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Storage__ConnectionString"] = ConnectionString,
            ["Storage__TablePrefix"] = TablePrefix,
            ["Auth__SigningKeys__0"] = SigningKeyPem,
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

    /// <summary>
    /// Starts an app process. The packaged app runs with the package root as its working directory, as
    /// the Functions host starts it, unless <paramref name="workingDirectory"/> says otherwise.
    /// </summary>
    public ChildProcess StartApp(IDictionary<string, string>? extra = null, string? workingDirectory = null)
    {
        int port = ChildProcess.FreePort();
        var environment = AppSettings(extra);
        environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        // The deployable package's executable when it has been built (bench/run builds it): what Azure runs.
        string packageRoot = Path.Combine(Root, "artifacts", "package");
        string packaged = Path.Combine(packageRoot, "app", "AuthFunctions");
        var app = File.Exists(packaged)
            ? ChildProcess.Start(packaged, [], environment, port, workingDirectory ?? packageRoot)
            : ChildProcess.Start("dotnet", [Path.Combine(Root, "AuthFunctions", "bin", "Release", "net10.0", "AuthFunctions.dll")], environment, port, workingDirectory);
        _apps.Add(app);
        return app;
    }

    public static async Task WaitReadyAsync(HttpClient client)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                if ((await client.GetAsync("/")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(5);
        }
        throw new TimeoutException("the app did not answer GET / within 30 s");
    }

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

    /// <summary>
    /// A JSON body with a Content-Length, as browsers and curl send it. (PostAsJsonAsync streams it chunked, which the
    /// shared Functions host, v4.1037.0, cannot forward to a custom handler: it answers 500, "'Transfer-Encoding:
    /// chunked' header can not be used when content object is not specified".)
    /// </summary>
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
        foreach (var app in _apps)
        {
            app.Dispose();
        }
        Azurite.Dispose();
    }

    private static string CreateSigningKeyPem()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKeyPem();
    }
}
