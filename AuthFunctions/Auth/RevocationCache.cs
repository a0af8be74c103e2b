using System.Collections.Concurrent;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Auth;

/// <summary>
/// Optional short cache of live sessions for the access-token middleware (<c>Auth__RevocationCacheSeconds</c>,
/// 0 = off, the default). With it on, a revocation made on this instance applies at once, but one
/// made on another instance can take up to that many seconds to be seen here: a throughput-for-
/// latency trade each deployment chooses. Only live sessions are cached; a refusal is never cached.
/// </summary>
public sealed class RevocationCache(IOptions<AuthOptions> options, TimeProvider clock)
{
    private const int MaxEntries = 100_000;
    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(options.Value.RevocationCacheSeconds);
    private readonly ConcurrentDictionary<(string UserId, string SessionId), Entry> _live = new();
    private readonly ConcurrentDictionary<string, long> _userGenerations = new();

    public bool Enabled => _lifetime > TimeSpan.Zero;

    public bool TryGet(string userId, string sessionId, out UserProfile profile)
    {
        profile = null!;
        if (!Enabled || !_live.TryGetValue((userId, sessionId), out var entry))
        {
            return false;
        }
        if (entry.ExpiresAt <= clock.GetUtcNow() || entry.Generation != Generation(userId))
        {
            _live.TryRemove((userId, sessionId), out _);
            return false;
        }
        profile = entry.Profile;
        return true;
    }

    public void RememberLive(string userId, string sessionId, UserProfile profile)
    {
        if (!Enabled)
        {
            return;
        }
        if (_live.Count >= MaxEntries)
        {
            _live.Clear();
        }
        _live[(userId, sessionId)] = new Entry(profile, clock.GetUtcNow() + _lifetime, Generation(userId));
    }

    /// <summary>Drops everything cached for the user: called by every revocation made on this instance.</summary>
    public void Forget(string userId)
    {
        if (Enabled)
        {
            _userGenerations.AddOrUpdate(userId, 1, (_, generation) => generation + 1);
        }
    }

    private long Generation(string userId) => _userGenerations.TryGetValue(userId, out var generation) ? generation : 0;

    private sealed record Entry(UserProfile Profile, DateTimeOffset ExpiresAt, long Generation);
}
