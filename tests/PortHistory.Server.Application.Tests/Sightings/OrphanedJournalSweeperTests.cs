using System.Collections.Immutable;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Observations;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Application.Telemetry;
using PortHistory.Server.Application.Tests.Support;

namespace PortHistory.Server.Application.Tests.Sightings;

/// <summary>
/// The sweep the cluster's declaration of a silo's death starts: the dead silo's journal rows reach their ports' grains
/// at once, even when the first attempt fails, without waiting for another membership change or the periodic sweep.
/// </summary>
public sealed class OrphanedJournalSweeperTests : IAsyncLifetime
{
    private static readonly SiloAddress Dead = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress Alive = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);

    private readonly FlakyOrphans _orphans = new();
    private readonly FakeObservationDelivery _delivery = new();
    private readonly ObservationDispatcher _dispatcher;
    private readonly OrphanedJournalSweeper _sweeper;

    public OrphanedJournalSweeperTests()
    {
        // Periodic sweeps far away: only the death of a silo can start one in this test.
        var options = Options.Create(new SightingOptions { Writers = 1, WriterTimeout = TimeSpan.FromHours(1), OrphanSweepInterval = TimeSpan.FromHours(1) });
        _dispatcher = new ObservationDispatcher(_delivery, options, new PortHistoryMetrics(), NullLogger<ObservationDispatcher>.Instance);
        var context = new ObservationContext(Options.Create(new VerdictOptions()), Options.Create(new ObservationOptions()));
        var ingest = new SightingIngest(new FakeJournalWriter(), _dispatcher, new MemoryProcessDictionary(), context, options, NullLogger<SightingIngest>.Instance);
        var membership = new OneSnapshotMembership(new ClusterMembershipSnapshot(
            ImmutableDictionary<SiloAddress, ClusterMember>.Empty
                .Add(Dead, new ClusterMember(Dead, SiloStatus.Dead, "dead"))
                .Add(Alive, new ClusterMember(Alive, SiloStatus.Active, "alive")),
            new MembershipVersion(2)));
        _sweeper = new OrphanedJournalSweeper(new FakeJournalWriter(), _orphans, ingest, _dispatcher, membership, options, NullLogger<OrphanedJournalSweeper>.Instance);
    }

    public Task InitializeAsync() => _sweeper.StartAsync(CancellationToken.None);

    public Task DisposeAsync() => _sweeper.StopAsync(CancellationToken.None);

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task A_dead_silos_rows_reach_their_grains_even_when_marking_or_sweeping_failed_first(bool markFails, bool sweepFails)
    {
        _orphans.MarkFailures = markFails ? 1 : 0;
        _orphans.FindFailures = sweepFails ? 1 : 0;

        _orphans.Found.TrySetResult();
        var delivered = await NextDeliveryAsync();

        Assert.Equal(80, delivered.Port);
        Assert.Equal((3, 41L), (delivered.Deltas.Single().Writer, delivered.Deltas.Single().PreviousSeq));
        // Marked gone once, whatever failed: the living silo is never marked.
        Assert.Equal([Dead.ToParsableString()], _orphans.Marked);
    }

    private async Task<(int Port, Grains.Abstractions.ObservationDelta[] Deltas)> NextDeliveryAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            await _orphans.Swept.Task.WaitAsync(timeout.Token);
            await _dispatcher.DispatchWindowAsync(timeout.Token);
            if (_delivery.Take() is [var call]) return call;
        }
    }

    private sealed class FlakyOrphans : IOrphanedJournal
    {
        public int MarkFailures { get; set; }

        public int FindFailures { get; set; }

        public List<string> Marked { get; } = [];

        /// <summary>Set by the test once the failures are arranged: nothing is answered before.</summary>
        public TaskCompletionSource Found { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Swept { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<int> MarkSiloGoneAsync(string silo, CancellationToken cancellationToken)
        {
            await Found.Task.WaitAsync(cancellationToken);
            if (MarkFailures-- > 0) throw new TimeoutException("the database did not answer");
            var first = !Marked.Contains(silo);
            Marked.Add(silo);
            Marked.Sort();
            return first ? 2 : 0;
        }

        public Task<IReadOnlyList<UnappliedRows>> FindUnappliedAsync(TimeSpan writerTimeout, IReadOnlyDictionary<int, long> marks, CancellationToken cancellationToken)
        {
            if (FindFailures-- > 0) return Task.FromException<IReadOnlyList<UnappliedRows>>(new TimeoutException("the database did not answer"));
            Swept.TrySetResult();
            return Task.FromResult<IReadOnlyList<UnappliedRows>>([new UnappliedRows(80, 3, 41, WriterGone: true)]);
        }
    }

    /// <summary>A cluster whose membership changes once, to the given snapshot, and never again.</summary>
    private sealed class OneSnapshotMembership(ClusterMembershipSnapshot snapshot) : IClusterMembershipService
    {
        public ClusterMembershipSnapshot CurrentSnapshot => snapshot;

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => Updates();

        public ValueTask Refresh(MembershipVersion minimumVersion = default) => default;

        public ValueTask Refresh(MembershipVersion minimumVersion, CancellationToken cancellationToken) => default;

        public Task<bool> TryKill(SiloAddress siloAddress) => Task.FromResult(false);

        private async IAsyncEnumerable<ClusterMembershipSnapshot> Updates([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            yield return snapshot;
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }
}
