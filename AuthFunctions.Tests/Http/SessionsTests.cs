using System.Net;
using System.Net.Http.Headers;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class SessionsTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task ListShowsLiveSessionsWithTheCurrentOneMarked()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        App.Client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("laptop-browser", "1.0"));
        var laptop = await App.LoginAsync(email);
        var phone = await App.LoginAsync(email);

        var json = await ProblemAssert.JsonAsync(await App.GetAsync("/api/sessions", laptop.Access), HttpStatusCode.OK);

        var sessions = json.GetProperty("sessions").EnumerateArray().ToList();
        Assert.Equal(2, sessions.Count);
        string laptopSid = TokenForge.Payload(laptop.Access)["sid"]!.GetValue<string>();
        var current = Assert.Single(sessions, s => s.GetProperty("current").GetBoolean());
        Assert.Equal(laptopSid, current.GetProperty("id").GetString());
        Assert.Equal("laptop-browser/1.0", current.GetProperty("user_agent").GetString());
        Assert.All(sessions, s => Assert.True(s.TryGetProperty("created_at", out _) && s.TryGetProperty("last_used_at", out _)));
        Assert.DoesNotContain(phone.Refresh, json.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListShowsTheClientsUserAgentWithoutTheFunctionsHostsToken()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        // What the Functions host forwards: the client's User-Agent plus its own product token.
        App.Client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11) Azure-Functions-Host/4.1037.0");
        var tokens = await App.LoginAsync(email);

        var json = await ProblemAssert.JsonAsync(await App.GetAsync("/api/sessions", tokens.Access), HttpStatusCode.OK);

        var session = Assert.Single(json.GetProperty("sessions").EnumerateArray());
        Assert.Equal("Mozilla/5.0 (X11)", session.GetProperty("user_agent").GetString());
    }

    [Fact]
    public async Task EndingASessionFromTheListStopsItWorking()
    {
        var (email, laptop) = await App.NewUserAsync();
        var phone = await App.LoginAsync(email);
        string phoneSid = TokenForge.Payload(phone.Access)["sid"]!.GetValue<string>();

        var response = await App.SendAsync(HttpMethod.Delete, $"/api/sessions/{phoneSid}", laptop.Access);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", phone.Access));
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(phone.Refresh), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", laptop.Access)).StatusCode);
        var list = await ProblemAssert.JsonAsync(await App.GetAsync("/api/sessions", laptop.Access), HttpStatusCode.OK);
        Assert.Single(list.GetProperty("sessions").EnumerateArray());
    }

    [Fact]
    public async Task AnotherUsersSessionCannotBeEnded()
    {
        var (_, alice) = await App.NewUserAsync("alice");
        var (_, bob) = await App.NewUserAsync("bob");
        string bobSid = TokenForge.Payload(bob.Access)["sid"]!.GetValue<string>();

        await ProblemAssert.IsProblemAsync(await App.SendAsync(HttpMethod.Delete, $"/api/sessions/{bobSid}", alice.Access), HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", bob.Access)).StatusCode);
    }

    [Theory]
    [InlineData("not-a-session-id")]
    [InlineData("00000000000000000000000000000000")]
    public async Task UnknownSessionIdIsNotFound(string id)
    {
        var (_, tokens) = await App.NewUserAsync();
        await ProblemAssert.IsProblemAsync(await App.SendAsync(HttpMethod.Delete, $"/api/sessions/{id}", tokens.Access), HttpStatusCode.NotFound);
    }
}
