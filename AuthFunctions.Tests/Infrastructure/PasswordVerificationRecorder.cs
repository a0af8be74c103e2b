using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AuthFunctions.Passwords;
using AuthFunctions.Tests.Probe;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// Records the bcrypt verifications (<c>authfunctions.password.verifications</c>, tagged with the cost) of one
/// PasswordHasher: of a product instance, as its worker measured them (<see cref="TestApp.Probe"/>), or of services
/// built in this process (only meters made by their own factory are heard).
/// </summary>
public sealed class PasswordVerificationRecorder : IDisposable
{
    private readonly MeterListener? _listener;
    private readonly ConcurrentQueue<int> _costs = new();
    private readonly ProbeFile? _probe;
    private int _position;

    /// <summary>The verifications of a product instance from now on.</summary>
    public PasswordVerificationRecorder(TestApp app)
    {
        ArgumentNullException.ThrowIfNull(app);
        _probe = app.Probe;
        _position = _probe.Position;
    }

    /// <summary>The verifications of services built in this process (unit tests).</summary>
    public PasswordVerificationRecorder(IServiceProvider appServices)
    {
        var appMeters = appServices.GetRequiredService<IMeterFactory>();
        _listener = new MeterListener();
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
        if (_probe is not null)
        {
            var since = _probe.MeasurementsSince(_position);
            _position += since.Count;
            foreach (var record in since.Where(r => r.Instrument == PasswordHasher.VerificationsInstrument))
            {
                for (long i = 0; i < (long)record.Value; i++)
                {
                    _costs.Enqueue(Convert.ToInt32(record.Tag("cost"), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
        var taken = new List<int>();
        while (_costs.TryDequeue(out int cost))
        {
            taken.Add(cost);
        }
        return [.. taken];
    }

    public void Dispose() => _listener?.Dispose();
}
