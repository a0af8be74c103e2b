using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>One request of a race: where it goes (an instance's base address) and how to build it.</summary>
public sealed record Racer(Uri BaseAddress, Func<HttpRequestMessage> Request)
{
    /// <summary>The loopback address the racer's connection leaves from (a client of its own, see <see cref="LoopbackClient"/>); null: 127.0.0.1.</summary>
    public System.Net.IPAddress? Source { get; init; }

    public static Racer Post(Uri baseAddress, string path, object? body, string? accessToken = null) => new(baseAddress, () =>
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }
        return request;
    });
}

/// <summary>A racer's answer and when (<see cref="Stopwatch"/> ticks) its request left and its answer was in.</summary>
public sealed record RaceEntry(HttpResponseMessage Response, long Sent, long Received)
{
    public bool Overlaps(RaceEntry other) => Sent < other.Received && other.Sent < Received;
}

public sealed class RaceResult(IReadOnlyList<RaceEntry> entries)
{
    public IReadOnlyList<RaceEntry> Entries { get; } = entries;

    public HttpResponseMessage[] Responses => [.. Entries.Select(e => e.Response)];

    /// <summary>The most requests in flight at one instant (an answer that came in at the tick another left counts first).</summary>
    public int MaxInFlight
    {
        get
        {
            int inFlight = 0, max = 0;
            foreach (var (_, delta) in Entries.SelectMany(e => new[] { (e.Sent, 1), (e.Received, -1) }).OrderBy(p => p.Item1).ThenBy(p => p.Item2))
            {
                inFlight += delta;
                max = Math.Max(max, inFlight);
            }
            return max;
        }
    }
}

/// <summary>
/// Requests that really race: every racer gets its own client with one connection, opened and warmed up (a request to
/// <c>/api/health</c>) before the race, then all of them are released at once from a barrier; the answers come back with
/// each request's send and receive times, so a test can show the requests were in flight together
/// (<see cref="RaceResult.MaxInFlight"/>), which requests sent one after another never are.
/// <para>
/// With <c>AUTHFUNCTIONS_RACE_SEQUENTIAL=1</c> in the environment every race sends its requests one after another instead:
/// the check that each race test proves its requests raced. Every test that uses <see cref="Race"/> must then fail.
/// </para>
/// </summary>
public static class Race
{
    public static bool Sequential => Environment.GetEnvironmentVariable("AUTHFUNCTIONS_RACE_SEQUENTIAL") == "1";

    public static async Task<RaceResult> RunAsync(IEnumerable<Racer> racers)
    {
        var list = racers.ToList();
        var clients = list.Select(r => new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            // A redirect is an answer to look at (the federation callback's), not one to follow.
            AllowAutoRedirect = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectCallback = r.Source is { } source ? LoopbackClient.ConnectFrom(source) : null,
        })
        { BaseAddress = r.BaseAddress, Timeout = TimeSpan.FromMinutes(2) }).ToList();
        try
        {
            await Task.WhenAll(clients.Select(async c => (await c.GetAsync("/api/health")).Dispose()));
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var requests = list.Select(r => r.Request()).ToList();
            async Task<RaceEntry> SendAsync(int i)
            {
                long sent = Stopwatch.GetTimestamp();
                var response = await clients[i].SendAsync(requests[i]);
                return new RaceEntry(response, sent, Stopwatch.GetTimestamp());
            }
            if (Sequential)
            {
                var entries = new List<RaceEntry>();
                for (int i = 0; i < list.Count; i++)
                {
                    entries.Add(await SendAsync(i));
                }
                return new RaceResult(entries);
            }
            var runs = list.Select(async (_, i) =>
            {
                await go.Task;
                return await SendAsync(i);
            }).ToList();
            go.SetResult();
            return new RaceResult(await Task.WhenAll(runs));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}
