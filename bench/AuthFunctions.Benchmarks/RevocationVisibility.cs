using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// Two instances over one storage, both in the default feed mode: log out on A, then call protected on B
/// until it answers 401. The time between is what a revocation takes to reach another instance (target:
/// within 2 × Auth__RevocationPollMilliseconds, 1 s by default). Bounded: each sample gives up after 10 s.
/// </summary>
internal static class RevocationVisibility
{
    public static async Task RunAsync(Stack stack, int samples)
    {
        using var first = stack.StartApp();
        using var second = stack.StartApp();
        using var a = Stack.Client(first);
        using var b = Stack.Client(second);
        await Stack.WaitReadyAsync(a);
        await Stack.WaitReadyAsync(b);
        // Past B's first poll, which must cover an access-token lifetime before B trusts its feed.
        await Task.Delay(TimeSpan.FromSeconds(3));

        var latencies = new List<double>();
        for (int i = 0; i < samples; i++)
        {
            var (access, _) = await Stack.RegisterAndLoginAsync(a, $"visibility-{Guid.NewGuid():N}@example.com", "benchmark password");
            if (await StatusAsync(b, access) != HttpStatusCode.OK)
            {
                throw new InvalidOperationException("a fresh token was refused on the other instance");
            }
            using var logout = new HttpRequestMessage(HttpMethod.Post, "/api/logout") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", access) } };
            var watch = Stopwatch.StartNew();
            if ((await a.SendAsync(logout)).StatusCode != HttpStatusCode.NoContent)
            {
                throw new InvalidOperationException("logout failed");
            }
            while (await StatusAsync(b, access) == HttpStatusCode.OK && watch.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(5);
            }
            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }
        latencies.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench=revocation_visibility samples={samples} median_ms={latencies[latencies.Count / 2]:0} max_ms={latencies[^1]:0} poll_ms=1000 target_max_ms<=2000"));
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string access)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/protected") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", access) } };
        return (await client.SendAsync(request)).StatusCode;
    }
}
