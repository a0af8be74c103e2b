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
        // Two devices: clients of their own (App.Client is shared by this class's tests; its default headers are too).
        using var laptopClient = LoopbackClient.Create(App.BaseAddress);
        using var phoneClient = LoopbackClient.Create(App.BaseAddress);
        laptopClient.Http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("laptop-browser", "1.0"));
        phoneClient.Http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("phone-app", "2.0"));
        var laptop = await laptopClient.LoginAsync(email);
        var phone = await phoneClient.LoginAsync(email);

        var json = await ProblemAssert.JsonAsync(await laptopClient.GetAsync("/api/sessions", laptop.Access), HttpStatusCode.OK);

        var sessions = json.GetProperty("sessions").EnumerateArray().ToList();
        Assert.Equal(2, sessions.Count);
        string laptopSid = TokenForge.Payload(laptop.Access)["sid"]!.GetValue<string>();
        var current = Assert.Single(sessions, s => s.GetProperty("current").GetBoolean());
        Assert.Equal(laptopSid, current.GetProperty("id").GetString());
        Assert.Equal("laptop-browser/1.0", current.GetProperty("user_agent").GetString());
        var other = Assert.Single(sessions, s => !s.GetProperty("current").GetBoolean());
        Assert.Equal("phone-app/2.0", other.GetProperty("user_agent").GetString());
        Assert.All(sessions, s => Assert.True(s.TryGetProperty("created_at", out _) && s.TryGetProperty("last_used_at", out _)));
        Assert.DoesNotContain(phone.Refresh, json.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A session lists the client's User-Agent exactly as the client sent it. With the isolated worker the Functions host
    /// forwards User-Agent unchanged (its custom-handler proxy appended " Azure-Functions-Host/&lt;version&gt;"; what the
    /// product still does with such a trailing token is in Unit/HostUserAgentTests). A session records no client address,
    /// so an address the client writes (X-Forwarded-For and the like) cannot appear in the list either.
    /// </summary>
    [Fact]
    public async Task ListShowsTheUserAgentTheClientSent()
    {
        const string browser = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        using var client = LoopbackClient.Create(App.BaseAddress);
        Assert.True(client.Http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", browser));
        var tokens = await client.LoginAsync(email, headers: LoopbackClient.Claiming("203.0.113.7"));

        var json = await ProblemAssert.JsonAsync(await client.GetAsync("/api/sessions", tokens.Access), HttpStatusCode.OK);

        var session = Assert.Single(json.GetProperty("sessions").EnumerateArray());
        Assert.Equal(browser, session.GetProperty("user_agent").GetString());
        Assert.DoesNotContain("203.0.113.7", json.ToString(), StringComparison.Ordinal);
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
