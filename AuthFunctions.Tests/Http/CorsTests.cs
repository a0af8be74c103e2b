using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class CorsTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const string Site = "https://app.example.com";

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Cors:AllowedOrigins"] = $"{Site}, http://localhost:8080",
    };

    private async Task<HttpResponseMessage> PreflightAsync(string origin, string method, string headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/login");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return await App.Client.SendAsync(request);
    }

    [Fact]
    public async Task PreflightFromAnAllowedOriginIsAnswered()
    {
        var response = await PreflightAsync(Site, "POST", "content-type,authorization");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Site, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Contains("authorization", response.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task OriginsNotOnTheListGetNoCorsHeaders()
    {
        var preflight = await PreflightAsync("https://evil.example", "POST", "content-type");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/health");
        request.Headers.Add("Origin", "https://evil.example");
        var actual = await App.Client.SendAsync(request);

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(actual.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task ErrorResponsesCarryCorsHeadersSoBrowsersShowTheRealError()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/protected");
        request.Headers.Add("Origin", Site);

        var response = await App.Client.SendAsync(request);

        await ProblemAssert.IsInvalidTokenAsync(response);
        Assert.Equal(Site, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("WWW-Authenticate", response.Headers.GetValues("Access-Control-Expose-Headers").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StorageOutageAnswersKeepCorsHeaders()
    {
        await using var azurite = new AzuriteServer(location: null);
        await azurite.StartAsync();
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins"] = Site }, azurite);
        await azurite.StopAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/health");
        request.Headers.Add("Origin", Site);

        var response = await app.Client.SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(Site, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://app.example.com/path")]
    [InlineData("app.example.com")]
    [InlineData("https://*.example.com")]
    public async Task WildcardsAndNonOriginsAreRefusedAtStart(string origins)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => TestApp.StartAsync(new Dictionary<string, string?> { ["Cors:AllowedOrigins"] = origins }));
        Assert.Contains("Cors__AllowedOrigins", failure.Message, StringComparison.Ordinal);
    }
}
