using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Ports;
using PortHistory.Observations;
using PortHistory.Server.Application;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;
using PortHistory.Server.Configuration;
using PortHistory.Server.Persistence;

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
        builder.Services.AddOptions<FollowOptions>().Bind(builder.Configuration.GetSection(FollowOptions.Section)).ValidateDataAnnotations()
            .Validate(o => o.EffectiveSources.All(s => Uri.TryCreate(s, UriKind.Absolute, out var uri) ? uri.Scheme is "http" or "https" or "file" : Path.IsPathFullyQualified(s)),
                $"{FollowOptions.Section}:Sources must be http(s) URLs or absolute paths of files or directories")
            .ValidateOnStart();
        Bind<QueryOptions>(builder, QueryOptions.Section);
        Bind<SightingOptions>(builder, SightingOptions.Section);
        Bind<HostReportingOptions>(builder, HostReportingOptions.Section);
        Bind<UsageHistoryOptions>(builder, UsageHistoryOptions.Section);
        Bind<ObservationOptions>(builder, ObservationOptions.Section);
        // The verdict thresholds are the domain's own options, read from the same section.
        Bind<VerdictOptions>(builder, ObservationOptions.Section);
        Bind<RateLimitOptions>(builder, RateLimitOptions.Section);
        Bind<WatchOptions>(builder, WatchOptions.Section);
        Bind<AuthOptions>(builder, AuthOptions.Section);
        Bind<EnrollmentOptions>(builder, EnrollmentOptions.Section);
        builder.Services.AddOptions<WebhookOptions>().Bind(builder.Configuration.GetSection(WebhookOptions.Section)).ValidateDataAnnotations()
            .Validate(o => o.Url is not { Length: > 0 } || Application.Watch.WebhookSecret.Problem(o.SecretFile) is null,
                $"{WebhookOptions.Section}:SecretFile must name a readable file holding at least {Application.Watch.WebhookSecret.MinimumBytes} bytes (the HMAC secret) when Url is set")
            .Validate(o => Application.Watch.WatchFilterText.Parse(o.Ports, o.Transports, o.Verdicts, o.ProcessNames, o.Kinds).Error is null,
                $"{WebhookOptions.Section}: a filter (Ports, Transports, Verdicts, ProcessNames, Kinds) is not understood")
            .ValidateOnStart();
        // The silo settings are read and checked in AddPortHistorySilo: the silo is configured while the host is built.
        return builder;
    }

    private static void Bind<TOptions>(WebApplicationBuilder builder, string section)
        where TOptions : class =>
        builder.Services.AddOptions<TOptions>().Bind(builder.Configuration.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();

    /// <summary>PortHistory's own instruments (one meter for the process), scraped at /metrics with the others.</summary>
    public static WebApplicationBuilder AddPortHistoryMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new PortHistoryMetrics(sp.GetRequiredService<IMeterFactory>()));
        return builder;
    }

    /// <summary>PostgreSQL: every store, schema migrations and the edition catalog, ready before the silo starts.</summary>
    public static WebApplicationBuilder AddPortHistoryDatabase(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("PortHistory")
                               ?? throw new InvalidOperationException("ConnectionStrings:PortHistory is not set");
        builder.Services.AddPortHistoryPersistence(connectionString);
        builder.Services.AddSingleton<PortAnswerBoard>();
        builder.Services.AddSingleton<TimelineInterner>();
        // Registered before the silo, so it runs first: the silo needs the Orleans tables and queries in place.
        builder.Services.AddHostedService<DatabaseStartup>();
        return builder;
    }

    /// <summary>The Orleans silo: one grain per port, state in PostgreSQL through the ADO.NET provider.</summary>
    public static WebApplicationBuilder AddPortHistorySilo(this WebApplicationBuilder builder)
    {
        // Read now, not through IOptions: the silo is configured while the host is being built.
        var settings = builder.Configuration.GetSection(SiloHostingOptions.Section).Get<SiloHostingOptions>() ?? new SiloHostingOptions();
        Validator.ValidateObject(settings, new ValidationContext(settings), validateAllProperties: true);
        if (settings.Clustering == SiloClustering.AdoNet && !settings.Tls.Enabled && !settings.AllowInsecureCluster)
        {
            throw new InvalidOperationException(
                $"{SiloHostingOptions.Section}:Clustering is AdoNet but cluster TLS is off: whoever reaches the silo ports could call grains past every " +
                $"token. Set {SiloHostingOptions.Section}:Tls:CertificatePath, KeyPath and AuthorityPath (deploy/make-cluster-certificates.sh), or, for a " +
                $"lab on a trusted network only, {SiloHostingOptions.Section}:AllowInsecureCluster=true");
        }

        // Port 0: no gateway listener (Orleans' way to turn it off).
        var gatewayPort = settings.GatewayPort ?? 0;
        var connectionString = builder.Configuration.GetConnectionString("PortHistory")!;
        builder.Services.AddSingleton<KeyedGrains>();
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
                silo.ConfigureEndpoints(advertised, settings.SiloPort, gatewayPort, listenOnAnyHostAddress: settings.ListenOnAnyHostAddress);
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = settings.ProbeTimeout;
                    o.NumMissedProbesLimit = settings.MissedProbesLimit;
                    o.IAmAliveTablePublishTimeout = settings.AliveRecordInterval;
                });
            }
            else
            {
                silo.UseLocalhostClustering(settings.SiloPort, gatewayPort);
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
            // Grain calls carry the caller's trace context, so a GetPort's span and its grain call's are one trace
            // (exported only when OTLP is configured).
            silo.AddActivityPropagation();
        });
        return builder;
    }
}
