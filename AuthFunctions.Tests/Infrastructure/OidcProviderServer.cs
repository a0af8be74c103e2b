using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>The private_key_jwt client of <see cref="OidcProviderServer"/>: its redirect URIs and the public keys the provider knows it by.</summary>
public sealed record KeyedClient(IReadOnlyList<string> RedirectUris, IReadOnlyList<System.Security.Cryptography.AsymmetricAlgorithm> Keys);

/// <summary>
/// A real OpenID Connect provider, oidc-provider (npm, pinned in package-lock.json), run by node from
/// <c>TestData/oidc-provider.mjs</c> on a free loopback port with one confidential test client (client secret) and,
/// when asked, <see cref="KeyedClientId"/>, which authenticates with private_key_jwt and has no secret at all. Its development login page
/// signs anyone in (the login is the subject); <see cref="SetModeAsync"/> switches the script's test proxy, which rewrites
/// the ID tokens of the next sign-ins into attacks the real provider never produces, or stalls its token endpoint.
/// Ended by its process id.
/// </summary>
public sealed class OidcProviderServer : IAsyncDisposable
{
    /// <summary>A subject no other test signs in as (the login at the provider's page is the subject).</summary>
    public static string NewSubject(string tag) => $"{tag}-{Guid.NewGuid():N}";

    public const string ClientId = "authfunctions-tests";

    public const string KeyedClientId = "authfunctions-tests-keyed";

    private readonly Process _process;
    private readonly HttpClient _control;
    private readonly string? _keyedClientFile;

    private OidcProviderServer(Process process, int port, string clientSecret, string? keyedClientFile)
    {
        _process = process;
        Port = port;
        ClientSecret = clientSecret;
        _keyedClientFile = keyedClientFile;
        _control = new HttpClient { BaseAddress = Issuer };
    }

    public int Port { get; }

    public Uri Issuer => new($"http://127.0.0.1:{Port}");

    public string ClientSecret { get; }

    /// <summary>Starts the provider; <paramref name="redirectUris"/> are the test client's registered redirect URIs.</summary>
    public static Task<OidcProviderServer> StartAsync(params string[] redirectUris) => StartAsync(redirectUris, keyed: null);

