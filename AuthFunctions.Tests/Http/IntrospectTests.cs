using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>The introspect function (RFC 7662): whether an access token is active now, for services with Basic credentials.</summary>
public sealed class IntrospectTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const string ClientId = "orders-api";
    private const string ClientSecret = "0123456789abcdef0123456789abcdef-orders";
    private const string OtherId = "billing:api";
    private const string OtherSecret = "b+illing/secret=with*form&special chars!";

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Introspection:Clients:0:Id"] = ClientId,
        ["Introspection:Clients:0:Secret"] = ClientSecret,
        ["Introspection:Clients:1:Id"] = OtherId,
        ["Introspection:Clients:1:Secret"] = OtherSecret,
    };

    private static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(id + ":" + secret)));

    private static AuthenticationHeaderValue FormEncodedBasic(string id, string secret) =>
        Basic(Uri.EscapeDataString(id), Uri.EscapeDataString(secret));

    private async Task<HttpResponseMessage> IntrospectAsync(string token, AuthenticationHeaderValue? credentials = null, TestApp? app = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/introspect")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token, ["token_type_hint"] = "access_token" }),
        };
        request.Headers.Authorization = credentials ?? Basic(ClientId, ClientSecret);
        return await (app ?? App).Client.SendAsync(request);
    }

    private async Task AssertInactiveAsync(string token)
    {
        var response = await IntrospectAsync(token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Nothing but the answer: no hint at why (RFC 7662 §2.2).
        Assert.Equal("{\"active\":false}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LiveTokenIsActiveWithItsClaims()
    {
        var (email, tokens) = await App.NewUserAsync();
        var payload = TokenForge.Payload(tokens.Access);

        var response = await IntrospectAsync(tokens.Access);
        var json = await ProblemAssert.JsonAsync(response, HttpStatusCode.OK);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.True(json.GetProperty("active").GetBoolean());
        Assert.Equal((string?)payload["sub"], json.GetProperty("sub").GetString());
        Assert.Equal((string?)payload["sid"], json.GetProperty("sid").GetString());
        Assert.Equal((string?)payload["jti"], json.GetProperty("jti").GetString());
        Assert.Equal((long)payload["exp"]!, json.GetProperty("exp").GetInt64());
        Assert.Equal((long)payload["iat"]!, json.GetProperty("iat").GetInt64());
        Assert.Equal((long)payload["nbf"]!, json.GetProperty("nbf").GetInt64());
        Assert.Equal("user", json.GetProperty("scope").GetString());
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.Equal("authfunctions", json.GetProperty("iss").GetString());
        Assert.Equal("authfunctions-clients", json.GetProperty("aud").GetString());
        Assert.Equal(email, json.GetProperty("email").GetString());
        Assert.Equal(ClientId, json.GetProperty("client_id").GetString());
        Assert.Equal("[\"pwd\"]", json.GetProperty("amr").GetRawText());
        Assert.Equal("aal1", json.GetProperty("acr").GetString());
    }

    [Fact]
    public async Task TokenIsInactiveAfterLogout()
    {
        var (_, tokens) = await App.NewUserAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/logout", tokens.Access)).StatusCode);

        await AssertInactiveAsync(tokens.Access);
    }

    [Fact]
    public async Task OtherSessionsTokensAreInactiveAfterAPasswordChange()
    {
        var (email, laptop) = await App.NewUserAsync();
        var phone = await App.LoginAsync(email);
        var changed = await App.PostAsync("/api/password", phone.Access, new { current_password = TestApp.Password, new_password = "a new long passphrase" });
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);

        await AssertInactiveAsync(laptop.Access);
    }

    [Fact]
    public async Task TokenIsInactiveAfterItsSessionIsDeleted()
    {
        var (email, laptop) = await App.NewUserAsync();
        var phone = await App.LoginAsync(email);
        string phoneSid = (string)TokenForge.Payload(phone.Access)["sid"]!;
        Assert.Equal(HttpStatusCode.NoContent, (await App.SendAsync(HttpMethod.Delete, $"/api/sessions/{phoneSid}", laptop.Access)).StatusCode);

        await AssertInactiveAsync(phone.Access);
        Assert.True((await ProblemAssert.JsonAsync(await IntrospectAsync(laptop.Access), HttpStatusCode.OK)).GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task ExpiredTokenIsInactive()
    {
        var (_, tokens) = await App.NewUserAsync();
        App.Clock.Advance(TimeSpan.FromMinutes(16));

        await AssertInactiveAsync(tokens.Access);
    }

    public static TheoryData<string> NotAccessTokens => ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", new string('x', 3000)];

    [Theory]
    [MemberData(nameof(NotAccessTokens))]
    public async Task AnythingThatIsNotOurAccessTokenIsInactive(string token) => await AssertInactiveAsync(token);

    [Fact]
    public async Task RefreshTokenIsInactive()
    {
        var (_, tokens) = await App.NewUserAsync();
        await AssertInactiveAsync(tokens.Refresh);
    }

    [Fact]
    public async Task TokenOfAnotherKeyIsInactive()
    {
        var (_, tokens) = await App.NewUserAsync();
        await using var stranger = await TestApp.StartAsync();
        var (_, foreign) = await stranger.NewUserAsync();

        await AssertInactiveAsync(foreign.Access);
        Assert.True((await ProblemAssert.JsonAsync(await IntrospectAsync(tokens.Access), HttpStatusCode.OK)).GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task FormEncodedCredentialsOfRfc6749AreAccepted()
    {
        var (_, tokens) = await App.NewUserAsync();

        var json = await ProblemAssert.JsonAsync(await IntrospectAsync(tokens.Access, FormEncodedBasic(OtherId, OtherSecret)), HttpStatusCode.OK);
        Assert.True(json.GetProperty("active").GetBoolean());
        Assert.Equal(OtherId, json.GetProperty("client_id").GetString());
    }

    public static TheoryData<string, string?> BadCredentials => new()
    {
        { "missing", null },
        { "wrong secret", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(ClientId + ":" + ClientSecret + "x")) },
        { "unknown id", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("nobody:" + ClientSecret)) },
        { "another client's secret", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(ClientId + ":" + OtherSecret)) },
        { "no colon", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(ClientId)) },
        { "not base64", "Basic %%%" },
        { "bearer instead", "Bearer " + ClientSecret },
    };

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task CallerWithoutValidClientCredentialsGets401(string why, string? authorization)
    {
        var (_, tokens) = await App.NewUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/introspect")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = tokens.Access }),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await App.Client.SendAsync(request);
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.True("Basic realm=\"introspect\"" == response.Headers.WwwAuthenticate.ToString(), why);
        Assert.DoesNotContain(tokens.Access, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonBodyIsRefusedWith415()
    {
        var (_, tokens) = await App.NewUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/introspect") { Content = JsonContent.Create(new { token = tokens.Access }) };
        request.Headers.Authorization = Basic(ClientId, ClientSecret);

        await ProblemAssert.IsProblemAsync(await App.Client.SendAsync(request), HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task MissingTokenIs400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/introspect")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token_type_hint"] = "access_token" }),
        };
        request.Headers.Authorization = Basic(ClientId, ClientSecret);

        var problem = await ProblemAssert.IsProblemAsync(await App.Client.SendAsync(request), HttpStatusCode.BadRequest);
        Assert.Equal("token is required.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Hs256TokensAreIntrospectedToo()
    {
        var settings = TestApp.Hs256Settings();
        settings["Introspection:Clients:0:Id"] = ClientId;
        settings["Introspection:Clients:0:Secret"] = ClientSecret;
        await using var hs256 = await TestApp.StartAsync(settings);
        var (_, tokens) = await hs256.NewUserAsync();

        var json = await ProblemAssert.JsonAsync(await IntrospectAsync(tokens.Access, app: hs256), HttpStatusCode.OK);
        Assert.True(json.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task WithoutConfiguredClientsIntrospectionIsNotFound()
    {
        await using var plain = await TestApp.StartAsync();
        var (_, tokens) = await plain.NewUserAsync();

        var json = await ProblemAssert.IsProblemAsync(await IntrospectAsync(tokens.Access, app: plain), HttpStatusCode.NotFound);
        Assert.Equal(JsonValueKind.String, json.GetProperty("detail").ValueKind);
    }
}
