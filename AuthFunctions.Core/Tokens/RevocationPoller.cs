using AuthFunctions.Storage;

namespace AuthFunctions.Tokens;

/// <summary>
/// Reads the revocation feed's newest rows every <c>Auth__RevocationPollMilliseconds</c>: one query per
/// instance per interval, whatever the traffic. The interval is real time (a poll is about storage,
/// not about token time), so tests that move the app's clock do not move it.
/// </summary>
public sealed class RevocationPoller(RevocationFeed feed) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!feed.Enabled)
        {
            return;
        }
        using var timer = new PeriodicTimer(feed.PollInterval, TimeProvider.System);
        do
        {
            try
            {
                await feed.PollAsync(stoppingToken);
            }
            catch (TableStorageException)
            {
                // Logged by the feed; the next tick tries again, and staleness makes protected calls read storage meanwhile.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
