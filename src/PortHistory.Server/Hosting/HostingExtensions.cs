using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using PortHistory.Grains.Ports;
using PortHistory.Observations;
using PortHistory.Server.Apis;
using PortHistory.Grains.Observations;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Infrastructure.Access;
using PortHistory.Server.Infrastructure.Database;
using PortHistory.Server.Infrastructure.Registry;
using PortHistory.Server.Infrastructure.Sightings;
using PortHistory.Server.Configuration;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Hosting;

/// <summary>The server's composition, one extension per concern; Program.cs reads as their list.</summary>
public static partial class HostingExtensions
{
    /// <summary>
    /// Every setting of PortHistory, one options class per section, bound here and checked when the server starts: a
    /// bad value stops it with the setting's name instead of failing later under load.
    /// </summary>
    public static WebApplicationBuilder AddPortHistoryOptions(this WebApplicationBuilder builder)
    {
        Bind<ImportOptions>(builder, ImportOptions.Section);
        Bind<QueryOptions>(builder, QueryOptions.Section);
        Bind<SightingOptions>(builder, SightingOptions.Section);
        Bind<ObservationOptions>(builder, ObservationOptions.Section);
        // The verdict thresholds are the domain's own options, read from the same section.
        Bind<VerdictOptions>(builder, ObservationOptions.Section);
        Bind<RateLimitOptions>(builder, RateLimitOptions.Section);
        Bind<SiloHostingOptions>(builder, SiloHostingOptions.Section);
        return builder;
    }

    private static void Bind<TOptions>(WebApplicationBuilder builder, string section)
        where TOptions : class =>
        builder.Services.AddOptions<TOptions>().Bind(builder.Configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();

    /// <summary>PostgreSQL: the data source, schema migrations and the edition catalog, ready before the silo starts.</summary>
    public static WebApplicationBuilder AddPortHistoryDatabase(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("PortHistory")
                               ?? throw new InvalidOperationException("ConnectionStrings:PortHistory is not set");
        builder.Services.AddSingleton(_ =>
        {
            var source = new NpgsqlDataSourceBuilder(connectionString);
            // Grain state reads and writes, journal reads and checkpoints are a handful of statements run thousands
            // of times: prepared once per connection, PostgreSQL skips parsing and planning them. A "Max Auto
            // Prepare" in the connection string wins (0 turns it off, e.g. behind a transaction-mode pooler).
            if (!AutoPrepareSetting().IsMatch(connectionString)) source.ConnectionStringBuilder.MaxAutoPrepare = 32;
            return source.Build();
        });
        builder.Services.AddSingleton<SchemaMigrator>();
        builder.Services.AddSingleton<EditionCatalog>();
        builder.Services.AddSingleton<IEditionCatalog>(sp => sp.GetRequiredService<EditionCatalog>());
        builder.Services.AddSingleton<PortAnswerBoard>();
        builder.Services.AddSingleton<TimelineInterner>();
        // Registered before the silo, so it runs first: the silo needs the Orleans tables and queries in place.
        builder.Services.AddHostedService<DatabaseStartup>();
        builder.Services.AddSingleton<INotificationHandler>(sp => sp.GetRequiredService<EditionCatalog>());
        builder.Services.AddHostedService<DatabaseNotifications>();
        return builder;
    }

    /// <summary>The Orleans silo: one grain per port, state in PostgreSQL through the ADO.NET provider.</summary>
    public static WebApplicationBuilder AddPortHistorySilo(this WebApplicationBuilder builder)
    {
        // Read now, not through IOptions: the silo is configured while the host is being built.
        var settings = builder.Configuration.GetSection(SiloHostingOptions.Section).Get<SiloHostingOptions>() ?? new SiloHostingOptions();
        Validator.ValidateObject(settings, new ValidationContext(settings), validateAllProperties: true);
        var connectionString = builder.Configuration.GetConnectionString("PortHistory")!;
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = settings.ServiceId;
                o.ClusterId = settings.ClusterId;
            });

