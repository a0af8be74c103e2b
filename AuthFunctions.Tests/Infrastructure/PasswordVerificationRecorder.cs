using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AuthFunctions.Passwords;
using Microsoft.Extensions.DependencyInjection;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// Records the bcrypt verifications of one app instance through its metrics. Other apps running in parallel
/// in this process publish the same instrument, so only meters made by this app's own factory are heard.
/// </summary>
public sealed class PasswordVerificationRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<int> _costs = new();

    public PasswordVerificationRecorder(IServiceProvider appServices)
    {
        var appMeters = appServices.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == appMeters && instrument.Name == PasswordHasher.VerificationsInstrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, count, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "cost")
                {
                    for (long i = 0; i < count; i++)
                    {
                        _costs.Enqueue((int)tag.Value!);
                    }
                }
            }
        });
        _listener.Start();
    }

    /// <summary>The cost of each verification recorded since the last call, in order.</summary>
    public int[] TakeCosts()
    {
        var taken = new List<int>();
        while (_costs.TryDequeue(out int cost))
        {
            taken.Add(cost);
        }
        return [.. taken];
    }

    public void Dispose() => _listener.Dispose();
}
