using System.Diagnostics.Metrics;
using AuthFunctions.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// Counts the Table service requests of one app instance through its <c>authfunctions.storage.requests</c>
/// metric. Apps running in parallel publish the same instrument, so only this app's meter factory is heard.
/// </summary>
public sealed class StorageRequestRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public StorageRequestRecorder(IServiceProvider appServices)
    {
        var appMeters = appServices.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == appMeters && instrument.Name == StorageRequestCounter.RequestsInstrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, count, _, _) => Interlocked.Add(ref _count, count));
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
