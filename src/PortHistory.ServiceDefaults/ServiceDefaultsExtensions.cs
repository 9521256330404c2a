using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace PortHistory.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>The name PortHistory's own meters and activity sources use.</summary>
    public const string TelemetryName = "PortHistory";

    /// <summary>
    /// Logs, metrics and traces through OpenTelemetry (ASP.NET Core, gRPC, runtime, Orleans and PortHistory's own),
    /// exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; and the health check registry.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        // Metrics and traces cost work on every request and grain call: collect them only when they go somewhere.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry()
                .WithMetrics(metrics => metrics
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter("Microsoft.Orleans")
                    .AddMeter(TelemetryName))
                .WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation()
                    .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                    .AddSource(TelemetryName))
                .UseOtlpExporter();
        }

        builder.Services.AddHealthChecks();
        return builder;
    }
}
