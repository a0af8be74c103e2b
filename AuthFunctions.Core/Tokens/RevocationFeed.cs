using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AuthFunctions.Storage;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tokens;

/// <summary>
/// This instance's copy of the revocation feed, so that a protected call needs no storage read
/// (<c>Auth__RevocationMode=feed</c>). Every revocation, on any instance, appends a row to the
/// <c>revocations</c> table (<see cref="RevocationStore"/>); <see cref="RevocationPoller"/> reads the newest
/// rows every <c>Auth__RevocationPollMilliseconds</c>, so a revocation made anywhere is refused here within
/// <see cref="Bound"/>, two poll intervals. The map holds two kinds of facts, both final (session ids are never reused, epochs
/// only grow): "session S ended" and "user U's epoch is E, keeping session K". An entry is dropped once every
/// access token it could refuse has expired, which bounds the memory.
/// <para>
/// Fail closed: until the first successful read covering a whole access-token lifetime (a fresh instance
/// must not miss revocations made before it started), whenever the last successful read started more than
/// <see cref="Bound"/> ago (whatever storage does: down, hanging, or out of this instance's reach), after the map
/// overflowed, and for tokens without the epoch claim, <see cref="CanDecide"/> is false and the caller reads storage
/// per request, as in read mode.
/// </para>
/// <para>
/// Its state is published as metrics (meter <see cref="MeterName"/>): <see cref="PollsInstrument"/>,
/// <see cref="EntriesInstrument"/>, <see cref="CapacityInstrument"/>, <see cref="CoveredInstrument"/>,
/// <see cref="EntryLifetimeInstrument"/>, <see cref="ReadDurationInstrument"/> and <see cref="AgeInstrument"/>.
/// </para>
/// </summary>
public sealed partial class RevocationFeed
{
    public const string MeterName = "AuthFunctions.Revocations";

    /// <summary>Successful reads of the feed so far (observable counter).</summary>
    public const string PollsInstrument = "authfunctions.revocation.polls";

    /// <summary>Live entries in this instance's map (observable gauge).</summary>
    public const string EntriesInstrument = "authfunctions.revocation.entries";

    /// <summary>The most entries the map holds (<c>Auth__RevocationMaxEntries</c>; observable gauge).</summary>
    public const string CapacityInstrument = "authfunctions.revocation.capacity";

    /// <summary>1 once a read covered a whole access-token lifetime back from this instance's start, else 0 (observable gauge).</summary>
    public const string CoveredInstrument = "authfunctions.revocation.covered";

    /// <summary>How long an entry is kept, in seconds (observable gauge).</summary>
    public const string EntryLifetimeInstrument = "authfunctions.revocation.entry_lifetime";

    /// <summary>How long each successful read of the feed took, in seconds (histogram).</summary>
    public const string ReadDurationInstrument = "authfunctions.revocation.read_duration";

    /// <summary>
    /// How old the map had grown when a read made it fresh again, in seconds (histogram): from the previous successful
    /// read's start to this one's end. Above <see cref="Bound"/>, protected calls read storage meanwhile.
    /// </summary>
    public const string AgeInstrument = "authfunctions.revocation.age";

    /// <summary>Allowance for the writers' clocks being behind ours (NTP keeps cloud hosts within milliseconds; this is generous).</summary>
    private static readonly TimeSpan ClockAllowance = TimeSpan.FromSeconds(5);

    private readonly RevocationStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<RevocationFeed> _logger;
    private readonly ConcurrentDictionary<(string UserId, string SessionId), DateTimeOffset> _endedSessions = new();
    private readonly ConcurrentDictionary<string, EpochMove> _epochs = new(StringComparer.Ordinal);
    private readonly Lock _applyLock = new();
    private readonly long _boundTicks;
    private readonly Histogram<double> _readDuration;
    private readonly Histogram<double> _age;
    private DateTimeOffset? _cursor;
    private long _lastReadStarted;
    private long _incompleteUntilTicks;
    private bool _failing;
    private long _polls;

