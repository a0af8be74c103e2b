using System.Diagnostics;
using System.Net;
using AuthFunctions.Tokens;
using AuthFunctions.Tests.Probe;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>An instance's revocation feed as its metrics show it (<c>authfunctions.revocation.*</c>, read through the probe).</summary>
public sealed record FeedState(bool Covered, long Polls, int Count, int Capacity, TimeSpan EntryLifetime)
{
    internal static FeedState From(IReadOnlyList<ProbeRecord> observations)
    {
        double Value(string instrument) =>
            observations.SingleOrDefault(o => o.Instrument == instrument)?.Value
            ?? throw new InvalidOperationException($"The worker's probe has no observation of {instrument}.");
        return new FeedState(Value(RevocationFeed.CoveredInstrument) == 1, (long)Value(RevocationFeed.PollsInstrument),
            (int)Value(RevocationFeed.EntriesInstrument), (int)Value(RevocationFeed.CapacityInstrument),
            TimeSpan.FromSeconds(Value(RevocationFeed.EntryLifetimeInstrument)));
    }
}

/// <summary>Waiting for the revocation feed: poll an instance until it answers as expected, with a deadline and no fixed sleeps.</summary>
public static class Revocations
{
    /// <summary>The feed's state now: observed by the worker after this call started.</summary>
    public static async Task<FeedState> FeedAsync(this TestApp app) => FeedState.From(await app.Probe.ObserveAsync());

    /// <summary>
    /// Calls <c>protected</c> on <paramref name="app"/> until it refuses the token; fails if that takes longer than
    /// <paramref name="within"/>, counted from <paramref name="since"/> (the revocation's answer) or else from now.
    /// </summary>
    public static async Task<TimeSpan> RefusedWithinAsync(this TestApp app, string accessToken, TimeSpan within, Stopwatch? since = null)
    {
        var watch = since ?? Stopwatch.StartNew();
        while (true)
        {
            var response = await app.GetAsync("/api/protected", accessToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                await ProblemAssert.IsInvalidTokenAsync(response);
                return watch.Elapsed;
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(watch.Elapsed <= within, $"still accepted after {watch.Elapsed.TotalMilliseconds:0} ms (bound {within.TotalMilliseconds:0} ms)");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until the instance's feed covers an access-token lifetime (its first successful read).</summary>
    public static Task CoveredAsync(this TestApp app) =>
        app.WaitForFeedAsync(feed => feed.Covered, "covered");

    /// <summary>Waits until one more read of the feed completes: right after it, the instance's map is as fresh as it gets.</summary>
    public static async Task JustPolledAsync(this TestApp app)
    {
        long polls = (await app.FeedAsync()).Polls;
        await app.WaitForFeedAsync(feed => feed.Polls > polls, $"read once after read {polls}");
    }

    /// <summary>Waits until a read of the feed that started after now has completed: two more completed reads than now (one may be under way).</summary>
    public static async Task NextPollAsync(this TestApp app)
    {
        long polls = (await app.FeedAsync()).Polls;
        await app.WaitForFeedAsync(feed => feed.Polls >= polls + 2, $"read twice after read {polls}");
    }

    /// <summary>Waits (watching the worker's observations, every 20 ms) until the feed's state satisfies <paramref name="condition"/>.</summary>
    private static async Task WaitForFeedAsync(this TestApp app, Func<FeedState, bool> condition, string what)
    {
        var timeout = TimeSpan.FromSeconds(30) + app.RevocationPollInterval * 3;
        var watch = Stopwatch.StartNew();
        var feed = await app.FeedAsync();
        while (!condition(feed))
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"The revocation feed was not {what} within {timeout.TotalSeconds:0} s: {feed}");
            }
            await Task.Delay(10);
            feed = FeedState.From(app.Probe.Observations);
        }
    }
}
