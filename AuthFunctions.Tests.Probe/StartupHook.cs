#pragma warning disable CA1050 // The runtime looks the hook up by this exact name, outside any namespace.
/// <summary>
/// Runs before the worker's Main when <c>DOTNET_STARTUP_HOOKS</c> names this assembly. With
/// <c>AUTHFUNCTIONS_TEST_CLOCK_FILE</c> set, it puts a <see cref="AuthFunctions.Tests.Probe.SharedManualClock"/> where
/// the app looks for a clock (<c>AppContext</c> data <c>AuthFunctions.TimeProvider</c>); with
/// <c>AUTHFUNCTIONS_TEST_PROBE_FILE</c> set, it listens to the app's own meters and appends what they measure to that
/// file (<see cref="AuthFunctions.Tests.Probe.MetricsProbe"/>). Code that can set DOTNET_STARTUP_HOOKS already runs in
/// the process, so this gives no one anything new.
/// </summary>
internal static class StartupHook
#pragma warning restore CA1050
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(AuthFunctions.Tests.Probe.SharedManualClock.EnvironmentVariable) is { Length: > 0 } clock)
        {
            AppContext.SetData("AuthFunctions.TimeProvider", new AuthFunctions.Tests.Probe.SharedManualClock(clock));
        }
        if (Environment.GetEnvironmentVariable(AuthFunctions.Tests.Probe.MetricsProbe.EnvironmentVariable) is { Length: > 0 } probe)
        {
            AuthFunctions.Tests.Probe.MetricsProbe.Start(probe);
        }
    }
}