    /// <summary>Starts the provider with the test client and, if <paramref name="keyed"/>, <see cref="KeyedClientId"/>.</summary>
    public static async Task<OidcProviderServer> StartAsync(string[] redirectUris, KeyedClient? keyed)
    {
        int port = FreePort.Next();
        string secret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        string script = Path.Combine(RepositoryRoot.Path, "AuthFunctions.Tests", "TestData", "oidc-provider.mjs");
        string? keyedClientFile = keyed is null ? null : await WriteKeyedClientAsync(keyed);
        // A shell watchdog ends node when this test process is gone, even without its exit handlers (as for maildev).
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepositoryRoot.Path };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("node \"$0\" \"$1\" \"$2\" \"$3\" \"$4\" \"$5\" & child=$!; while kill -0 \"$6\" 2>/dev/null && kill -0 \"$child\" 2>/dev/null; do sleep 1; done; kill \"$child\" 2>/dev/null");
        foreach (var argument in new[] { script, port.ToString(CultureInfo.InvariantCulture), ClientId, secret, string.Join(',', redirectUris), keyedClientFile ?? "",
            Environment.ProcessId.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) { output.Enqueue(line.Data); } };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) { output.Enqueue(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new OidcProviderServer(process, port, secret, keyedClientFile);
        if (!await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60)))
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"oidc-provider did not listen on port {port} within 60 s: {string.Join('\n', output)}");
        }
        return server;
    }

    /// <summary>The app's settings for this provider under <paramref name="name"/>.</summary>
    public Dictionary<string, string?> Settings(int index, string name) => new()
    {
        [$"Oidc:Providers:{index}:Name"] = name,
        [$"Oidc:Providers:{index}:Authority"] = Issuer.ToString().TrimEnd('/'),
        [$"Oidc:Providers:{index}:ClientId"] = ClientId,
        [$"Oidc:Providers:{index}:ClientSecret"] = ClientSecret,
    };

    /// <summary>The app's settings for <see cref="KeyedClientId"/> under <paramref name="name"/>, authenticating with <paramref name="clientAssertionKey"/> (a PEM).</summary>
    public Dictionary<string, string?> KeyedSettings(int index, string name, string clientAssertionKey) => new()
    {
        [$"Oidc:Providers:{index}:Name"] = name,
        [$"Oidc:Providers:{index}:Authority"] = Issuer.ToString().TrimEnd('/'),
        [$"Oidc:Providers:{index}:ClientId"] = KeyedClientId,
        [$"Oidc:Providers:{index}:ClientAssertionKey"] = clientAssertionKey,
    };

    /// <summary>The keyed client for the script: its redirect URIs and the public halves of its keys as a JWKS (RFC 7517), no kid.</summary>
    private static async Task<string> WriteKeyedClientAsync(KeyedClient keyed)
    {
        var keys = keyed.Keys.Select(key => key switch
        {
            System.Security.Cryptography.RSA rsa => PublicJwk(rsa.ExportParameters(false)),
            System.Security.Cryptography.ECDsa ec => PublicJwk(ec.ExportParameters(false)),
            _ => throw new ArgumentException("an RSA or EC key", nameof(keyed)),
        });
        string file = Path.Combine(Path.GetTempPath(), $"authfunctions-oidc-client-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new { client_id = KeyedClientId, redirect_uris = keyed.RedirectUris, jwks = new { keys } }));
        return file;
    }

    private static Dictionary<string, string> PublicJwk(System.Security.Cryptography.RSAParameters key) => new()
    {
        ["kty"] = "RSA",
        ["n"] = System.Buffers.Text.Base64Url.EncodeToString(key.Modulus),
        ["e"] = System.Buffers.Text.Base64Url.EncodeToString(key.Exponent),
    };

    private static Dictionary<string, string> PublicJwk(System.Security.Cryptography.ECParameters key) => new()
    {
        ["kty"] = "EC",
        ["crv"] = "P-256",
        ["x"] = System.Buffers.Text.Base64Url.EncodeToString(key.Q.X),
        ["y"] = System.Buffers.Text.Base64Url.EncodeToString(key.Q.Y),
    };

    /// <summary>
    /// What the script's test proxy does to the next ID tokens: <c>none</c>, <c>wrong-issuer</c>, <c>expired</c>,
    /// <c>tampered</c>, <c>foreign-key</c>, <c>nonce-mismatch</c>, <c>wrong-audience</c>; or to the token endpoint: <c>stall-token</c>, <c>token-500</c>.
    /// </summary>
    public async Task SetModeAsync(string mode)
    {
        using var response = await _control.PostAsync($"/__test/mode?mode={Uri.EscapeDataString(mode)}", null);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>Defines what the provider says about the user who signs in as <paramref name="subject"/>.</summary>
    public async Task AddUserAsync(string subject, string email, bool emailVerified = true)
    {
        using var response = await _control.PostAsync(
            $"/__test/user?sub={Uri.EscapeDataString(subject)}&email={Uri.EscapeDataString(email)}&email_verified={(emailVerified ? "true" : "false")}", null);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>
    /// Plays the user's browser at the provider: follows its redirects from <paramref name="authorizationUrl"/>, signs in
    /// at its login page as <paramref name="subject"/> (or <c>abort</c>s there), and returns the URL it finally sends the
    /// browser to (the app's callback, with code and state). Each call is a fresh browser (no provider session).
    /// </summary>
    public async Task<Uri> SignInAsync(Uri authorizationUrl, string subject, bool abort = false)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() }) { Timeout = TimeSpan.FromSeconds(30) };
        var next = authorizationUrl;
        for (int step = 0; step < 10; step++)
        {
            using var response = await browser.GetAsync(next);
            if (response.StatusCode == HttpStatusCode.OK && next.AbsolutePath.StartsWith("/interaction/", StringComparison.Ordinal))
            {
                using var submitted = abort
                    ? await browser.GetAsync(new Uri(next, next.AbsolutePath + "/abort"))
                    : await browser.PostAsync(next, new FormUrlEncodedContent(new Dictionary<string, string> { ["prompt"] = "login", ["login"] = subject, ["password"] = "any" }));
                Assert.True(submitted.Headers.Location is not null, $"the provider's login page answered {(int)submitted.StatusCode}");
                next = new Uri(next, submitted.Headers.Location!);
            }
            else
            {
                Assert.True(response.Headers.Location is not null, $"the provider answered {(int)response.StatusCode} at {next.AbsolutePath}: {await response.Content.ReadAsStringAsync()}");
                next = new Uri(next, response.Headers.Location!);
            }
            if (next.Port != Port)
            {
                return next;
            }
        }
        throw new InvalidOperationException("The provider kept redirecting.");
    }

    public async ValueTask DisposeAsync()
    {
        _control.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
        if (_keyedClientFile is not null)
        {
            File.Delete(_keyedClientFile);
        }
    }
}
