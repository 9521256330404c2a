using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Observations;
using PortHistory.Grains.Ports;
using PortHistory.Observations;

namespace PortHistory.Grains.Tests;

/// <summary>
/// One in-process silo with memory grain storage and in-memory journal and catalog, shared by the port grain tests
/// (starting a silo takes far longer than the tests). Tests use ports and generations of their own.
/// </summary>
public sealed class PortGrainCluster : IAsyncLifetime
{
    // The silo builds its services in this process: it reaches the fakes through these.
    internal static readonly FakeEditionCatalog Catalog = new();
    internal static readonly FakeSightingJournal Journal = new();
    internal static readonly FakeWatchEventSink WatchEvents = new();
    internal static readonly FakeExpectationCatalog Expectations = new();
    internal static readonly Server.Application.Telemetry.PortHistoryMetrics Metrics = new();
    internal static readonly FakeVerdictHistory History = new();
    internal static readonly FixedObservationContext Context = new();

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddMemoryGrainStorage(PortGrainStorage.Name);
            siloBuilder.Services.AddSingleton<IEditionCatalog>(Catalog);
            siloBuilder.Services.AddSingleton<ISightingJournal>(Journal);
            // Raised as the server raises them: failures counted and logged on their way back to the grain.
            siloBuilder.Services.AddSingleton<IWatchEventSink>(new Server.Application.Watch.CountedWatchEventSink(WatchEvents, Metrics,
                Microsoft.Extensions.Logging.Abstractions.NullLogger<Server.Application.Watch.CountedWatchEventSink>.Instance));
            siloBuilder.Services.AddSingleton<IObservationContext>(Context);
            siloBuilder.Services.AddSingleton<IExpectationCatalog>(Expectations);
            siloBuilder.Services.AddSingleton<ILocalServiceTables>(NoLocalTables.Instance);
            siloBuilder.Services.AddSingleton<PortAnswerBoard>();
            siloBuilder.Services.AddSingleton<TimelineInterner>();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PortGrainCollection : ICollectionFixture<PortGrainCluster>
{
    public const string Name = "port grain cluster";
}

/// <summary>The tiny history's catalog; a generation is committed once a test says so.</summary>
internal sealed class FakeEditionCatalog : IEditionCatalog
{
    private readonly ConcurrentDictionary<long, bool> _committed = new();
    private readonly ConcurrentDictionary<long, bool> _committedElsewhere = new();

    public CatalogSnapshot Current { get; } = TinyRegistry.Catalog();

    public bool IsCommitted(long generation) => _committed.ContainsKey(generation);

    public void Commit(long generation) => _committed[generation] = true;

    /// <summary>Committed by another silo: seen here only once someone asks for it, as a notification not yet arrived.</summary>
    public void CommitElsewhere(long generation) => _committedElsewhere[generation] = true;

    public Task AtLeastAsync(long generation, CancellationToken cancellationToken)
    {
        foreach (var committed in _committedElsewhere.Keys.Where(g => g <= generation)) Commit(committed);
        return Task.CompletedTask;
    }
}

/// <summary>The sightings journal in memory: entries per port, read back past the watermarks as the real one does.</summary>
internal sealed class FakeSightingJournal : ISightingJournal
{
    private readonly ConcurrentDictionary<int, List<(int Writer, ObservationEntry Entry)>> _rows = new();

    /// <summary>Ports whose reads fail as they do while PostgreSQL restarts.</summary>
    public ConcurrentDictionary<int, bool> Unreachable { get; } = new();

    public void Append(int port, int writer, params ObservationEntry[] entries)
    {
        var rows = _rows.GetOrAdd(port, _ => []);
        lock (rows) rows.AddRange(entries.Select(e => (writer, e)));
    }

    public Task<IReadOnlyList<(int Writer, ObservationEntry Entry)>> ReadAfterAsync(int port, IReadOnlyDictionary<int, long> watermarks,
        CancellationToken cancellationToken)
    {
        if (Unreachable.ContainsKey(port)) throw new UnreachableDatabaseException();
        if (!_rows.TryGetValue(port, out var rows)) return Task.FromResult<IReadOnlyList<(int, ObservationEntry)>>([]);
        lock (rows)
        {
            IReadOnlyList<(int, ObservationEntry)> after =
            [
                .. rows.Where(r => r.Entry.Seq > watermarks.GetValueOrDefault(r.Writer))
                    .OrderBy(r => r.Writer).ThenBy(r => r.Entry.Seq),
            ];
            return Task.FromResult(after);
        }
    }

    /// <summary>The watermarks each port last recorded for the compactor.</summary>
    public ConcurrentDictionary<int, IReadOnlyDictionary<int, long>> Recorded { get; } = new();

