using System.IO.MemoryMappedFiles;

namespace AuthFunctions.Tests.Probe;

/// <summary>
/// A clock that stands still at the time a test wrote into a shared 8-byte file (UTC ticks) and moves only when a
/// test advances it; read on every call. Timers and timestamps stay the system's, as with a manual test clock.
/// </summary>
public sealed class SharedManualClock : TimeProvider, IDisposable
{
    /// <summary>The variable that names the file in the worker's environment.</summary>
    public const string EnvironmentVariable = "AUTHFUNCTIONS_TEST_CLOCK_FILE";

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _offset;

    public SharedManualClock(string path)
    {
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.OpenOrCreate, null, 8, MemoryMappedFileAccess.ReadWrite);
        _offset = _file.CreateViewAccessor(0, 8);
    }

    public override DateTimeOffset GetUtcNow() => new(_offset.ReadInt64(0), TimeSpan.Zero);

    public void Advance(TimeSpan by)
    {
        lock (_file)
        {
            _offset.Write(0, _offset.ReadInt64(0) + by.Ticks);
        }
    }

    public void Dispose()
    {
        _offset.Dispose();
        _file.Dispose();
    }
}
