using AuthFunctions.Storage;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// Counts, from the moment it is made, the writes the Table service refused on any of <c>apps</c> because another
/// request changed, inserted or deleted the row since it was read (<see cref="StorageRequestCounter.WriteConflictsInstrument"/>).
/// Requests sent one after another never produce one, so a race test that sees one knows its requests overlapped
/// where it matters: between one request's read and its conditional write.
/// </summary>
public sealed class WriteConflictRecorder(params TestApp[] apps) : IDisposable
{
    private readonly AppCounterRecorder[] _recorders =
        [.. apps.Select(app => new AppCounterRecorder(app, StorageRequestCounter.WriteConflictsInstrument))];

    public long Count => _recorders.Sum(r => r.Count);

    public void Dispose()
    {
        foreach (var recorder in _recorders)
        {
            recorder.Dispose();
        }
    }
}
