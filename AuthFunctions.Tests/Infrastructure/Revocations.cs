using System.Diagnostics;
using System.Net;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>Waiting for the revocation feed: poll an instance until it answers as expected, with a deadline and no fixed sleeps.</summary>
public static class Revocations
{
    /// <summary>The feed's state lives in the worker process: tests that read it are skipped (see TestApp.Services).</summary>
    public static AuthFunctions.Tokens.RevocationFeed Feed(this TestApp app) => app.Services.GetRequiredService<AuthFunctions.Tokens.RevocationFeed>();

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

    /// <summary>
    /// Waits until the instance's feed has had time to cover an access-token lifetime: its first poll, one poll interval
    /// after start, with a margin of another (the feed's own state is in the worker process, out of the test's reach).
    /// </summary>
    public static Task CoveredAsync(this TestApp app) => Task.Delay(app.RevocationPollInterval * 2 + TimeSpan.FromMilliseconds(500));

    /// <summary>Waits long enough for a poll that starts after now to complete (two intervals and a margin).</summary>
    public static Task NextPollAsync(this TestApp app) => Task.Delay(app.RevocationPollInterval * 2 + TimeSpan.FromMilliseconds(500));
}
