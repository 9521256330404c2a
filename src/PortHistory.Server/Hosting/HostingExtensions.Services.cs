using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Expectations;
using PortHistory.Server.Application.Following;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Application.Usage;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Application.Watch;
using PortHistory.Server.Persistence.Sightings;
using PortHistory.Server.Persistence.Watch;

namespace PortHistory.Server.Hosting;

public static partial class HostingExtensions
{
    /// <summary>The registry side: edition and generation stores, the importer and its loop, the query index.</summary>
    public static WebApplicationBuilder AddRegistryServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ImportDirectory>();
        builder.Services.AddSingleton<ImportProgressHub>();
        builder.Services.AddSingleton<ParsedEditions>();
        builder.Services.AddSingleton<UploadIntake>();
        builder.Services.AddSingleton<IRegistryStaging, GrainRegistryStaging>();
        builder.Services.AddSingleton<IObservedPorts>(sp => new ObservedPorts(sp.GetRequiredService<IObservationIndex>().ObservedPortsAsync));
        builder.Services.AddSingleton<PortStaging>();
        builder.Services.AddSingleton<HistoryCache>();
        builder.Services.AddSingleton<HistoryDerivation>();
        builder.Services.AddSingleton<GenerationLifecycle>();
        builder.Services.AddSingleton<HistoryRebuild>();
        builder.Services.AddSingleton<EditionImport>();
        builder.Services.AddHostedService<ImportLoop>();
        return builder;
    }

    /// <summary>
    /// Following the registry: the configured sources fetched on a schedule by one silo at a time. HttpClient's
    /// defaults verify TLS and take proxies from HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
    /// </summary>
    public static WebApplicationBuilder AddRegistryFollowing(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(EditionFetcher.ClientName, client => client.DefaultRequestHeaders.UserAgent.ParseAdd("PortHistory-follower/1"))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AutomaticDecompression = System.Net.DecompressionMethods.All,
                MaxAutomaticRedirections = 5,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            // Each fetch is bounded by PortHistory:Follow:Timeout itself.
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            // The follower logs each fetch's outcome in a line; the client's own logging added two lines per request
            // and a stack trace per failure (every few minutes on a machine without internet).
            .RemoveAllLoggers();
        builder.Services.AddSingleton<EditionFetcher>();
        builder.Services.AddSingleton<FetchedEditionIntake>();
        builder.Services.AddSingleton<FollowStatus>();
        builder.Services.AddSingleton<RegistryFollower>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RegistryFollower>());
        return builder;
    }

    /// <summary>
    /// Sightings: validation, the journal writer (durable before acknowledged), delivery to the port grains,
    /// compaction, and the observations index.
    /// </summary>
    public static WebApplicationBuilder AddSightingServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SightingValidator>();
        builder.Services.AddSingleton<ObservationContext>();
        builder.Services.AddSingleton<IObservationContext>(sp => sp.GetRequiredService<ObservationContext>());
        builder.Services.AddSingleton<IObservationQueries, ObservationQueries>();
        builder.Services.AddSingleton<IObservationDelivery, PortGrainDelivery>();
        builder.Services.AddSingleton<ObservationDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ObservationDispatcher>());
        builder.Services.AddSingleton<SightingIngest>();
        builder.Services.AddSingleton<ISightingRecorder>(sp => sp.GetRequiredService<SightingIngest>());
        builder.Services.AddSingleton<IHostCommits>(sp => sp.GetRequiredService<SightingIngest>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SightingIngest>());
        builder.Services.AddHostedService<FleetStatisticsRefresher>();
        builder.Services.AddHostedService<JournalCompactor>();
        builder.Services.AddHostedService<OrphanedJournalSweeper>();
        return builder;
    }

    /// <summary>
    /// Differential reporting: a grain per host (its set and reporting state), reports checked and admitted, liveness in
    /// memory with last-seen times written now and then, the sweeps that turn silent hosts stale and retire them.
    /// </summary>
    public static WebApplicationBuilder AddHostServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<HostReportValidator>();
        builder.Services.AddSingleton<HostSockets>();
        builder.Services.AddSingleton<IHostReports, HostReports>();
        builder.Services.AddSingleton<HostQueries>();
        builder.Services.AddSingleton<UsageLoader>();
        builder.Services.AddSingleton<VerdictHistory>();
        builder.Services.AddSingleton<UsageDayCloser>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UsageDayCloser>());
        builder.Services.AddSingleton<HostAdministration>();
        builder.Services.AddSingleton<HostPulseBoard>();
        builder.Services.AddSingleton<IHostPulse>(sp => sp.GetRequiredService<HostPulseBoard>());
        builder.Services.AddSingleton<IHostHeartbeats>(sp => sp.GetRequiredService<HostPulseBoard>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HostPulseBoard>());
        builder.Services.AddHostedService<StoredHostSweeper>();
        return builder;
    }

    /// <summary>
    /// The watch feed: the event log port grains raise into, this silo's wake-up on other silos' events, the
    /// streams' reader, retention, and the webhook.
    /// </summary>
    public static WebApplicationBuilder AddWatchServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<WatchSignal>();
        builder.Services.AddSingleton<INotificationHandler>(sp => sp.GetRequiredService<WatchSignal>());
        builder.Services.AddSingleton<WatchHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WatchHub>());
        builder.Services.AddSingleton<WatchFeed>();
        builder.Services.AddHostedService<WatchRetention>();
        builder.Services.AddHostedService<WebhookDelivery>();
        return builder;
    }

    /// <summary>The operators' expectations: stored, cached per silo (refreshed on notification), judged by the port grains.</summary>
    public static WebApplicationBuilder AddExpectationServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ExpectationCatalog>();
        builder.Services.AddSingleton<IExpectationCatalog>(sp => sp.GetRequiredService<ExpectationCatalog>());
        builder.Services.AddSingleton<INotificationHandler>(sp => sp.GetRequiredService<ExpectationCatalog>());
        builder.Services.AddSingleton<ExpectationAdministration>();
        return builder;
    }

    /// <summary>Bearer tokens with roles, per-host credentials, and the per-caller limits.</summary>
    public static WebApplicationBuilder AddAccessControl(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TokenValidator>();
        builder.Services.AddSingleton<FailedAuthenticationLimiter>();
        builder.Services.AddSingleton<AccessTokens>();
        builder.Services.AddSingleton<HostCredentials>();
        builder.Services.AddSingleton<BootstrapAdminToken>();
        builder.Services.AddSingleton<SightingRateLimiter>();
        builder.Services.AddSingleton<EnrollmentRateLimiter>();
        builder.Services.AddSingleton<CallLimits>();
        builder.Services.AddSingleton<INotificationHandler>(sp => sp.GetRequiredService<TokenValidator>());
        return builder;
    }
}
