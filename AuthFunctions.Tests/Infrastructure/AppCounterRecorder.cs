using AuthFunctions.Tests.Probe;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// Adds up one counter instrument of one app instance (e.g. <c>authfunctions.storage.requests</c>) from the moment it is
/// made, as the instance's worker measured it (<see cref="TestApp.Probe"/>: each instance has its own probe file, so
/// other instances running in parallel are not heard). A measurement is in the file before the request that made it is
/// answered, so a count read after a response includes that request's.
/// </summary>
public sealed class AppCounterRecorder : IDisposable
{
    private readonly ProbeFile _probe;
    private readonly string _instrumentName;
    private readonly (string Name, object Value)? _tag;
    private int _position;

    /// <param name="tag">Only measurements with this tag (e.g. <c>("table", "users")</c>).</param>
    public AppCounterRecorder(TestApp app, string instrumentName, (string Name, object Value)? tag = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        _probe = app.Probe;
        _instrumentName = instrumentName;
        _tag = tag;
        _position = _probe.Position;
    }

    public long Count => Sum(_probe.MeasurementsSince(_position));

    /// <summary>The count so far, starting over from zero.</summary>
    public long Take()
    {
        var since = _probe.MeasurementsSince(_position);
        _position += since.Count;
        return Sum(since);
    }

    private long Sum(IEnumerable<ProbeRecord> records) =>
        (long)records.Where(r => r.Instrument == _instrumentName && (_tag is not { } tag || Equals(r.Tag(tag.Name), tag.Value))).Sum(r => r.Value);

    public void Dispose()
    {
    }
}
