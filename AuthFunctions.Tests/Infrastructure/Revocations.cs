using System.Diagnostics;
using System.Net;
using AuthFunctions.Auth;
using Microsoft.Extensions.DependencyInjection;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>Waiting for the revocation feed: poll an instance until it answers as expected, with a deadline and no fixed sleeps.</summary>
public static class Revocations
{
    public static RevocationFeed Feed(this TestApp app) => app.Services.GetRequiredService<RevocationFeed>();

    /// <summary>Calls <c>protected</c> on <paramref name="app"/> until it refuses the token; fails if that takes longer than <paramref name="within"/>.</summary>
    public static async Task<TimeSpan> RefusedWithinAsync(this TestApp app, string accessToken, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
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

    /// <summary>Waits until the instance's feed has covered an access-token lifetime (its first successful poll).</summary>
    public static async Task CoveredAsync(this TestApp app, TimeSpan? within = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!app.Feed().Covered)
        {
            Assert.True(deadline.Elapsed <= (within ?? TimeSpan.FromSeconds(10)), "the revocation feed was never read");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits for the next successful poll to complete (every poll started before it returns is done).</summary>
    public static async Task NextPollAsync(this TestApp app)
    {
        var feed = app.Feed();
        long polls = feed.Polls;
        var deadline = Stopwatch.StartNew();
        while (feed.Polls < polls + 2)
        {
            Assert.True(deadline.Elapsed <= TimeSpan.FromSeconds(10), "the revocation feed stopped being read");
            await Task.Delay(20);
        }
    }
}
