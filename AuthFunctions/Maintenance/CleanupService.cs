using AuthFunctions.Auth;
using AuthFunctions.Users;

namespace AuthFunctions.Maintenance;

public readonly record struct CleanupReport(int ExpiredSessions, int StaleThrottleRows, bool MoreLeft, int ExpiredLinks = 0)
{
    public override string ToString() =>
        $"cleanup: deleted {ExpiredSessions} expired sessions, {ExpiredLinks} expired email links and {StaleThrottleRows} stale throttle rows{(MoreLeft ? "; more left for the next run" : "")}";
}

/// <summary>
/// Deletes dead security material in bounded batches (each run at most <see cref="MaxRowsPerKind"/> rows of
/// each kind, so one invocation stays short; the next run takes the rest): sessions whose refresh token
/// expired (with their refresh-token hashes), expired email links, and throttle counters with nothing left to enforce.
/// </summary>
public sealed partial class CleanupService(SessionStore sessions, LinkTokenStore links, LoginThrottle throttle, TimeProvider clock, ILogger<CleanupService> logger)
{
    public const int MaxRowsPerKind = 1000;

    public async Task<CleanupReport> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var expired = await sessions.DeleteExpiredAsync(now, MaxRowsPerKind, cancellationToken);
        var expiredLinks = await links.DeleteExpiredAsync(now, MaxRowsPerKind, cancellationToken);
        var stale = await throttle.DeleteStaleAsync(now, MaxRowsPerKind, cancellationToken);
        var report = new CleanupReport(expired, stale, expired == MaxRowsPerKind || stale == MaxRowsPerKind || expiredLinks == MaxRowsPerKind, expiredLinks);
        LogCleaned(report.ExpiredSessions, report.ExpiredLinks, report.StaleThrottleRows);
        return report;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cleanup deleted {Sessions} expired sessions, {Links} expired email links and {ThrottleRows} stale throttle rows.")]
    private partial void LogCleaned(int sessions, int links, int throttleRows);
}
