using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace PortHistory.ServiceDefaults;

public static class ServiceDefaultsExtensions
{
    /// <summary>The name PortHistory's own meters and activity sources use.</summary>
    public const string TelemetryName = "PortHistory";

    /// <summary>The Kestrel endpoint that serves the Prometheus scrape (cleartext HTTP/1.1, apart from the gRPC port).</summary>
    public const string MetricsEndpointUrlKey = "Kestrel:Endpoints:Metrics:Url";

    /// <summary>The path Prometheus scrapes on the metrics endpoint.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Whether the Prometheus scrape is served (default true); false collects no metrics unless OTLP is set.</summary>
    public const string MetricsEnabledKey = "PortHistory:Metrics:Enabled";

    /// <summary>Instruments (comma-separated names) not collected; unset: <see cref="DroppedByDefault"/>, "" collects them all.</summary>
    public const string MetricsDropKey = "PortHistory:Metrics:Drop";

    /// <summary>How long a scrape's answer is reused for the next ones, in milliseconds (the exporter's own default, 300).</summary>
    public const string MetricsScrapeCacheKey = "PortHistory:Metrics:ScrapeCacheMilliseconds";

    /// <summary>
    /// Instruments recorded on every request or buffer, left out because with them a GetPort took about a third more CPU
    /// time, and with ASP.NET Core's request histogram alone about 5% more (the metrics benchmark): requests in
    /// flight and queued, routing attempts, the bytes rented from and held by Kestrel's memory pool (several times per
    /// call), and the request histogram (PortHistory counts calls by method and status, and times GetPort, itself).
    /// </summary>
    public const string DroppedByDefault = "http.server.request.duration,http.server.active_requests,kestrel.queued_requests," +
                                           "aspnetcore.routing.match_attempts,aspnetcore.memory_pool.rented,aspnetcore.memory_pool.pooled";

    /// <summary>
    /// Logs, metrics and traces through OpenTelemetry; and the health check registry. Metrics (ASP.NET Core and
    /// Kestrel, runtime, Orleans, Npgsql and PortHistory's own) are collected for the Prometheus scrape endpoint
    /// unless <see cref="MetricsEnabledKey"/> is false, and exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is
    /// set. Traces (ASP.NET Core, Orleans grain calls, Npgsql commands) are collected only then.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var scrape = builder.Configuration.GetValue(MetricsEnabledKey, true);
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry();
        // Without a listener the instruments record nothing: a server with neither sink pays no metric cost at all.
        if (scrape || otlp)
        {
            telemetry.WithMetrics(metrics =>
            {
                metrics
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddMeter("Microsoft.Orleans")
                    .AddMeter(TelemetryName);
                foreach (var name in (builder.Configuration[MetricsDropKey] ?? DroppedByDefault).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    metrics.AddView(name, MetricStreamConfiguration.Drop);
                }

                var cache = builder.Configuration.GetValue(MetricsScrapeCacheKey, 300);
                if (scrape) metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = Math.Max(0, cache));
            });
        }

        // A span per request, grain call and SQL command costs work on the hot paths: traced only when they go somewhere.
        if (otlp)
        {
            telemetry
                .WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation()
                    .AddNpgsql()
                    .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                    .AddSource(TelemetryName))
                .UseOtlpExporter();
        }

        builder.Services.AddHealthChecks();
        return builder;
    }

    /// <summary>
    /// Serves <see cref="MetricsPath"/> on the metrics endpoint only, and nothing else there: the scrape is never
    /// reachable through the gRPC port (nor its token check), and the gRPC services are not served on the metrics
    /// port. Scrapes are left out of the HTTP request metrics. With metrics off the endpoint answers 404 to everything.
    /// </summary>
    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        var url = app.Configuration[MetricsEndpointUrlKey];
        if (string.IsNullOrWhiteSpace(url)) return app;
        var port = BindingAddress.Parse(url).Port;
        var scrape = app.Configuration.GetValue(MetricsEnabledKey, true);
        app.MapWhen(context => context.Connection.LocalPort == port, metrics =>
        {
            metrics.Use((context, next) =>
            {
                if (context.Features.Get<IHttpMetricsTagsFeature>() is { } tags) tags.MetricsDisabled = true;
                return next(context);
            });
            if (scrape) metrics.UseOpenTelemetryPrometheusScrapingEndpoint(MetricsPath);
            metrics.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });
        return app;
    }
}
