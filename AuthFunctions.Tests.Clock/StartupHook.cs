using System.IO.MemoryMappedFiles;

#pragma warning disable CA1050 // The runtime looks the hook up by this exact name, outside any namespace.
/// <summary>
/// Runs before the worker's Main when <c>DOTNET_STARTUP_HOOKS</c> names this assembly: with
/// <c>AUTHFUNCTIONS_TEST_CLOCK_FILE</c> set, it puts a <see cref="SharedManualClock"/> where the app looks for a clock
/// (<c>AppContext</c> data <c>AuthFunctions.TimeProvider</c>). Code that can set DOTNET_STARTUP_HOOKS already runs in
/// the process, so this gives no one anything new.
/// </summary>
internal static class StartupHook
#pragma warning restore CA1050
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable("AUTHFUNCTIONS_TEST_CLOCK_FILE") is { Length: > 0 } path)
        {
            AppContext.SetData("AuthFunctions.TimeProvider", new AuthFunctions.Tests.Clock.SharedManualClock(path));
        }
    }
}

namespace AuthFunctions.Tests.Clock
{
    /// <summary>
    /// A clock that stands still at the time a test wrote into a shared 8-byte file (UTC ticks) and moves only when a
    /// test advances it; read on every call. Timers and timestamps stay the system's, as with a manual test clock.
    /// </summary>
    public sealed class SharedManualClock : TimeProvider, IDisposable
    {
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
}
