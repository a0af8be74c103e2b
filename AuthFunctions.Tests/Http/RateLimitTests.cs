using System.Globalization;
using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// One budget per client and function, whatever spelling of the path reaches it: routing ignores
/// case and a trailing slash, and the server decodes percent-encoded letters.
/// </summary>
public sealed class RateLimitPerFunctionTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int Permits = 3;

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["RateLimit:PermitsPerMinute"] = Permits.ToString(CultureInfo.InvariantCulture) };

    /// <summary>Spellings routing sends to the same function as <paramref name="path"/> (<c>/api/name</c>).</summary>
    private static string[] Spellings(string path)
    {
        string name = path["/api/".Length..];
        string encodedFirst = $"%{(int)name[0]:X2}" + name[1..];
        return
        [
            path,
            path.ToUpperInvariant(),
            "/Api/" + char.ToUpperInvariant(name[0]) + name[1..],
            path + "/",
            path.ToUpperInvariant() + "/",
            "/api/" + encodedFirst,
            "/api/" + encodedFirst.ToLowerInvariant(),
            "/API/" + encodedFirst.ToUpperInvariant() + "/",
        ];
    }

    private Task<RawResponse> CallAsync(string method, string target) =>
        RawHttp.SendAsync(App.BaseAddress, method, target, method == "POST" ? "{}" : null);

    [Theory]
    [InlineData("POST", "/api/register", 1)]
    [InlineData("POST", "/api/login", 1)]
    [InlineData("POST", "/api/refresh", 1)]
    [InlineData("POST", "/api/password", 1)]
    [InlineData("POST", "/api/logout", 1)]
    [InlineData("GET", "/api/health", 10)]
    public async Task EverySpellingOfAFunctionSharesOneBudget(string method, string path, int multiple)
    {
        var spellings = Spellings(path);
        int budget = Permits * multiple;
        for (int i = 0; i < budget; i++)
        {
            var served = await CallAsync(method, spellings[i % spellings.Length]);
            Assert.True(served.Status != 429, $"request {i + 1} of {budget} ({spellings[i % spellings.Length]}) was refused");
        }

        foreach (string spelling in spellings)
        {
            var refused = await CallAsync(method, spelling);
            refused.AssertProblem(429);
            Assert.True(int.Parse(refused.Headers["Retry-After"], CultureInfo.InvariantCulture) is > 0 and <= 60);
        }
    }

    [Fact]
    public async Task AnotherFunctionKeepsItsOwnBudget()
    {
        // A client of its own: the theory above spends 127.0.0.1's budgets of these functions in this same app.
        using var client = LoopbackClient.Create(App.BaseAddress);
        for (int i = 0; i < Permits; i++)
        {
            Assert.NotEqual(HttpStatusCode.TooManyRequests, (await client.PostAsync("/api/login", new { })).StatusCode);
        }
        await ProblemAssert.IsProblemAsync(await client.PostAsync("/API/LOGIN", new { }), HttpStatusCode.TooManyRequests);

        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await client.PostAsync("/api/register", new { })).StatusCode);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await client.PostAsync("/api/refresh", new { })).StatusCode);
    }
}

// Which addresses are one client (an IPv4 address written as IPv6, the addresses of one IPv6 /64) is pure logic, tested
// in Unit/ClientKeyTests: through the host a client cannot choose the address the worker sees (RateLimitTests).
