using Microsoft.Azure.Functions.Worker.OpenTelemetry;

namespace AuthFunctions.Hosting;

public static class Telemetry
{
    /// <summary>
    /// Traces of the worker's invocations for a deployment that exports them (host.json <c>telemetryMode</c>
    /// <c>OpenTelemetry</c> plus an exporter's settings); nothing is collected or sent unless an exporter is configured.
    /// </summary>
    public static IHostApplicationBuilder ConfigureTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults();
        return builder;
    }
}
