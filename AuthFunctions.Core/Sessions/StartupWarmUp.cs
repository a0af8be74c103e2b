using System.Diagnostics.Metrics;
using AuthFunctions.Users;
using AuthFunctions.Tokens;

namespace AuthFunctions.Sessions;

/// <summary>
/// Pays the first request's one-off costs (the token library's first use, the storage client's first
/// request and connection) on the spare core while the host is still starting, so the first real
/// request of a cold instance does not. Readiness never waits for it, and its failures (storage still
/// down, say) only mean the first request pays those costs itself. Its duration is recorded once in
/// <see cref="DurationInstrument"/>, tagged <c>outcome</c> (<c>done</c> or <c>failed</c>).
/// </summary>
public sealed partial class StartupWarmUp(TokenService tokens, SessionStore sessions, TimeProvider clock, IMeterFactory meters, ILogger<StartupWarmUp> logger)
    : IHostedLifecycleService, IDisposable
{
    public const string MeterName = "AuthFunctions.Hosting";
    public const string DurationInstrument = "authfunctions.startup.warmup.duration";

    private readonly Histogram<double> _duration = meters.Create(MeterName).CreateHistogram<double>(
        DurationInstrument, unit: "s", description: "How long the start-up warm-up took, tagged with its outcome.");
    private readonly CancellationTokenSource _stopping = new();
    private Task _warmUp = Task.CompletedTask;

    /// <summary>Completes when the warm-up has run (whatever its outcome); for tests.</summary>
    public Task Completion => _warmUp;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        _warmUp = Task.Run(() => WarmUpAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _warmUp.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stopping.Dispose();

    private async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        long started = TimeProvider.System.GetTimestamp();
        string outcome = "failed";
        try
        {
            // An id no user can have (ours are random 128-bit values) and a token nobody receives.
            string nobody = new('0', 32);
            var placeholder = new UserProfile(nobody, "warm-up@invalid", null, clock.GetUtcNow(), null, 0);
            await tokens.ValidateAccessTokenAsync(tokens.CreateAccessToken(placeholder, nobody));
            // The same single-partition read the access-token check makes: it creates nothing.
            await sessions.GetStateAsync(nobody, nobody, cancellationToken);
            outcome = "done";
            LogWarmedUp();
        }
#pragma warning disable CA1031 // Any failure only means the first request pays the costs; it must never stop the app.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogWarmUpFailed(exception);
        }
        _duration.Record(TimeProvider.System.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up warm-up done.")]
    private partial void LogWarmedUp();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up warm-up stopped early; the first request pays those costs.")]
    private partial void LogWarmUpFailed(Exception exception);
}
