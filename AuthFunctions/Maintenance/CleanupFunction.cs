namespace AuthFunctions.Maintenance;

/// <summary>
/// The <c>cleanup</c> timer: deletes expired sessions, idle throttle rows, expired email links and old feed rows in
/// bounded batches. The schedule is the <c>Cleanup__Schedule</c> setting (NCRONTAB, every 15 minutes in the sample
/// settings and the Bicep); no RunOnStartup, which would fire on every scale-out.
/// </summary>
public sealed partial class CleanupFunction(CleanupService cleanup, ILogger<CleanupFunction> logger)
{
    [Function("cleanup")]
    public async Task Run([TimerTrigger("%Cleanup:Schedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timer);
        var report = await cleanup.RunAsync(cancellationToken);
        LogCleaned(report);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Report}.")]
    private partial void LogCleaned(CleanupReport report);
}
