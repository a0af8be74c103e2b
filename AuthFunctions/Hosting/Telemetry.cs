using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using OpenTelemetry;

namespace AuthFunctions.Hosting;

public static class Telemetry
{
    /// <summary>The standard OpenTelemetry setting that turns the export on: the collector's OTLP endpoint.</summary>
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Traces and logs of the worker's invocations exported over OTLP, for a deployment that sets
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with host.json <c>telemetryMode</c> <c>OpenTelemetry</c> for the host's side). Off
    /// otherwise, and so off locally: with Worker.OpenTelemetry 1.2.0 on, the worker's own log lines stop reaching the
    /// host's log (azure-functions-dotnet-worker issue 3489: its 1.37 schema drops the invocation id the host
    /// correlates them by), and they go to the exporter instead.
    /// </summary>
    public static IHostApplicationBuilder ConfigureTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!string.IsNullOrEmpty(builder.Configuration[OtlpEndpointSetting]))
        {
            builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults().UseOtlpExporter();
        }
        return builder;
    }
}
