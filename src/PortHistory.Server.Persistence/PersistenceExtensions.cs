using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Expectations;
using PortHistory.Server.Application.Following;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Application.Usage;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Application.Watch;
using PortHistory.Server.Application.Telemetry;
using PortHistory.Server.Persistence.Access;
using PortHistory.Server.Persistence.Database;
using PortHistory.Server.Persistence.Expectations;
using PortHistory.Server.Persistence.Following;
using PortHistory.Server.Persistence.Hosts;
using PortHistory.Server.Persistence.Usage;
using PortHistory.Server.Persistence.Registry;
using PortHistory.Server.Persistence.Sightings;
using PortHistory.Server.Persistence.Watch;

namespace PortHistory.Server.Persistence;

/// <summary>Every store, query and notification the server keeps in PostgreSQL, registered as the interfaces the layers above declare.</summary>
public static partial class PersistenceExtensions
{
    public static IServiceCollection AddPortHistoryPersistence(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton(_ =>
        {
            var source = new NpgsqlDataSourceBuilder(connectionString);
            // Grain state reads and writes, journal reads and checkpoints are a handful of statements run thousands
            // of times: prepared once per connection, PostgreSQL skips parsing and planning them. A "Max Auto
            // Prepare" in the connection string wins (0 turns it off, e.g. behind a transaction-mode pooler).
            if (!AutoPrepareSetting().IsMatch(connectionString)) source.ConnectionStringBuilder.MaxAutoPrepare = 32;
            // The pool's name in the Npgsql metrics (by default the connection string).
            source.Name = "porthistory";
            return source.Build();
        });
        services.AddSingleton<SchemaMigrator>();

        // The registry: editions, generations, the query index, and the catalog every silo follows.
        services.AddSingleton<LocalServiceTables>();
        services.AddSingleton<ILocalServiceTables>(sp => sp.GetRequiredService<LocalServiceTables>());
        services.AddSingleton<EditionCatalog>();
        services.AddSingleton<IEditionCatalog>(sp => sp.GetRequiredService<EditionCatalog>());
        services.AddSingleton<ICatalogRefresh>(sp => sp.GetRequiredService<EditionCatalog>());
        services.AddSingleton<INotificationHandler>(sp => sp.GetRequiredService<EditionCatalog>());
        services.AddSingleton<IEditionStore, EditionStore>();
        services.AddSingleton<IGenerationStore, GenerationStore>();
        services.AddSingleton<IRegistryQueries, RegistryQueries>();
        services.AddSingleton<IFollowStore, FollowStore>();

        // Sightings: the journal, its writers, the observations index.
        services.AddSingleton<ISightingJournal, SightingJournal>();
        services.AddSingleton<IJournalWriter, PostgresJournalWriter>();
        services.AddSingleton<IOrphanedJournal, PostgresOrphanedJournal>();
        services.AddSingleton<IObservationIndex, ObservationIndex>();

        // Watch: the event log and the webhook's cursors.
        services.AddSingleton<WatchEventLog>();
        services.AddSingleton<IWatchEventSink>(sp => new CountedWatchEventSink(new GroupedWatchEventSink(sp.GetRequiredService<WatchEventLog>()),
            sp.GetRequiredService<PortHistoryMetrics>(), sp.GetRequiredService<ILogger<CountedWatchEventSink>>()));
        services.AddSingleton<IWatchEventLog>(sp => sp.GetRequiredService<WatchEventLog>());
        services.AddSingleton<IWebhookCursors, WebhookCursors>();

        // Hosts: their rows (loaded by their grains, listed, swept) and the process dictionary rows and changes name ids from.
        services.AddSingleton<HostTable>();
        services.AddSingleton<IHostStore>(sp => sp.GetRequiredService<HostTable>());
        services.AddSingleton<IHostRows>(sp => sp.GetRequiredService<HostTable>());
        services.AddSingleton<IProcessDictionary, ProcessDictionary>();
        services.AddSingleton<UsageStore>();
        services.AddSingleton<IUsageStore>(sp => sp.GetRequiredService<UsageStore>());
        services.AddSingleton<IUsageLoadStore>(sp => sp.GetRequiredService<UsageStore>());
        services.AddSingleton<IUsageMaintenance, UsageMaintenance>();

        services.AddSingleton<IExpectationStore, ExpectationStore>();
        services.AddSingleton<IAccessTokenStore, AccessTokenStore>();
        services.AddSingleton<IHostApprovals, HostApprovalStore>();
        services.AddHostedService<CredentialRetention>();

        // The silo's one LISTEN connection, for every INotificationHandler registered.
        services.AddHostedService<DatabaseNotifications>();
        return services;
    }

    [GeneratedRegex(@"max\s*auto\s*prepare\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex AutoPrepareSetting();
}
