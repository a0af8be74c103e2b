using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tokens;

namespace AuthFunctions.Benchmarks;

/// <summary>Azurite and the app (Release build), started the way the Functions host starts the handler.</summary>
internal sealed class Stack : IDisposable
{
    /// <summary>ES256, as new deployments sign (one PKCS#8 PEM P-256 key, <c>Auth__SigningKeys__0</c>).</summary>
    public static readonly string SigningKeyPem = CreateSigningKeyPem();
    private readonly List<ChildProcess> _apps = [];

    private Stack(string root, ChildProcess azurite)
    {
        Root = root;
        Azurite = azurite;
    }

    public string Root { get; }

    public ChildProcess Azurite { get; }

    public string TablePrefix { get; } = "b" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<Stack> StartAsync()
    {
        string root = FindRoot();
        int port = ChildProcess.FreePort();
        var azurite = ChildProcess.Start(Path.Combine(root, "node_modules", ".bin", "azurite-table"),
            ["--tableHost", "127.0.0.1", "--tablePort", port.ToString(CultureInfo.InvariantCulture), "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
            new Dictionary<string, string>(), port);
        await WaitForTcpAsync(port);
        return new Stack(root, azurite);
    }

    public string ConnectionString =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        $"TableEndpoint=http://127.0.0.1:{Azurite.Port}/devstoreaccount1;";

    /// <summary>
    /// Starts an app process. The packaged app runs with the package root as its working directory, as
    /// the Functions host starts it, unless <paramref name="workingDirectory"/> says otherwise.
    /// </summary>
    public ChildProcess StartApp(IDictionary<string, string>? extra = null, string? workingDirectory = null)
    {
        int port = ChildProcess.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
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
            environment[name] = value;
        }
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

    public static HttpClient Client(ChildProcess app) => new() { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"), Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<(string Access, string Refresh)> RegisterAndLoginAsync(HttpClient client, string email, string password)
    {
        var registered = await client.PostAsJsonAsync("/api/register", new { email, password });
        if (registered.StatusCode != System.Net.HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"register answered {(int)registered.StatusCode}");
        }
        var login = await client.PostAsJsonAsync("/api/login", new { email, password });
        var json = await login.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

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
