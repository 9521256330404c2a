using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Orleans.TestingHost;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Tests.Hosts;

/// <summary>One in-process silo whose host grains keep their rows in memory; tests use host refs of their own.</summary>
public sealed class HostGrainCluster : IAsyncLifetime
{
    internal static readonly MemoryHostRows Rows = new();
    internal static readonly RecordingHostEvents Events = new();
    internal static readonly QuietHostPulse Pulse = new();

    /// <summary>What the silo logs at warning and above.</summary>
    internal static readonly FakeLogCollector Logs = FakeLogCollector.Create(new FakeLogCollectorOptions
    {
        FilteredLevels = new HashSet<LogLevel> { LogLevel.Warning, LogLevel.Error, LogLevel.Critical },
    });

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
            siloBuilder.Services.AddSingleton<IHostStore>(Rows);
            siloBuilder.Services.AddSingleton<IHostCommits>(Rows);
            siloBuilder.Services.AddSingleton<IHostPulse>(Pulse);
            siloBuilder.Services.AddSingleton<IWatchEventSink>(Events);
            siloBuilder.Services.TryAddSingleton(TimeProvider.System);
            siloBuilder.Services.AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(Logs)));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class HostGrainCollection : ICollectionFixture<HostGrainCluster>
{
    public const string Name = "host grain cluster";
}

/// <summary>Host rows in memory, committed only at the version expected, every commit kept; another server's write can be staged.</summary>
internal sealed class MemoryHostRows : IHostStore, IHostCommits
{
    private readonly ConcurrentDictionary<string, HostRecord> _rows = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<HostCommit> _commits = new();

    public IReadOnlyList<HostCommit> Of(string hostRef) => [.. _commits.Where(c => c.Row.HostRef == hostRef)];

    public HostRecord? Row(string hostRef) => _rows.GetValueOrDefault(hostRef);

    /// <summary>Another activation (another server) wrote the host's row.</summary>
    public void WrittenElsewhere(string hostRef, Func<HostRecord, HostRecord> change) =>
        _rows.AddOrUpdate(hostRef, _ => throw new InvalidOperationException($"no row for {hostRef}"), (_, row) => change(row) with { Version = row.Version + 1 });

    public Task<HostRecord?> LoadAsync(string hostRef, CancellationToken cancellationToken) => Task.FromResult(Row(hostRef));

    public Task<bool> CommitAsync(HostCommit commit, CancellationToken cancellationToken)
    {
        lock (_rows)
        {
            if ((Row(commit.Row.HostRef)?.Version ?? 0) != commit.ExpectedVersion) return Task.FromResult(false);
            _rows[commit.Row.HostRef] = commit.Row;
            _commits.Enqueue(commit);
            return Task.FromResult(true);
        }
    }
}

internal sealed class RecordingHostEvents : IWatchEventSink
{
    private readonly ConcurrentDictionary<string, WatchEvent> _events = new(StringComparer.Ordinal);

    public IReadOnlyList<WatchEvent> Of(string hostRef) => [.. _events.Values.Where(e => e.HostRef == hostRef).OrderBy(e => e.EventId, StringComparer.Ordinal)];

    public Task RaiseAsync(IReadOnlyList<WatchEvent> events, CancellationToken cancellationToken)
    {
        foreach (var e in events) _events.TryAdd(e.EventId, e);
        return Task.CompletedTask;
    }
}

/// <summary>A pulse that admits every activation and remembers when each host was last heard.</summary>
internal sealed class QuietHostPulse : IHostPulse
{
    private readonly ConcurrentDictionary<string, DateTime> _heard = new(StringComparer.Ordinal);

    public DateTime? LastHeard(string hostRef) => _heard.TryGetValue(hostRef, out var at) ? at : null;

    public void Heard(HostRecord held, DateTime heardAt) => _heard[held.HostRef] = heardAt;

    public void Holds(HostRecord held)
    {
    }

    /// <summary>A heartbeat the silo answered without the grain (as the server's board does).</summary>
    public void HeardWithoutGrain(string hostRef, DateTime heardAt) => _heard[hostRef] = heardAt;

    public bool TrySilence(HostRecord silent, DateTime heardBefore) => !(_heard.TryGetValue(silent.HostRef, out var at) && at >= heardBefore);

    public void Forget(string hostRef) => _heard.TryRemove(hostRef, out _);

    /// <summary>While set, the silo is reading as many host rows as it allows.</summary>
    public bool Busy { get; set; }

    public IDisposable? TryActivate() => Busy ? null : new Lease();

    private sealed class Lease : IDisposable
    {
        public void Dispose()
        {
        }
    }
}
