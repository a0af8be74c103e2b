using System.Diagnostics.Metrics;
using AuthFunctions.Auth;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Passwords;

public enum PasswordCheck
{
    Failed,
    Succeeded,

    /// <summary>Correct, but hashed with a lower cost than configured: store a new hash.</summary>
    SucceededRehashNeeded,
}

/// <summary>bcrypt at the configured cost, with a dummy hash so that an unknown account costs as much time as a wrong password.</summary>
public sealed partial class PasswordHasher
{
    public const string MeterName = "AuthFunctions.Passwords";
    public const string VerificationsInstrument = "authfunctions.password.verifications";

    private readonly int _cost;
    private readonly Counter<long> _verifications;
    private readonly ILogger<PasswordHasher> _logger;
    private readonly Lazy<string> _dummyHash;
    private readonly HashingThreads _threads;

    public PasswordHasher(IOptions<AuthOptions> options, HashingThreads threads, IMeterFactory meters, ILogger<PasswordHasher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        _verifications = meters.Create(MeterName).CreateCounter<long>(
            VerificationsInstrument, unit: "{verification}", description: "bcrypt verifications, tagged with the cost of the hash checked");
        _cost = options.Value.BcryptCost;
        _threads = threads;
        _logger = logger;
        _dummyHash = new Lazy<string>(() => Bcrypt.HashPassword("dummy password for unknown accounts", _cost));
    }

    public Task<string> HashAsync(string password) => _threads.RunAsync(() => Bcrypt.HashPassword(password, _cost));

    public Task<PasswordCheck> VerifyAsync(string password, string storedHash, bool storedNormalized) => _threads.RunAsync(() => Verify(password, storedHash));

    /// <summary>Spends the time of one verification for an account that does not exist (ASVS 6.3.8: no account enumeration by timing).</summary>
    public Task VerifyAgainstDummyAsync(string password) => _threads.RunAsync(() =>
    {
        // Recorded exactly like a real verification: the count of work per login must not depend on whether the account exists.
        bool matched = Bcrypt.Verify(password, _dummyHash.Value);
        _verifications.Add(1, new KeyValuePair<string, object?>("cost", _cost));
        return matched;
    });

    private PasswordCheck Verify(string password, string storedHash)
    {
        if (!Bcrypt.TryParse(storedHash, out var info, out var reason))
        {
            LogMalformedHash(reason!);
            return PasswordCheck.Failed;
        }
        bool matched = Bcrypt.Verify(password, storedHash);
        _verifications.Add(1, new KeyValuePair<string, object?>("cost", info.Cost));
        if (!matched)
        {
            return PasswordCheck.Failed;
        }
        return info.Cost < _cost ? PasswordCheck.SucceededRehashNeeded : PasswordCheck.Succeeded;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A stored password hash is malformed ({Reason}); the login is refused.")]
    private partial void LogMalformedHash(string reason);
}
