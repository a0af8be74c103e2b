using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// Two instances through the Functions host (two hosts, each with its worker) over one storage, both in the default feed mode: log out on A, then call protected on B
/// until it answers 401. The time between is what a revocation takes to reach another instance (target:
/// within 2 × Auth__RevocationPollMilliseconds, 1 s by default). Bounded: each sample gives up after 10 s.
/// </summary>
internal static class RevocationVisibility
{
    public static async Task<(double MedianMs, double MaxMs)> RunAsync(Stack stack, int samples)
    {
        // Started together (neither start is measured here); if one fails, the stack ends the other.
        var instances = await Task.WhenAll(stack.StartProductAsync(), stack.StartProductAsync());
        using var first = instances[0];
        using var second = instances[1];
        using var a = Stack.Client(first);
        using var b = Stack.Client(second);
        // Past B's first poll, which must cover an access-token lifetime before B trusts its feed.
        await Task.Delay(TimeSpan.FromSeconds(3));

        var latencies = new List<double>();
        for (int i = 0; i < samples; i++)
        {
            var (access, _) = await Stack.RegisterAndLoginAsync(a, $"visibility-{Guid.NewGuid():N}@example.com", Stack.BenchmarkPassword);
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
        var (median, max) = (latencies[latencies.Count / 2], latencies[^1]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench=revocation_visibility samples={samples} median_ms={median:0} max_ms={max:0} poll_ms=1000 target_max_ms<=2000"));
        return (median, max);
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string access)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/protected") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", access) } };
        return (await client.SendAsync(request)).StatusCode;
    }
}
