using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// Adds up one counter instrument of one app instance (e.g. <c>authfunctions.storage.requests</c>). Apps running in
/// parallel in this process publish the same instruments, so only meters made by this app's own factory are heard.
/// </summary>
public sealed class AppCounterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public AppCounterRecorder(IServiceProvider appServices, string instrumentName)
    {
        var appMeters = appServices.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == appMeters && instrument.Name == instrumentName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, count, _, _) => Interlocked.Add(ref _count, count));
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    /// <summary>The count so far, starting over from zero.</summary>
    public long Take() => Interlocked.Exchange(ref _count, 0);

    public void Dispose() => _listener.Dispose();
}
