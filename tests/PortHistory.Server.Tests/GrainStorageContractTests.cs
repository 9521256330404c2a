using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Concurrency;
using Orleans.Storage;
using Orleans.TestingHost;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Ports;
using PortHistory.Server.Persistence.Database;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// The project's own PostgreSQL SQL for the Orleans ADO.NET storage provider (the packages ship none), exercised
/// through the real provider in a real silo: versions, conflicts, clear, and a port grain's state across activations.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class GrainStorageContractTests : IAsyncLifetime
{
    private PostgresServer _postgres = null!;
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        var connectionString = _postgres.ConnectionString("storage");
        var migrator = new SchemaMigrator(NpgsqlDataSource.Create(connectionString), NullLogger<SchemaMigrator>.Instance);
        await migrator.MigrateAsync(CancellationToken.None);
        // Applying the migrations again is a no-op.
        await migrator.MigrateAsync(CancellationToken.None);

        var builder = new TestClusterBuilder(1);
        builder.ConfigureHostConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:PortHistory"] = connectionString }));
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    private IGrainStorage Storage => ((InProcessSiloHandle)_cluster.Primary!).SiloHost!.Services.GetRequiredKeyedService<IGrainStorage>(PortGrainStorage.Name);

    [Fact]
    public async Task Writes_bump_the_version_stale_writes_conflict_and_clear_keeps_counting()
    {
        var id = GrainId.Create("port", "42000");
        var state = new GrainState<PortGrainState>(new PortGrainState { Staged = new RegistrySlice(1, [1, 2, 3]) });

        await Storage.WriteStateAsync("port", id, state);
        Assert.Equal("1", state.ETag);
        state.State!.Staged = new RegistrySlice(2, [4, 5]);
        await Storage.WriteStateAsync("port", id, state);
        Assert.Equal("2", state.ETag);

        var stale = new GrainState<PortGrainState>(new PortGrainState()) { ETag = "1" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("port", id, stale));
        var duplicateFirstWrite = new GrainState<PortGrainState>(new PortGrainState());
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync("port", id, duplicateFirstWrite));

        var read = new GrainState<PortGrainState>();
        await Storage.ReadStateAsync("port", id, read);
        Assert.Equal(("2", true, 2L), (read.ETag, read.RecordExists, read.State!.Staged!.Generation));
        Assert.Equal([4, 5], read.State.Staged.Timelines);

        await Storage.ClearStateAsync("port", id, read);
        Assert.Equal("3", read.ETag);
        var cleared = new GrainState<PortGrainState>();
        await Storage.ReadStateAsync("port", id, cleared);
        Assert.Equal(("3", false), (cleared.ETag, cleared.RecordExists));

        var missing = new GrainState<PortGrainState>();
        await Storage.ReadStateAsync("port", GrainId.Create("port", "42001"), missing);
        Assert.Null(missing.ETag);
        Assert.False(missing.RecordExists);
    }

    [Fact]
    public async Task Migrators_racing_on_a_missing_database_all_succeed_and_apply_each_migration_once()
    {
        // Silos started together against a fresh PostgreSQL: each finds the database missing and creates it.
        var connectionString = _postgres.ConnectionString("raced");
        var migrators = Enumerable.Range(0, 8)
            .Select(_ => new SchemaMigrator(NpgsqlDataSource.Create(connectionString), NullLogger<SchemaMigrator>.Instance))
            .ToList();
        using var start = new Barrier(migrators.Count);
        await Task.WhenAll(migrators.Select(m => Task.Run(async () =>
        {
            start.SignalAndWait();
            await m.MigrateAsync(CancellationToken.None);
        })));

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var count = dataSource.CreateCommand("SELECT count(*), count(DISTINCT version) FROM schema_migrations");
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((SchemaMigrator.Migrations.Count, SchemaMigrator.Migrations.Count), ((int)reader.GetInt64(0), (int)reader.GetInt64(1)));
    }

    [Fact]
    public async Task A_port_grain_keeps_its_staged_timelines_across_activations()
    {
        var grain = _cluster.GrainFactory.GetGrain<IPortGrain>(43000);
        await grain.StageRegistryAsync(5, [], new Immutable<byte[]>([]));
        await grain.StageRegistryAsync(7, [], new Immutable<byte[]>([]));
        var management = _cluster.GrainFactory.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);

        var generations = await grain.GetRegistryGenerationsAsync();
        Assert.Equal((5L, 7L, 7L), (generations.Committed, generations.Staged, generations.Visible));

        // Generation 6 never committed: a grain staged in it and then in 8 keeps the last committed one.
        var other = _cluster.GrainFactory.GetGrain<IPortGrain>(43001);
        await other.StageRegistryAsync(5, [], new Immutable<byte[]>([]));
        await other.StageRegistryAsync(6, [], new Immutable<byte[]>([]));
        await other.StageRegistryAsync(8, [6], new Immutable<byte[]>([]));
        var afterAbort = await other.GetRegistryGenerationsAsync();
        Assert.Equal((5L, 8L), (afterAbort.Committed, afterAbort.Staged));
    }

    [Fact]
    public async Task A_failed_state_write_reaches_the_caller_as_a_port_storage_error_and_a_retry_stores_the_stage()
    {
        var grain = _cluster.GrainFactory.GetGrain<IPortGrain>(44000);
        await grain.StageRegistryAsync(5, [], new Immutable<byte[]>([]));
        await using var dataSource = NpgsqlDataSource.Create(_postgres.ConnectionString("storage"));
        await using (var hide = dataSource.CreateCommand("ALTER TABLE orleansstorage RENAME TO orleansstorage_hidden")) await hide.ExecuteNonQueryAsync();

        // The database's own exception does not cross to the caller (it has no codec); what it said does.
        var failure = await Assert.ThrowsAsync<PortStorageException>(() => grain.StageRegistryAsync(7, [], new Immutable<byte[]>([])));
        Assert.False(failure.Transient);
        Assert.Contains("orleansstorage", failure.Message);
        Assert.Equal(5L, (await grain.GetRegistryGenerationsAsync()).Staged);

        await using (var restore = dataSource.CreateCommand("ALTER TABLE orleansstorage_hidden RENAME TO orleansstorage")) await restore.ExecuteNonQueryAsync();
        await grain.StageRegistryAsync(7, [], new Immutable<byte[]>([]));
        // A new activation reads what was stored.
        await _cluster.GrainFactory.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal((5L, 7L), ((await grain.GetRegistryGenerationsAsync()).Committed, (await grain.GetRegistryGenerationsAsync()).Staged));
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var connectionString = siloBuilder.Configuration.GetConnectionString("PortHistory")!;
            siloBuilder.Services.AddSingleton(NpgsqlDataSource.Create(connectionString));
            siloBuilder.Services.AddSingleton<IEditionCatalog>(new AllCommittedCatalog([5, 7, 8]));
            siloBuilder.Services.AddSingleton<PortAnswerBoard>();
            siloBuilder.Services.AddSingleton<TimelineInterner>();
            siloBuilder.Services.AddSingleton<PortHistory.Grains.Abstractions.ISightingJournal, EmptyJournal>();
            siloBuilder.Services.AddSingleton<PortHistory.Grains.Abstractions.IObservationContext, DefaultObservations>();
            siloBuilder.Services.AddSingleton<PortHistory.Grains.Abstractions.IWatchEventSink, NoWatchEvents>();
            siloBuilder.Services.AddSingleton<PortHistory.Grains.Abstractions.IExpectationCatalog, NoExpectations>();
            siloBuilder.Services.AddSingleton<PortHistory.Grains.Abstractions.ILocalServiceTables, NoLocalTables>();
            siloBuilder.AddAdoNetGrainStorage(PortGrainStorage.Name, (Microsoft.Extensions.Options.OptionsBuilder<Orleans.Configuration.AdoNetGrainStorageOptions> storage) =>
                storage.Configure<Orleans.Serialization.Serializer, NpgsqlDataSource>((o, serializer, dataSource) =>
                {
                    o.Invariant = "Npgsql";
                    o.DataSource = dataSource;
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                }));
        }
    }

    private sealed class NoWatchEvents : PortHistory.Grains.Abstractions.IWatchEventSink
    {
        public Task RaiseAsync(IReadOnlyList<PortHistory.Contracts.V1.WatchEvent> events, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class EmptyJournal : PortHistory.Grains.Abstractions.ISightingJournal
    {
        public Task<IReadOnlyList<(int Writer, PortHistory.Grains.Abstractions.ObservationEntry Entry)>> ReadAfterAsync(int port,
            IReadOnlyDictionary<int, long> watermarks, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<(int, PortHistory.Grains.Abstractions.ObservationEntry)>>([]);

        public Task RecordCheckpointAsync(int port, IReadOnlyDictionary<int, long> watermarks,
            IReadOnlyList<PortHistory.Grains.Abstractions.ObservationIndexRow> rows, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class DefaultObservations : PortHistory.Grains.Abstractions.IObservationContext
    {
        public PortHistory.Grains.Abstractions.FleetCounts Fleet => default;
        public PortHistory.Observations.VerdictOptions Options { get; } = new();
        public PortHistory.Observations.ProcessServiceMap Processes => PortHistory.Observations.ProcessServiceMap.Default;
        public int CheckpointEvery => 1000;
        public TimeSpan CheckpointInterval => TimeSpan.FromSeconds(1);
    }

    private sealed class AllCommittedCatalog(long[] committed) : IEditionCatalog
    {
        public CatalogSnapshot Current => CatalogSnapshot.Empty;

        public bool IsCommitted(long generation) => committed.Contains(generation);

        public Task AtLeastAsync(long generation, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

internal sealed class NoExpectations : PortHistory.Grains.Abstractions.IExpectationCatalog
{
    public long Version => 0;

    public PortHistory.Observations.ExpectationSide For(int port, PortHistory.Contracts.V1.Transport transport) => PortHistory.Observations.ExpectationSide.None;

    public Task AtLeastAsync(long version, CancellationToken cancellationToken) => Task.CompletedTask;
}

internal sealed class NoLocalTables : PortHistory.Grains.Abstractions.ILocalServiceTables
{
    public IReadOnlyList<PortHistory.Contracts.V1.LocalServiceEntry> For(int port, PortHistory.Contracts.V1.Transport transport) => [];
}
