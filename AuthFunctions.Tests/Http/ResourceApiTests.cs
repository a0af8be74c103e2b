using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using ResourceApi;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// samples/resource-api, a separate ASP.NET Core API with JwtBearer configured with only our JWKS URL, issuer and
/// audience, accepts our access tokens across a key rotation and refuses anything else.
/// </summary>
public sealed class ResourceApiTests(AppFixture fixture) : AppTestBase(fixture)
{
    private static Uri JwksUrl(TestApp app) => new(app.BaseAddress, "/api/.well-known/jwks.json");

    private static async Task<RunningApp> StartResourceApiAsync(Uri jwksUrl)
    {
        var app = ResourceApiApp.Build(["--urls", "http://127.0.0.1:0", "--environment", "Testing"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["AuthFunctions:JwksUrl"] = jwksUrl.ToString() });
            builder.Logging.ClearProviders();
        });
        return await RunningApp.StartAsync(app);
    }

    private static async Task<HttpStatusCode> OrdersAsync(RunningApp api, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await api.Client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task TokenFromOurLoginWorksThere()
    {
        await using var api = await StartResourceApiAsync(JwksUrl(App));
        var (email, tokens) = await App.NewUserAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.Access);
        var json = await ProblemAssert.JsonAsync(await api.Client.SendAsync(request), HttpStatusCode.OK);

        Assert.Equal((string?)TokenForge.Payload(tokens.Access)["sub"], json.GetProperty("user_id").GetString());
        Assert.Equal(email, json.GetProperty("email").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, await OrdersAsync(api, null));
    }

    [Fact]
    public async Task AfterARotationTokensSignedWithTheOldAndTheNewKeyBothWork()
    {
        var (email, before) = await App.NewUserAsync();
        await using var rotated = await App.StartAnotherInstanceAsync(new Dictionary<string, string?>
        {
            ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem(),
            ["Auth:SigningKeys:1"] = App.SigningKeyPems[0],
        });
        var after = await rotated.LoginAsync(email);
        Assert.NotEqual(TokenForge.Header(before.Access)["kid"]!.ToString(), TokenForge.Header(after.Access)["kid"]!.ToString());

        await using var api = await StartResourceApiAsync(JwksUrl(rotated));

        Assert.Equal(HttpStatusCode.OK, await OrdersAsync(api, before.Access));
        Assert.Equal(HttpStatusCode.OK, await OrdersAsync(api, after.Access));
    }

    [Fact]
    public async Task AnApiThatCachedTheOldKeySetFetchesItAgainForANewKid()
    {
        var (email, before) = await App.NewUserAsync();
        await using var rotated = await App.StartAnotherInstanceAsync(new Dictionary<string, string?>
        {
            ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem(),
            ["Auth:SigningKeys:1"] = App.SigningKeyPems[0],
        });
        // One JWKS URL whose answer changes when the deployment rotates, as ours does when its instances restart.
        var current = App;
        await using var jwks = await JwksProxy.StartAsync(() => JwksUrl(current));
        await using var api = await StartResourceApiAsync(jwks.Url);
        Assert.Equal(HttpStatusCode.OK, await OrdersAsync(api, before.Access)); // the API now holds the old key set

        current = rotated;
        var after = await rotated.LoginAsync(email);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var status = await OrdersAsync(api, after.Access);
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            status = await OrdersAsync(api, after.Access);
        }
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.OK, await OrdersAsync(api, before.Access));
    }

    [Fact]
    public async Task TokenSignedByAnotherKeyIsRefused()
    {
        await using var api = await StartResourceApiAsync(JwksUrl(App));
        var (_, tokens) = await App.NewUserAsync();
        var header = TokenForge.Header(tokens.Access);
        var payload = TokenForge.Payload(tokens.Access);
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var strangerHeader = header.DeepClone().AsObject();
        strangerHeader["kid"] = "another-key";

        Assert.Equal(HttpStatusCode.OK, await OrdersAsync(api, tokens.Access));
        Assert.Equal(HttpStatusCode.Unauthorized, await OrdersAsync(api, TokenForge.SignEcdsa(header, payload, stranger)));
        Assert.Equal(HttpStatusCode.Unauthorized, await OrdersAsync(api, TokenForge.SignEcdsa(strangerHeader, payload, stranger)));
    }

    [Fact]
    public async Task Hs256TokenKeyedWithThePublicKeyIsRefused()
    {
        await using var api = await StartResourceApiAsync(JwksUrl(App));
        var (_, tokens) = await App.NewUserAsync();
        var header = TokenForge.Header(tokens.Access);
        header["alg"] = "HS256";
        var payload = TokenForge.Payload(tokens.Access);
        using var ours = TokenForge.EcKey(App.SigningKey);
        string jwks = await App.Client.GetStringAsync(JwksUrl(App));

        foreach (var publicKey in new[] { ours.ExportSubjectPublicKeyInfo(), Encoding.ASCII.GetBytes(ours.ExportSubjectPublicKeyInfoPem()), Encoding.UTF8.GetBytes(jwks) })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await OrdersAsync(api, TokenForge.Sign(header, payload, publicKey)));
        }
        Assert.Equal(HttpStatusCode.OK, await OrdersAsync(api, tokens.Access));
    }

    /// <summary>A started app on a random loopback port and a client for it.</summary>
    private sealed class RunningApp(WebApplication app) : IAsyncDisposable
    {
        public HttpClient Client { get; } = new() { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };

        public static async Task<RunningApp> StartAsync(WebApplication app)
        {
            await app.StartAsync();
            return new RunningApp(app);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Serves whatever key set the upstream it is pointed at serves now.</summary>
    private sealed class JwksProxy(RunningApp running, HttpClient upstream) : IAsyncDisposable
    {
        public Uri Url { get; } = new(running.Client.BaseAddress!, "/jwks");

        public static async Task<JwksProxy> StartAsync(Func<Uri> source)
        {
            var upstream = new HttpClient();
            var builder = WebApplication.CreateSlimBuilder(["--urls", "http://127.0.0.1:0"]);
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapGet("/jwks", async () => Results.Content(await upstream.GetStringAsync(source()), "application/json"));
            return new JwksProxy(await RunningApp.StartAsync(app), upstream);
        }

        public async ValueTask DisposeAsync()
        {
            await running.DisposeAsync();
            upstream.Dispose();
        }
    }
}
