using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// A real client at an address of its own: every connection it opens leaves from <see cref="Address"/>, a loopback
/// address other than 127.0.0.1 (Linux routes all of 127.0.0.0/8 to the loopback interface), before connecting to the
/// host on 127.0.0.1. The Functions host sees that address as the TCP peer, exactly as it sees a different machine, and
/// forwards it to the worker in <c>X-Forwarded-For</c>. Headers the client writes (its own <c>X-Forwarded-For</c>) travel
/// as written, so tests can check they change nothing.
/// </summary>
public sealed class LoopbackClient : IDisposable
{
    // 127.0.0.1 is every other test's client (TestApp.Client, RawHttp): never hand it out.
    private static int _issued;

    private LoopbackClient(IPAddress address, Uri baseAddress)
    {
        Address = address;
        var handler = new SocketsHttpHandler { ConnectCallback = ConnectFrom(address) };
        Http = new HttpClient(handler) { BaseAddress = baseAddress };
    }

    /// <summary>A connect callback for a <see cref="SocketsHttpHandler"/> whose connections leave from <paramref name="address"/> (a loopback address).</summary>
    public static Func<System.Net.Http.SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectFrom(IPAddress address) => async (context, cancel) =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(address, 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancel);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    };

    /// <summary>The source address of this client's connections: its address as the host (and the worker) see it.</summary>
    public IPAddress Address { get; }

    public HttpClient Http { get; }

    /// <summary>A client at a loopback address no other client of this test run has (127.0.0.2, 127.0.0.3, …, 127.0.1.1, …).</summary>
    public static LoopbackClient Create(Uri baseAddress)
    {
        int n = Interlocked.Increment(ref _issued);
        if (n > 250 * 250)
        {
            throw new InvalidOperationException("Out of distinct loopback addresses.");
        }
        return new LoopbackClient(new IPAddress([127, 0, (byte)(n / 250), (byte)((n % 250) + 1)]), baseAddress);
    }

    /// <summary>
    /// A client at this machine's first non-loopback IPv4 address (its network interface's): its connections still go to
    /// the host on 127.0.0.1 (Linux delivers them over the loopback interface), but the host sees a peer outside
    /// 127.0.0.0/8, as it sees a client on another machine.
    /// </summary>
    public static LoopbackClient OffLoopback(Uri baseAddress)
    {
        var address = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up &&
                n.NetworkInterfaceType != System.Net.NetworkInformation.NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? throw new InvalidOperationException("This machine has no non-loopback IPv4 address to be a client from.");
        return new LoopbackClient(address, baseAddress);
    }

    /// <summary>
    /// Headers in which a client claims to be <paramref name="address"/>: <c>X-Forwarded-For</c>, which the host replaces,
    /// and the other headers proxies use for the client's address, which the host passes as written (among them Front
    /// Door's <c>X-Azure-ClientIP</c>, which a worker told to trust it without Front Door in front would believe).
    /// </summary>
    public static Dictionary<string, string> Claiming(string address) => new()
    {
        ["X-Forwarded-For"] = address,
        ["X-Azure-ClientIP"] = address,
        ["X-Azure-SocketIP"] = address,
        ["X-Client-IP"] = address,
        ["X-Real-IP"] = address,
        ["True-Client-IP"] = address,
        ["Forwarded"] = address.Contains(':', StringComparison.Ordinal) && !address.Contains(',', StringComparison.Ordinal) ? $"for=\"[{address}]\"" : $"for={address.Split(',')[0].Trim()}",
    };

    /// <summary>A JSON POST, with extra headers (sent as written, not validated).</summary>
    public async Task<HttpResponseMessage> PostAsync(string path, object? body, string? accessToken = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) };
        return await SendAsync(request, accessToken, headers);
    }

    public async Task<HttpResponseMessage> GetAsync(string path, string? accessToken = null, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await SendAsync(request, accessToken, headers);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string? accessToken, IDictionary<string, string>? headers)
    {
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return await Http.SendAsync(request);
    }

    /// <summary>Logs in (expecting 200) and returns the tokens.</summary>
    public async Task<TokenPair> LoginAsync(string email, string password = TestApp.Password, IDictionary<string, string>? headers = null)
    {
        var response = await PostAsync("/api/login", new { email, password }, headers: headers);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new TokenPair(json.GetProperty("access_token").GetString()!, json.GetProperty("refresh_token").GetString()!);
    }

    public void Dispose() => Http.Dispose();
}
