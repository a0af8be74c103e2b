using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Web;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// The product with federated sign-in against a real provider (<see cref="OidcProviderServer"/>) as <c>test</c> (client
/// secret); as <c>keyed</c> (private_key_jwt with an RSA key and its certificate), <c>keyed-ec</c> (private_key_jwt with
/// an EC key alone) and <c>stranger</c> (private_key_jwt with a key the provider does not know); and a provider
/// <c>down</c> whose address accepts connections and never answers. One per test class.
/// </summary>
public sealed class OidcFixture : IAsyncLifetime
{
    public const string ReturnUrl = "https://site.example.test/app/";
    public const string OtherReturnUrl = "https://site.example.test/other.html";

    private TcpListener? _silent;
    private readonly List<TcpClient> _held = [];
    private Timer? _clockTicker;

    public OidcProviderServer Provider { get; private set; } = null!;

    public ClientAssertionKeys Keys { get; } = new();

    public TestApp App { get; private set; } = null!;

    /// <summary>How long the app waits for a provider (<c>Oidc:ProviderTimeoutSeconds</c>).</summary>
    public static readonly TimeSpan ProviderTimeout = TimeSpan.FromSeconds(3);

    public async Task InitializeAsync()
    {
        _silent = new TcpListener(IPAddress.Loopback, FreePort.Next());
        _silent.Start();
        _ = HoldConnectionsAsync(_silent);
        int appPort = FreePort.Next();
        string Callback(string provider) => $"http://127.0.0.1:{appPort}/api/oidc/{provider}/callback";
        Provider = await OidcProviderServer.StartAsync([Callback("test")], new KeyedClient([Callback("keyed"), Callback("keyed-ec"), Callback("stranger")], Keys.Known));
        App = await TestApp.StartOnPortAsync(appPort, Settings(appPort, Provider, ((IPEndPoint)_silent.LocalEndpoint).Port, keys: Keys));
        // The provider stamps its tokens (iat, exp, auth_time) with the real time; the app's test clock would stand still
        // unless a test moves it, so here it keeps up with the real one (and a test may still move it ahead).
        _clockTicker = new Timer(_ => App.Clock.CatchUpWithRealTime(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(250));
    }

    public static Dictionary<string, string?> Settings(int appPort, OidcProviderServer provider, int? silentPort = null, string returnUrls = ReturnUrl + "," + OtherReturnUrl,
        ClientAssertionKeys? keys = null)
    {
        var settings = provider.Settings(0, "test");
        int next = 1;
        if (silentPort is { } port)
        {
            settings["Oidc:Providers:1:Name"] = "down";
            settings["Oidc:Providers:1:Authority"] = $"http://127.0.0.1:{port}";
            settings["Oidc:Providers:1:ClientId"] = "down-client";
            settings["Oidc:Providers:1:ClientSecret"] = "down-secret";
            next++;
        }
        if (keys is not null)
        {
            foreach (var (name, pem) in new[] { ("keyed", keys.CertifiedRsaPem), ("keyed-ec", keys.EcPem), ("stranger", keys.UnknownPem) })
            {
                foreach (var (key, value) in provider.KeyedSettings(next++, name, pem))
                {
                    settings[key] = value;
                }
            }
        }
        settings["Oidc:ReturnUrls"] = returnUrls;
        settings["Oidc:CallbackBaseUrl"] = $"http://127.0.0.1:{appPort}";
        settings["Oidc:ProviderTimeoutSeconds"] = ProviderTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return settings;
    }

    private async Task HoldConnectionsAsync(TcpListener listener)
    {
        try
        {
            while (true)
            {
                var client = await listener.AcceptTcpClientAsync();
                lock (_held)
                {
                    _held.Add(client);
                }
            }
        }
        catch (Exception stopped) when (stopped is ObjectDisposedException or SocketException)
        {
        }
    }

    public async Task DisposeAsync()
    {
        if (_clockTicker is not null)
        {
            await _clockTicker.DisposeAsync();
        }
        _silent?.Stop();
        lock (_held)
        {
            _held.ForEach(c => c.Dispose());
        }
        if (App is not null)
        {
            await App.DisposeAsync();
        }
        if (Provider is not null)
        {
            await Provider.DisposeAsync();
        }
        Keys.Dispose();
    }
}

/// <summary>The static site's side of a federated sign-in, over HTTP without following redirects.</summary>
public sealed class OidcSite(TestApp app, OidcProviderServer provider, string returnUrl = OidcFixture.ReturnUrl) : IDisposable
{
    private readonly HttpClient _client = new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public string Verifier { get; } = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public string Challenge => System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(Verifier)));

    public HttpClient Client => _client;

    /// <summary>oidc-start; the redirect to the provider.</summary>
    public async Task<Uri> StartAsync(string providerName = "test")
    {
        using var response = await _client.GetAsync($"/api/oidc/{providerName}/start?return_to={Uri.EscapeDataString(returnUrl)}&code_challenge={Challenge}");
        Assert.True(response.StatusCode == HttpStatusCode.Found, $"oidc-start answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.Headers.Location!;
    }

    /// <summary>Start → the provider's login as <paramref name="subject"/> → the callback URL the provider sends the browser to.</summary>
    public async Task<Uri> ToCallbackAsync(string subject, bool abort = false, string providerName = "test") =>
        await provider.SignInAsync(await StartAsync(providerName), subject, abort);

    /// <summary>The browser arrives at the callback (on <paramref name="instance"/>, default this app): the redirect's target.</summary>
    public async Task<Uri> CallbackAsync(Uri callback, TestApp? instance = null)
    {
        using var response = await _client.GetAsync(new Uri((instance ?? app).BaseAddress, callback.PathAndQuery));
        Assert.True(response.StatusCode == HttpStatusCode.Found, $"oidc-callback answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.Headers.Location!;
    }

    /// <summary>
    /// link-ticket with <paramref name="accessToken"/> → oidc-link → the provider's login as <paramref name="subject"/>:
    /// where oidc-link sent the browser, and the callback URL the provider then sends it to.
    /// </summary>
    public async Task<(Uri AuthorizationUrl, Uri Callback)> ToLinkCallbackAsync(string accessToken, string subject)
    {
        var ticket = await ProblemAssert.JsonAsync(await app.PostAsync("/api/oidc/link-ticket", accessToken), HttpStatusCode.OK);
        using var toProvider = await _client.GetAsync($"/api/oidc/test/link?return_to={Uri.EscapeDataString(returnUrl)}&ticket={ticket.GetProperty("ticket").GetString()}");
        Assert.True(toProvider.StatusCode == HttpStatusCode.Found, $"oidc-link answered {(int)toProvider.StatusCode}: {await toProvider.Content.ReadAsStringAsync()}");
        return (toProvider.Headers.Location!, await provider.SignInAsync(toProvider.Headers.Location!, subject));
    }

    /// <summary>A parameter of the fragment the app sent the browser back with (<c>code</c>, <c>error</c>, <c>linked</c>).</summary>
    public static string? Fragment(Uri location, string name) =>
        HttpUtility.ParseQueryString(location.Fragment.TrimStart('#'))[name];

    public async Task<HttpResponseMessage> ExchangeAsync(string? code, string? verifier = null) =>
        await _client.PostAsJsonAsync("/api/oidc/exchange", new { code, code_verifier = verifier ?? Verifier });

    /// <summary>The whole sign-in as <paramref name="subject"/> at <paramref name="providerName"/>: the token pair.</summary>
    public async Task<TokenPair> SignInAsync(string subject, string providerName = "test")
    {
        var landed = await CallbackAsync(await ToCallbackAsync(subject, providerName: providerName));
        Assert.True(Fragment(landed, "code") is not null, $"no login code: {landed.Fragment}");
        var json = await ProblemAssert.JsonAsync(await ExchangeAsync(Fragment(landed, "code")), HttpStatusCode.OK);
        return new TokenPair(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    public void Dispose() => _client.Dispose();
}
