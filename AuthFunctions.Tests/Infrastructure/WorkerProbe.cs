using System.Diagnostics;
using AuthFunctions.Sessions;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>Waiting on what an instance's worker measured (<see cref="TestApp.Probe"/>).</summary>
public static class WorkerProbe
{
    /// <summary>Waits until the worker has measured <paramref name="instrument"/> at least once (since it started).</summary>
    public static async Task WaitForMeasurementAsync(this TestApp app, string instrument, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!app.Probe.Measurements.Any(m => m.Instrument == instrument))
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"The worker measured no {instrument} within {timeout.TotalSeconds:0} s.");
            }
            await Task.Delay(10);
        }
    }

    /// <summary>Waits until the start-up warm-up has run, whatever its outcome (it records its duration once).</summary>
    public static Task WarmedUpAsync(this TestApp app) =>
        app.WaitForMeasurementAsync(StartupWarmUp.DurationInstrument, TimeSpan.FromSeconds(30));
}