    public RevocationFeed(RevocationStore store, IOptions<AuthOptions> options, IOptions<StorageOptions> storage, TimeProvider clock,
        IMeterFactory meters, ILogger<RevocationFeed> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(meters);
        _store = store;
        _clock = clock;
        _logger = logger;
        var auth = options.Value;
        Enabled = auth.UsesRevocationFeed;
        PollInterval = TimeSpan.FromMilliseconds(auth.RevocationPollMilliseconds);
        Bound = 2 * PollInterval;
        _boundTicks = Bound.Ticks;
        // A row can become visible up to one storage operation after the time it carries (a slow write),
        // and its writer's clock may be a little behind ours: every read goes back this far again.
        Overlap = TimeSpan.FromSeconds(storage.Value.OperationTimeoutSeconds) + ClockAllowance;
        // Tokens an entry can refuse were issued before the revocation (or within the overlap of it, by a
        // refresh racing it) and are accepted until exp + skew.
        EntryLifetime = TimeSpan.FromMinutes(auth.AccessTokenMinutes) + TimeSpan.FromSeconds(auth.ClockSkewSeconds) + Overlap;
        Capacity = auth.RevocationMaxEntries;

        var meter = meters.Create(MeterName);
        meter.CreateObservableCounter(PollsInstrument, () => Polls, unit: "{read}", description: "Successful reads of the revocation feed by this instance.");
        meter.CreateObservableGauge(EntriesInstrument, () => Count, unit: "{entry}", description: "Live revocations in this instance's map.");
        meter.CreateObservableGauge(CapacityInstrument, () => Capacity, unit: "{entry}",
            description: "The most revocations the map holds (Auth__RevocationMaxEntries); beyond it protected calls read storage.");
        meter.CreateObservableGauge(CoveredInstrument, () => Covered ? 1 : 0,
            description: "1 once a read of the feed covered a whole access-token lifetime back from this instance's start.");
        meter.CreateObservableGauge(EntryLifetimeInstrument, () => EntryLifetime.TotalSeconds, unit: "s", description: "How long a revocation is kept in the map.");
        _readDuration = meter.CreateHistogram<double>(ReadDurationInstrument, unit: "s", description: "How long each successful read of the revocation feed took.");
        _age = meter.CreateHistogram<double>(AgeInstrument, unit: "s",
            description: "How old this instance's map had grown when a read made it fresh; above twice the poll interval, protected calls read storage meanwhile.");
    }

    public bool Enabled { get; }

    public TimeSpan PollInterval { get; }

    /// <summary>
    /// Two poll intervals: the longest a revocation made on another instance is accepted here. The map decides only
    /// while its last successful read started less than this long ago; a read starting after the revocation's row was
    /// written sees it, so a token accepted from the map was accepted less than this long after the revocation answered.
    /// Healthy reads start every <see cref="PollInterval"/>, so the map goes stale only when a read takes longer than
    /// a whole interval (or fails): the interval is the headroom.
    /// </summary>
    public TimeSpan Bound { get; }

    /// <summary>How far back each read goes again, and the margin on top of the token lifetime.</summary>
    public TimeSpan Overlap { get; }

    /// <summary>How long a revocation matters: the longest an access token it refuses can still be accepted. Also how far back a fresh instance reads.</summary>
    public TimeSpan EntryLifetime { get; }

    /// <summary>True once a read covered a whole access-token lifetime back from this instance's start.</summary>
    public bool Covered => Volatile.Read(ref _lastReadStarted) != 0;

    public int Count => _endedSessions.Count + _epochs.Count;

    /// <summary>
    /// <c>Auth__RevocationMaxEntries</c>: beyond this many entries the map stops growing and the instance reads storage
    /// until the overflow has aged out.
    /// </summary>
    public int Capacity { get; }

    /// <summary>Successful reads so far.</summary>
    public long Polls => Interlocked.Read(ref _polls);

    /// <summary>Whether this token's liveness can be decided from the map alone, now.</summary>
    public bool CanDecide(AccessTokenClaims claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (!Enabled || claims.SessionEpoch is null)
        {
            return false;
        }
        long lastRead = Volatile.Read(ref _lastReadStarted);
        // Real elapsed time, on purpose: staleness is about when storage last answered, not token time.
        return lastRead != 0 && TimeProvider.System.GetElapsedTime(lastRead).Ticks < _boundTicks &&
            _clock.GetUtcNow().UtcTicks >= Interlocked.Read(ref _incompleteUntilTicks);
    }

    /// <summary>True if the feed says the token's session ended or its epoch was left behind (and it is not the session kept).</summary>
    public bool IsRevoked(AccessTokenClaims claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (_endedSessions.ContainsKey((claims.UserId, claims.SessionId)))
        {
            return true;
        }
        return _epochs.TryGetValue(claims.UserId, out var move) &&
            (claims.SessionEpoch ?? -1) < move.Epoch && !string.Equals(claims.SessionId, move.KeptSessionId, StringComparison.Ordinal);
    }

