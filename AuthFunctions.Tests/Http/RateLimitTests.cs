using System.Globalization;
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
        for (int i = 0; i < Permits; i++)
        {
            await CallAsync("POST", "/api/login");
        }
        (await CallAsync("POST", "/API/LOGIN")).AssertProblem(429);

        Assert.NotEqual(429, (await CallAsync("POST", "/api/register")).Status);
        Assert.NotEqual(429, (await CallAsync("POST", "/api/refresh")).Status);
    }
}

/// <summary>The client part of the key: one address however it is written, and one IPv6 /64 network.</summary>
public sealed class RateLimitClientKeyTests(AppFixture fixture) : AppTestBase(fixture)
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["RateLimit:PermitsPerMinute"] = "2" };

    private Task<RawResponse> LoginFromAsync(string forwardedFor) =>
        RawHttp.SendAsync(App.BaseAddress, "POST", "/api/login", "{}", new Dictionary<string, string> { ["X-Forwarded-For"] = forwardedFor });

    [Fact]
    public async Task AnIPv4AddressWrittenAsIPv6IsTheSameClient()
    {
        await LoginFromAsync("203.0.113.7");
        await LoginFromAsync("::ffff:203.0.113.7");

        (await LoginFromAsync("203.0.113.7")).AssertProblem(429);
        (await LoginFromAsync("::ffff:203.0.113.7")).AssertProblem(429);
        Assert.NotEqual(429, (await LoginFromAsync("203.0.113.8")).Status);
    }

    [Fact]
    public async Task AddressesOfOneIPv6SlashSixtyFourAreOneClient()
    {
        // One subscriber usually holds a whole /64 and can pick any address in it (RFC 6177).
        await LoginFromAsync("2001:db8:1:2::1");
        await LoginFromAsync("2001:db8:1:2:aaaa::7");

        (await LoginFromAsync("2001:db8:1:2:ffff:ffff:ffff:ffff")).AssertProblem(429);
        Assert.NotEqual(429, (await LoginFromAsync("2001:db8:1:3::1")).Status);
    }
}