    public Task RecordCheckpointAsync(int port, IReadOnlyDictionary<int, long> watermarks, IReadOnlyList<ObservationIndexRow> rows,
        CancellationToken cancellationToken)
    {
        Recorded[port] = new Dictionary<int, long>(watermarks);
        return Task.CompletedTask;
    }
}

/// <summary>The event log in memory: one event per event id, as the real one's unique key keeps it.</summary>
internal sealed class FakeWatchEventSink : IWatchEventSink
{
    private readonly ConcurrentDictionary<string, PortHistory.Contracts.V1.WatchEvent> _events = new();
    private readonly ConcurrentDictionary<uint, TaskCompletionSource> _firstStored = new();

    /// <summary>While set, raising fails as a database that is down does.</summary>
    public volatile bool Failing;

    public IReadOnlyList<PortHistory.Contracts.V1.WatchEvent> Of(uint port) => [.. _events.Values.Where(e => e.Port == port).OrderBy(e => e.EventId, StringComparer.Ordinal)];

    public Task RaiseAsync(IReadOnlyList<PortHistory.Contracts.V1.WatchEvent> events, CancellationToken cancellationToken)
    {
        if (Failing) throw new InvalidOperationException("the event log is down");
        foreach (var e in events) _events.TryAdd(e.EventId, e);
        // After the whole call's events are in, as the real log commits them together.
        foreach (var port in events.Select(e => e.Port).Distinct()) FirstStored(port).TrySetResult();

        return Task.CompletedTask;
    }

    /// <summary>Completes once an event of <paramref name="port"/> is stored.</summary>
    public Task StoredAsync(uint port) => FirstStored(port).Task;

    private TaskCompletionSource FirstStored(uint port) =>
        _firstStored.GetOrAdd(port, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>
/// Expectations a test stages under a version; a grain sees them only once it asks for that version (as a silo's
/// cache reads them only when told). Only ports with rules count as having expectations: tests share the silo.
/// </summary>
internal sealed class FakeExpectationCatalog : IExpectationCatalog
{
    private readonly ConcurrentDictionary<(int, Transport), ExpectationRule[]> _visible = new();
    private readonly ConcurrentDictionary<long, ((int, Transport) Key, ExpectationRule[] Rules)> _staged = new();
    private long _version;

    public long Version => Interlocked.Read(ref _version);

    public void Stage(long version, int port, Transport transport, params ExpectationRule[] rules) => _staged[version] = ((port, transport), rules);

    public ExpectationSide For(int port, Transport transport) =>
        _visible.TryGetValue((port, transport), out var rules) ? new ExpectationSide(rules, FleetHasExpectations: true) : ExpectationSide.None;

    public Task AtLeastAsync(long version, CancellationToken cancellationToken)
    {
        foreach (var (staged, change) in _staged.Where(s => s.Key <= version)) _visible[change.Key] = change.Rules;
        if (version > Version) Interlocked.Exchange(ref _version, version);
        return Task.CompletedTask;
    }
}

internal sealed class FixedObservationContext : IObservationContext
{
    public FleetCounts Fleet { get; set; } = new(1_000, 0, 0);

    public VerdictOptions Options { get; } = new();

    public ProcessServiceMap Processes => ProcessServiceMap.Default;

    // Nothing is written behind a test's back: no checkpoint by count or by timer while the suite runs, unless a test
    // lowers the count for the grains it activates (a grain takes it when it activates; the collection runs one test at a time).
    public int CheckpointEvery { get; set; } = 1_000_000;

    public TimeSpan CheckpointInterval => TimeSpan.FromHours(1);

    public IVerdictHistory History => PortGrainCluster.History;
}

/// <summary>A usage history whose past of a port is "; past of PORT", read-counted; the ports in <see cref="Unreadable"/> cannot be read.</summary>
internal sealed class FakeVerdictHistory : IVerdictHistory
{
    public ConcurrentDictionary<int, int> Reads { get; } = new();

    public ConcurrentDictionary<int, bool> Unreadable { get; } = new();

    /// <summary>Ports whose read throws (a history source with a bug): the answer must still come.</summary>
    public ConcurrentDictionary<int, bool> Throwing { get; } = new();

    public bool Quotes(Verdict verdict) => verdict.ObservedProcesses.Count > 0;

    public Task<IVerdictPast?> ReadAsync(int port, DateOnly yesterday, CancellationToken cancellationToken)
    {
        Reads.AddOrUpdate(port, 1, (_, n) => n + 1);
        if (Throwing.ContainsKey(port)) throw new InvalidOperationException("the usage history has a bug");
        return Task.FromResult<IVerdictPast?>(Unreadable.ContainsKey(port) ? null : new Past(port));
    }

    private sealed class Past(int port) : IVerdictPast
    {
        public string? SuffixFor(Verdict verdict) => $"; past of {port}";
    }
}