            if (settings.Clustering == SiloClustering.AdoNet)
            {
                // Several silos of one cluster: membership in the same PostgreSQL.
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
                var advertised = settings.AdvertisedIPAddress is { Length: > 0 } address ? System.Net.IPAddress.Parse(address) : System.Net.IPAddress.Loopback;
                silo.ConfigureEndpoints(advertised, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: settings.ListenOnAnyHostAddress);
            }
            else
            {
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort);
            }

            silo.UseClusterTls(settings.Tls);

            silo.AddAdoNetGrainStorage(PortGrainStorage.Name, (OptionsBuilder<AdoNetGrainStorageOptions> storage) =>
                storage.Configure<Serializer, NpgsqlDataSource>((o, serializer, dataSource) =>
                {
                    o.Invariant = "Npgsql";
                    // One connection pool for the whole process, sized in the connection string.
                    o.DataSource = dataSource;
                    // Binary, version-tolerant by [Id]: no type or assembly names in the stored rows.
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                }));
            silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = settings.GrainCollectionAge);
        });
        return builder;
    }

    /// <summary>The registry side: edition and generation stores, the importer and its loop, the query index.</summary>
    public static WebApplicationBuilder AddRegistryServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IEditionStore, EditionStore>();
        builder.Services.AddSingleton<IGenerationStore, GenerationStore>();
        builder.Services.AddSingleton<IRegistryQueries, RegistryQueries>();
        builder.Services.AddSingleton<ICatalogRefresh>(sp => sp.GetRequiredService<EditionCatalog>());
        builder.Services.AddSingleton<ImportDirectory>();
        builder.Services.AddSingleton<ImportProgressHub>();
        builder.Services.AddSingleton<ParsedEditions>();
        builder.Services.AddSingleton<UploadIntake>();
        builder.Services.AddSingleton<IRegistryStaging, GrainRegistryStaging>();
        builder.Services.AddSingleton<IObservedPorts>(sp => new ObservedPorts(sp.GetRequiredService<ObservationIndex>().ObservedPortsAsync));
        builder.Services.AddSingleton<PortStaging>();
        builder.Services.AddSingleton<GenerationLifecycle>();
        builder.Services.AddSingleton<EditionImport>();
        builder.Services.AddHostedService<ImportLoop>();
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
        builder.Services.AddSingleton<ISightingJournal, SightingJournal>();
        builder.Services.AddSingleton<IJournalWriter, PostgresJournalWriter>();
        builder.Services.AddSingleton<IOrphanedJournal, PostgresOrphanedJournal>();
        builder.Services.AddSingleton<IReportingHostCount, PostgresReportingHostCount>();
        builder.Services.AddSingleton<ObservationIndex>();
        builder.Services.AddSingleton<IObservationIndex>(sp => sp.GetRequiredService<ObservationIndex>());
        builder.Services.AddSingleton<IObservationQueries, ObservationQueries>();
        builder.Services.AddSingleton<IObservationDelivery, PortGrainDelivery>();
        builder.Services.AddSingleton<ObservationDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ObservationDispatcher>());
        builder.Services.AddSingleton<SightingIngest>();
        builder.Services.AddSingleton<ISightingRecorder>(sp => sp.GetRequiredService<SightingIngest>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SightingIngest>());
        builder.Services.AddHostedService<FleetStatisticsRefresher>();
        builder.Services.AddHostedService<JournalCompactor>();
        builder.Services.AddHostedService<OrphanedJournalSweeper>();
        return builder;
    }

    /// <summary>Bearer tokens with roles, and the per-agent rate limit.</summary>
    public static WebApplicationBuilder AddAccessControl(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AccessTokens>();
        builder.Services.AddSingleton<BootstrapAdminToken>();
        builder.Services.AddSingleton<SightingRateLimiter>();
        builder.Services.AddSingleton<CallLimits>();
        builder.Services.AddSingleton<INotificationHandler>(sp => sp.GetRequiredService<AccessTokens>());
        return builder;
    }

    /// <summary>The gRPC gateway: services, reflection, and grpc.health.v1 backed by the readiness check.</summary>
    public static WebApplicationBuilder AddGrpcGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CallAuthorization>();
        builder.Services.AddSingleton<RpcErrorMapping>();
        // Singletons, the services too: they hold nothing per call, and grpc-dotnet would otherwise build the
        // interceptor and each service, dependencies resolved one by one, for every call.
        builder.Services.AddSingleton<GatewayInterceptor>();
        builder.Services.AddSingleton<PortRegistryApi>();
        builder.Services.AddSingleton<RegistryAdminApi>();
        builder.Services.AddSingleton<SightingsApi>();
        builder.Services.AddSingleton<ObservationsApi>();
        builder.Services.AddSingleton<AccessAdminApi>();
        // Requests are read whole before any interceptor sees the call, so the size limits are what bounds an
        // unauthenticated caller: small for everything, larger only where the contract needs it.
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<GatewayInterceptor>();
            o.MaxReceiveMessageSize = 64 * 1024;
        })
        .AddServiceOptions<SightingsApi>(o => o.MaxReceiveMessageSize = 8 * 1024 * 1024)
        .AddServiceOptions<RegistryAdminApi>(o => o.MaxReceiveMessageSize = 4 * 1024 * 1024);
        builder.Services.AddGrpcReflection();
        // A singleton: the health service would otherwise build the check anew for every probe, and its one-second memory with it.
        builder.Services.AddSingleton<ReadinessHealthCheck>();
        builder.Services.AddGrpcHealthChecks(o => o.UseHealthChecksCache = false).AddCheck<ReadinessHealthCheck>("ready");
        // In place of grpc-dotnet's method provider (registered by the calls above): the same methods, with undecodable
        // requests answered InvalidArgument.
        builder.Services.RemoveAll(typeof(Grpc.AspNetCore.Server.Model.IServiceMethodProvider<>));
        builder.Services.AddSingleton(typeof(Grpc.AspNetCore.Server.Model.IServiceMethodProvider<>), typeof(ContractMethodProvider<>));
        return builder;
    }

    public static WebApplication MapPortHistoryApis(this WebApplication app)
    {
        app.MapGrpcService<PortRegistryApi>();
        app.MapGrpcService<RegistryAdminApi>();
        app.MapGrpcService<SightingsApi>();
        app.MapGrpcService<ObservationsApi>();
        app.MapGrpcService<AccessAdminApi>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
        return app;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"max\s*auto\s*prepare\s*=", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex AutoPrepareSetting();
}
