using AuthFunctions.Users;
using AuthFunctions.Tokens;
using AuthFunctions.Throttling;
using AuthFunctions.Federation;
using AuthFunctions.Mfa;
using AuthFunctions.Passkeys;

namespace AuthFunctions.Maintenance;

public readonly record struct CleanupReport(int ExpiredSessions, int StaleThrottleRows, bool MoreLeft, int ExpiredLinks = 0, int OldFeedRows = 0, int OrphanRows = 0, int ExpiredMfaRows = 0,
    int ExpiredFederationRows = 0)
{
    /// <summary>Passkey challenges past their five minutes.</summary>
    public int ExpiredPasskeyChallenges { get; init; }

    /// <summary>One line: the kinds every deployment has, then the sign-in features' one-time rows, then whether more are left.</summary>
    public override string ToString() =>
        $"cleanup: deleted {ExpiredSessions} expired sessions, {ExpiredLinks} expired email links, {StaleThrottleRows} stale throttle rows, {OldFeedRows} old revocation feed rows and {OrphanRows} rows of deleted accounts" +
        $"; {ExpiredMfaRows} expired mfa_tokens and unconfirmed enrolments, {ExpiredPasskeyChallenges} expired passkey challenges, {ExpiredFederationRows} expired sign-in states, login codes and link tickets" +
        (MoreLeft ? "; more left for the next run" : "");
}

/// <summary>
/// Deletes dead security material in bounded batches (each run at most <see cref="MaxRowsPerKind"/> rows of
/// each kind, so one invocation stays short; the next run takes the rest): sessions whose refresh token
/// expired (with their refresh-token hashes), expired email links, throttle counters with nothing left to enforce,
/// revocation feed rows older than any access token they could refuse (<see cref="RevocationFeed.EntryLifetime"/>)
/// plus a margin of a few minutes, so a fresh instance's first read still finds everything it needs, and rows left in
/// the partition of an account whose profile is gone (a deletion that failed part-way).
/// </summary>
public sealed partial class CleanupService(
    SessionStore sessions, LinkTokenStore links, UserStore users, LoginThrottle throttle, RevocationStore revocations, RevocationFeed feed, FederationFlowStore federationFlows, TimeProvider clock, ILogger<CleanupService> logger,
    MfaStore mfa,
    PasskeyChallengeStore passkeyChallenges)
{
    public const int MaxRowsPerKind = 1000;

    /// <summary>Kept on top of the feed's entry lifetime: instances whose clocks run behind ours still find their window.</summary>
    public static readonly TimeSpan FeedMargin = TimeSpan.FromMinutes(5);

    public async Task<CleanupReport> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var expired = await sessions.DeleteExpiredAsync(now, MaxRowsPerKind, cancellationToken);
        var expiredLinks = await links.DeleteExpiredAsync(now, MaxRowsPerKind, cancellationToken);
        var stale = await throttle.DeleteStaleAsync(now, MaxRowsPerKind, cancellationToken);
        var feedRows = await revocations.DeleteBeforeAsync(now - feed.EntryLifetime - FeedMargin, MaxRowsPerKind, cancellationToken);
        var orphans = await users.DeleteOrphanRowsAsync(MaxRowsPerKind, cancellationToken);
        var expiredMfa = await mfa.DeleteExpiredAsync(now, MaxRowsPerKind, cancellationToken);
        var federationRows = await federationFlows.DeleteExpiredAsync(now, MaxRowsPerKind, cancellationToken);
        var report = new CleanupReport(expired, stale, new[] { expired, stale, expiredLinks, feedRows, orphans, expiredMfa, federationRows }.Any(count => count == MaxRowsPerKind),
            expiredLinks, feedRows, orphans, expiredMfa, federationRows);
        LogCleaned(report.ExpiredSessions, report.ExpiredLinks, report.StaleThrottleRows, report.OldFeedRows, report.OrphanRows);
        LogCleanedMfa(report.ExpiredMfaRows);
        LogFederationCleaned(federationRows);
        report = await CleanPasskeyChallengesAsync(report, now, cancellationToken);
        return report;
    }

    private async Task<CleanupReport> CleanPasskeyChallengesAsync(CleanupReport report, DateTimeOffset now, CancellationToken cancellationToken)
    {
        int expired = await passkeyChallenges.DeleteExpiredAsync(now, MaxRowsPerKind, cancellationToken);
        LogPasskeyChallengesCleaned(expired);
        return report with { ExpiredPasskeyChallenges = expired, MoreLeft = report.MoreLeft || expired == MaxRowsPerKind };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cleanup deleted {Challenges} expired passkey challenges.")]
    private partial void LogPasskeyChallengesCleaned(int challenges);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cleanup deleted {Sessions} expired sessions, {Links} expired email links, {ThrottleRows} stale throttle rows, {FeedRows} old revocation feed rows and {OrphanRows} rows of deleted accounts.")]
    private partial void LogCleaned(int sessions, int links, int throttleRows, int feedRows, int orphanRows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cleanup deleted {MfaRows} expired mfa_tokens and unconfirmed authenticator enrolments.")]
    private partial void LogCleanedMfa(int mfaRows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cleanup deleted {FederationRows} expired sign-in states, login codes and link tickets.")]
    private partial void LogFederationCleaned(int federationRows);
}
