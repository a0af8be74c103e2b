using AuthFunctions.Storage;

namespace AuthFunctions.Tokens;

/// <summary>
/// Reads the revocation feed's newest rows every <c>Auth__RevocationPollMilliseconds</c>: one query per
/// instance per interval, whatever the traffic. The interval is real time (a poll is about storage,
/// not about token time), so tests that move the app's clock do not move it. It never stops on a failed read: a
/// background service that throws stops the whole worker (the host's default), so every failure is logged and the
/// next tick tries again, while staleness makes protected calls read storage meanwhile.
/// </summary>
public sealed partial class RevocationPoller(RevocationFeed feed, ILogger<RevocationPoller> logger) : BackgroundService
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
#pragma warning disable CA1031 // Whatever a read throws, the poller must go on: see the summary.
            catch (Exception unexpected) when (!stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
            {
                LogPollFailed(unexpected.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Error, EventName = "RevocationFeedPollFailed", Message = "A read of the revocation feed failed unexpectedly ({ExceptionType}); the next poll tries again.")]
    private partial void LogPollFailed(string exceptionType);
}
