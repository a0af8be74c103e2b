using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// A bounded soak of one instance through the Functions host: workers loop register → login → protected ×3 → me →
/// refresh → logout → protected (which must now be 401) on loopback, for a fixed time and at most a fixed number of
/// flows, JSON bodies sent chunked as <c>PostAsJsonAsync</c> sends them. Fails (exit code 1) on any 5xx or unexpected
/// status; reports the host's and the worker's RSS at start and end.
/// </summary>
internal static class Soak
{
    public static async Task<bool> RunAsync(Stack stack, TimeSpan duration, int workers)
    {
        using var app = await stack.StartProductAsync(new Dictionary<string, string> { ["Auth__BcryptCost"] = "10" });
        using var client = Stack.Client(app);
        var warmUp = await FlowAsync(client, new ConcurrentDictionary<string, int>());
        double hostStart = app.HostMegabytes(), workerStart = app.WorkerMegabytes();

        var statuses = new ConcurrentDictionary<string, int>();
        var unexpected = new ConcurrentQueue<string>();
        int flows = 0;
        const int maxFlows = 100_000;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (clock.Elapsed < duration && Interlocked.Increment(ref flows) <= maxFlows)
            {
                foreach (var problem in await FlowAsync(client, statuses))
                {
                    unexpected.Enqueue(problem);
                }
            }
        }));
        // A token for later suites' first authenticated request to a new instance (the soak's own sessions are logged out).
        await stack.RegisterBenchmarkUserAsync(client, "soak");
        foreach (var problem in warmUp)
        {
            unexpected.Enqueue("warm-up: " + problem);
        }

        int completed = Math.Min(flows, maxFlows);
        int serverErrors = statuses.Where(kv => kv.Key.EndsWith(":5", StringComparison.Ordinal)).Sum(kv => kv.Value);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench=soak seconds={clock.Elapsed.TotalSeconds:0} workers={workers} flows={completed} requests={statuses.Values.Sum()} server_errors={serverErrors} unexpected={unexpected.Count} ") + string.Create(CultureInfo.InvariantCulture,
            $"host_rss_start_mb={hostStart:0.0} host_rss_end_mb={app.HostMegabytes():0.0} host_peak_rss_mb={app.HostMegabytes("VmHWM"):0.0} ") + string.Create(CultureInfo.InvariantCulture,
            $"worker_rss_start_mb={workerStart:0.0} worker_rss_end_mb={app.WorkerMegabytes():0.0} worker_peak_rss_mb={app.WorkerMegabytes("VmHWM"):0.0}"));
        foreach (var problem in unexpected.Take(10))
        {
            Console.WriteLine("soak_unexpected " + problem);
        }
        return unexpected.IsEmpty;
    }

    private static async Task<List<string>> FlowAsync(HttpClient client, ConcurrentDictionary<string, int> statuses)
    {
        var problems = new List<string>();
        string email = $"soak-{Guid.NewGuid():N}@example.com";
        const string password = "lighthouse otter paints the harbor";

        async Task<HttpResponseMessage> Expect(string name, HttpStatusCode expected, Func<Task<HttpResponseMessage>> call)
        {
            var response = await call();
            int code = (int)response.StatusCode;
            statuses.AddOrUpdate($"{name}:{code / 100}", 1, (_, n) => n + 1);
            if (response.StatusCode != expected)
            {
                problems.Add($"{name} expected {(int)expected} got {code}");
            }
            return response;
        }

        await Expect("register", HttpStatusCode.Created, () => client.PostAsJsonAsync("/api/register", new { email, password }));
        var login = await Expect("login", HttpStatusCode.OK, () => client.PostAsJsonAsync("/api/login", new { email, password }));
        if (login.StatusCode != HttpStatusCode.OK)
        {
            return problems;
        }
        var tokens = await login.Content.ReadFromJsonAsync<JsonElement>();
        string access = tokens.GetProperty("access_token").GetString()!;
        string refresh = tokens.GetProperty("refresh_token").GetString()!;
        for (int i = 0; i < 3; i++)
        {
            await Expect("protected", HttpStatusCode.OK, () => Send(client, HttpMethod.Get, "/api/protected", access));
        }
        await Expect("me", HttpStatusCode.OK, () => Send(client, HttpMethod.Get, "/api/me", access));
        var refreshed = await Expect("refresh", HttpStatusCode.OK, () => client.PostAsJsonAsync("/api/refresh", new { refresh_token = refresh }));
        if (refreshed.StatusCode == HttpStatusCode.OK)
        {
            access = (await refreshed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        }
        await Expect("logout", HttpStatusCode.NoContent, () => Send(client, HttpMethod.Post, "/api/logout", access));
        await Expect("after_logout", HttpStatusCode.Unauthorized, () => Send(client, HttpMethod.Get, "/api/protected", access));
        return problems;
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string token)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }
}
