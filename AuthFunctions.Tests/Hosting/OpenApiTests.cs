using System.Net;
using System.Text.Json;
using AuthFunctions.Http;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Hosting;

/// <summary>GET /api/openapi.json: generated from the functions' attributes, and held to the metadata the Worker SDK generates for the host.</summary>
public sealed class OpenApiTests(AppFixture fixture) : AppTestBase(fixture)
{
    private async Task<JsonElement> DocumentAsync() =>
        await ProblemAssert.JsonAsync(await App.Client.GetAsync("/api/openapi.json"), HttpStatusCode.OK);

    private static IEnumerable<(string Method, string Path, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path =>
            path.Value.EnumerateObject().Where(o => o.Name != "parameters").Select(o => (o.Name.ToUpperInvariant(), path.Name, o.Value)));

    [Fact]
    public async Task EveryFunctionAndMethodIsInTheDocumentAndNothingElse()
    {
        var document = await DocumentAsync();
        var described = Operations(document).Select(o => (o.Method, o.Path.TrimStart('/'))).ToHashSet();
        var declared = FunctionMetadataTests.DeclaredFunctions()
            .Where(f => f.Method != "OPTIONS" && f.Name != "openapi")
            .Select(f => (f.Method, "api/" + (FunctionCatalog.Instance.Find(f.Name)?.RouteFor(f.Method) ?? f.Route))).ToHashSet();

        Assert.Equal(declared.Order(), described.Order());
    }

    [Fact]
    public async Task ProtectedOperationsNeedTheBearerSchemeAndOthersDoNot()
    {
        var document = await DocumentAsync();
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        var secured = Operations(document).Where(o => o.Operation.TryGetProperty("security", out _)).Select(o => $"{o.Method} {o.Path}").Order().ToList();

        Assert.Equal(["DELETE /api/me", "DELETE /api/me/identities/{provider}", "DELETE /api/mfa/totp", "DELETE /api/passkeys/{id}", "DELETE /api/sessions/{id}", "GET /api/me",
            "GET /api/passkeys", "GET /api/protected", "GET /api/sessions", "PATCH /api/me", "POST /api/email/verify/send", "POST /api/logout", "POST /api/mfa/recovery-codes",
            "POST /api/mfa/totp", "POST /api/mfa/totp/confirm", "POST /api/oidc/link-ticket", "POST /api/passkeys/register", "POST /api/passkeys/register/options",
            "POST /api/password"], secured);
    }

    [Theory]
    [InlineData("/api/register", "email")]
    [InlineData("/api/login", "device_token")]
    [InlineData("/api/refresh", "refresh_token")]
    [InlineData("/api/password", "new_password")]
    [InlineData("/api/login", "totp_code")]
    [InlineData("/api/login/mfa", "mfa_token")]
    [InlineData("/api/mfa/totp/confirm", "code")]
    public async Task RequestBodiesAreDescribedInJsonAndFormWithTheContractsFieldNames(string path, string field)
    {
        var body = (await DocumentAsync()).GetProperty("paths").GetProperty(path).GetProperty("post").GetProperty("requestBody").GetProperty("content");

        Assert.True(body.TryGetProperty("application/x-www-form-urlencoded", out _));
        var properties = body.GetProperty("application/json").GetProperty("schema").GetProperty("properties");
        Assert.True(properties.TryGetProperty(field, out _), $"{path} does not describe {field}");
    }

    [Fact]
    public async Task ErrorsAreDescribedAsProblemDetails()
    {
        var login = (await DocumentAsync()).GetProperty("paths").GetProperty("/api/login").GetProperty("post").GetProperty("responses");

        Assert.True(login.TryGetProperty("200", out _));
        foreach (string status in new[] { "401", "429" })
        {
            Assert.True(login.GetProperty(status).GetProperty("content").TryGetProperty("application/problem+json", out _), $"login {status} is not Problem Details");
        }
    }

    [Fact]
    public async Task TheFederationRedirectsAreDescribedAsRedirects()
    {
        var paths = (await DocumentAsync()).GetProperty("paths");

        foreach (string path in new[] { "/api/oidc/{provider}/start", "/api/oidc/{provider}/callback", "/api/oidc/{provider}/link" })
        {
            Assert.True(paths.GetProperty(path).GetProperty("get").GetProperty("responses").TryGetProperty("302", out _), $"{path} has no 302");
        }
        var exchange = paths.GetProperty("/api/oidc/exchange").GetProperty("post");
        Assert.True(exchange.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("properties").TryGetProperty("code_verifier", out _));
        Assert.True(exchange.GetProperty("responses").TryGetProperty("200", out _));
    }
}
