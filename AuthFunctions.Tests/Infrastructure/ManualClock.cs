using AuthFunctions.Tests.Probe;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// The clock of a product instance under the real host: it starts at the real time and moves only when a test says so
/// (<see cref="Advance"/>), shared with the worker through a small file that the tests' startup hook (AuthFunctions.Tests.Probe) maps. The
/// instances of one deployment share one clock.
/// </summary>
public sealed class ManualClock : TimeProvider, IDisposable
{
    private readonly SharedManualClock _shared;

    public ManualClock()
    {
        FilePath = Path.Combine(Path.GetTempPath(), $"authfunctions-clock-{Guid.NewGuid():N}");
        File.WriteAllBytes(FilePath, BitConverter.GetBytes(DateTimeOffset.UtcNow.UtcTicks));
        _shared = new SharedManualClock(FilePath);
    }

    public string FilePath { get; }

    public override DateTimeOffset GetUtcNow() => _shared.GetUtcNow();

    public void Advance(TimeSpan by) => _shared.Advance(by);

    /// <summary>Moves the clock up to the real time if it is behind (never back): for what a real outside party stamps, such as an ID token.</summary>
    public void CatchUpWithRealTime()
    {
        var behind = DateTimeOffset.UtcNow - GetUtcNow();
        if (behind > TimeSpan.Zero)
        {
            Advance(behind);
        }
    }

    public void Dispose()
    {
        _shared.Dispose();
        File.Delete(FilePath);
    }
}
