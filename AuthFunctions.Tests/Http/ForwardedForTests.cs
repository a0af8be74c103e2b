using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// README (Running under the Functions host): the host forwards each request "with its TCP peer in
/// <c>X-Forwarded-For</c>, replacing whatever the client sent there (and the worker ignores <c>X-Azure-ClientIP</c>,
/// <c>Forwarded</c> and the like)"; that address keys the per-client rate limits and is the one in the logs. Here the
/// peer is outside 127.0.0.0/8 (<see cref="LoopbackClient.OffLoopback"/>: this machine's network address), as a client
/// on another machine is, so nothing in the chain can be treating it as a trusted local proxy.
/// </summary>
public sealed class ForwardedForTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int Permits = 3;

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["RateLimit:PermitsPerMinute"] = "3" };

    [Fact]
    public async Task APeerOffTheLoopbackIsLoggedByItsOwnAddressWhateverItClaims()
    {
        using var client = LoopbackClient.OffLoopback(App.BaseAddress);
        Assert.False(IPAddress.IsLoopback(client.Address));
        string email = TestApp.UniqueEmail();
        var spoofed = LoopbackClient.Claiming("203.0.113.7");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/register", new { email, password = TestApp.Password }, headers: spoofed)).StatusCode);

        var tokens = await client.LoginAsync(email, headers: spoofed);

        string userId = (string)TokenForge.Payload(tokens.Access)["sub"]!;
        var registered = await App.Logs.WaitForAsync(e => e.EventId.Id == 1001 && e.State.GetValueOrDefault("UserId") == userId);
        var loggedIn = await App.Logs.WaitForAsync(e => e.EventId.Id == 1002 && e.State.GetValueOrDefault("UserId") == userId);
        Assert.Equal(client.Address.ToString(), registered.State["ClientAddress"]);
        Assert.Equal(client.Address.ToString(), loggedIn.State["ClientAddress"]);
        Assert.DoesNotContain("203.0.113.7", App.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APeerOffTheLoopbackHasOneBudgetThatHeadersNeitherStretchNorSpend()
    {
        using var remote = LoopbackClient.OffLoopback(App.BaseAddress);
        using var local = LoopbackClient.Create(App.BaseAddress);
        // A local client spends its own budget and more while claiming, in every header, to be the remote one.
        for (int i = 0; i < Permits + 2; i++)
        {
            await BadRefreshAsync(local, remote.Address.ToString());
        }
        await ProblemAssert.IsProblemAsync(await BadRefreshAsync(local, remote.Address.ToString()), HttpStatusCode.TooManyRequests);

        // The remote client's budget is whole, and made-up addresses (one per request) do not add to it.
        string[] claims = ["198.51.100.1", "198.51.100.2, 203.0.113.9", local.Address.ToString()];
        foreach (string claim in claims)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await BadRefreshAsync(remote, claim)).StatusCode);
        }
        foreach (string claim in (string[])["198.51.100.3", "2001:db8::7", "unknown"])
        {
            await ProblemAssert.IsProblemAsync(await BadRefreshAsync(remote, claim), HttpStatusCode.TooManyRequests);
        }
    }

    /// <summary>A refresh with a token that was never issued: 401 within the client's budget, 429 beyond it.</summary>
    private static Task<HttpResponseMessage> BadRefreshAsync(LoopbackClient client, string claimedAddress) =>
        client.PostAsync("/api/refresh", new { refresh_token = "never-issued." + Guid.NewGuid().ToString("N") },
            headers: LoopbackClient.Claiming(claimedAddress));
}