    /// <summary>
    /// Appends the revocation to the feed, then applies it here at once (what reading it back would do).
    /// Callers publish before the storage write that revokes where they can (see <c>SessionService</c>).
    /// In read mode the row is written all the same, so instances switched to feed mode miss nothing.
    /// </summary>
    public async Task PublishAsync(Revocation revocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(revocation);
        await _store.AppendAsync(revocation, cancellationToken);
        if (Enabled)
        {
            Apply(revocation);
        }
    }

    /// <summary>One read of the feed's newest rows: since the previous read's start less the overlap, or a whole entry lifetime back the first time.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        long started = TimeProvider.System.GetTimestamp();
        var now = _clock.GetUtcNow();
        var since = _cursor is { } cursor ? cursor - Overlap : now - EntryLifetime;
        IReadOnlyList<Revocation> rows;
        try
        {
            rows = await _store.ReadSinceAsync(since, cancellationToken);
        }
        catch (TableStorageException failure)
        {
            if (!_failing)
            {
                _failing = true;
                LogReadFailed(failure.Message);
            }
            throw;
        }
        foreach (var row in rows)
        {
            Apply(row);
        }
        Prune(now);
        _cursor = now;
        long previous = Volatile.Read(ref _lastReadStarted);
        Volatile.Write(ref _lastReadStarted, started);
        Interlocked.Increment(ref _polls);
        _readDuration.Record(TimeProvider.System.GetElapsedTime(started).TotalSeconds);
        if (previous != 0)
        {
            _age.Record(TimeProvider.System.GetElapsedTime(previous).TotalSeconds);
        }
        if (_failing)
        {
            _failing = false;
            LogReadRecovered();
        }
    }

    private void Apply(Revocation revocation)
    {
        var expires = revocation.At + EntryLifetime;
        if (expires <= _clock.GetUtcNow())
        {
            return;
        }
        lock (_applyLock)
        {
            if (revocation.Kind == RevocationKind.Session)
            {
                if (revocation.SessionId is null)
                {
                    return;
                }
                var key = (revocation.UserId, revocation.SessionId);
                if (_endedSessions.TryGetValue(key, out var known))
                {
                    _endedSessions[key] = Max(known, expires);
                }
                else if (HasRoom(expires))
                {
                    _endedSessions[key] = expires;
                }
                return;
            }
            var move = new EpochMove(revocation.Epoch, revocation.Kind == RevocationKind.User ? null : revocation.SessionId, expires);
            if (_epochs.TryGetValue(revocation.UserId, out var current))
            {
                // The highest epoch decides (a session kept at an earlier move but not at this one ended with it);
                // the entry lives as long as the longest-lived of the rows behind it.
                var later = current.Epoch >= move.Epoch ? current : move;
                _epochs[revocation.UserId] = later with { ExpiresAt = Max(current.ExpiresAt, expires) };
            }
            else if (HasRoom(expires))
            {
                _epochs[revocation.UserId] = move;
            }
        }
    }

    // Never drop a revocation to make room: refuse to decide locally until the one not kept has aged out.
    private bool HasRoom(DateTimeOffset expires)
    {
        if (Count < Capacity)
        {
            return true;
        }
        if (Interlocked.Read(ref _incompleteUntilTicks) < expires.UtcTicks)
        {
            Interlocked.Exchange(ref _incompleteUntilTicks, expires.UtcTicks);
            LogOverflow(Capacity);
        }
        return false;
    }

    private void Prune(DateTimeOffset now)
    {
        lock (_applyLock)
        {
            foreach (var (key, expires) in _endedSessions)
            {
                if (expires <= now)
                {
                    _endedSessions.TryRemove(key, out _);
                }
            }
            foreach (var (userId, move) in _epochs)
            {
                if (move.ExpiresAt <= now)
                {
                    _epochs.TryRemove(userId, out _);
                }
            }
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private sealed record EpochMove(int Epoch, string? KeptSessionId, DateTimeOffset ExpiresAt);

    [LoggerMessage(Level = LogLevel.Warning, EventName = "RevocationFeedReadFailed", Message = "Could not read the revocation feed ({Reason}); protected calls read storage once its last read is two poll intervals old.")]
    private partial void LogReadFailed(string reason);

    [LoggerMessage(Level = LogLevel.Information, EventName = "RevocationFeedRecovered", Message = "The revocation feed is read again.")]
    private partial void LogReadRecovered();

    [LoggerMessage(Level = LogLevel.Warning, EventName = "RevocationFeedOverflow", Message = "More than {MaxEntries} live revocations: protected calls read storage until the excess has aged out.")]
    private partial void LogOverflow(int maxEntries);
}
