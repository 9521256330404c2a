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
    private static readonly SiloAddress Dead = Silo(11111);
    private static readonly SiloAddress AlsoDead = Silo(11112);
    private static readonly SiloAddress Alive = Silo(11113);

    private readonly FlakyOrphans _orphans = new();
    private readonly FakeObservationDelivery _delivery = new();
    private readonly ObservationDispatcher _dispatcher;
    private readonly SightingIngest _ingest;
    private readonly IOptions<SightingOptions> _options;
    private OrphanedJournalSweeper? _sweeper;

    public OrphanedJournalSweeperTests()
    {
        // Periodic sweeps far away: only the death of a silo can start one in this test. The dispatcher runs on its own
        // timer, so a test waits for the delivery itself rather than guessing when the sweep has handed its rows over.
        _options = Options.Create(new SightingOptions
        {
            Writers = 1, WriterTimeout = TimeSpan.FromHours(1), OrphanSweepInterval = TimeSpan.FromHours(1), DispatchWindow = TimeSpan.FromMilliseconds(20),
        });
        _dispatcher = new ObservationDispatcher(_delivery, _options, new PortHistoryMetrics(), NullLogger<ObservationDispatcher>.Instance);
        var context = new ObservationContext(Options.Create(new VerdictOptions()), Options.Create(new ObservationOptions()));
        _ingest = new SightingIngest(new FakeJournalWriter(), _dispatcher, new MemoryProcessDictionary(), context, _options, NullLogger<SightingIngest>.Instance);
    }

    public Task InitializeAsync() => _dispatcher.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        if (_sweeper is not null) await _sweeper.StopAsync(CancellationToken.None);
        await _dispatcher.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task A_dead_silos_rows_reach_their_grains_even_when_marking_or_sweeping_failed_first(bool markFails, bool sweepFails)
    {
        _orphans.WithWriters.Add(Dead.ToParsableString());
        if (markFails) _orphans.FailingMarks.Add(Dead.ToParsableString());
        _orphans.FindFailures = sweepFails ? 1 : 0;

        await StartAsync(Dead, Alive);
        var delivered = await NextDeliveryAsync();

        Assert.Equal(80, delivered.Port);
        Assert.Equal((3, 41L), (delivered.Deltas.Single().Writer, delivered.Deltas.Single().PreviousSeq));
        // Marked gone once, whatever failed: the living silo is never marked.
        Assert.Equal([Dead.ToParsableString()], _orphans.Marked);
    }

    [Fact]
    public async Task A_sweep_owed_for_one_dead_silo_is_not_forgotten_when_marking_the_next_fails()
    {
        // The first is marked (it had writers); marking the second fails once, and it turns out to have had none.
        _orphans.WithWriters.Add(Dead.ToParsableString());
        _orphans.FailingMarks.Add(AlsoDead.ToParsableString());

        await StartAsync(Dead, AlsoDead, Alive);
        var delivered = await NextDeliveryAsync();

        Assert.Equal(80, delivered.Port);
        Assert.Equal(new[] { Dead, AlsoDead }.Select(s => s.ToParsableString()).Order(StringComparer.Ordinal), _orphans.Marked);
    }

    private async Task StartAsync(params SiloAddress[] members)
    {
        var snapshot = new ClusterMembershipSnapshot(
            members.ToImmutableDictionary(s => s, s => new ClusterMember(s, s == Alive ? SiloStatus.Active : SiloStatus.Dead, s.ToString())),
            new MembershipVersion(2));
        _sweeper = new OrphanedJournalSweeper(new FakeJournalWriter(), _orphans, _ingest, _dispatcher, new OneSnapshotMembership(snapshot), _options,
            NullLogger<OrphanedJournalSweeper>.Instance);
        await _sweeper.StartAsync(CancellationToken.None);
    }

    private async Task<(int Port, Grains.Abstractions.ObservationDelta[] Deltas)> NextDeliveryAsync()
    {
        await _delivery.FirstDelivery.WaitAsync(TimeSpan.FromSeconds(20));
        return Assert.Single(_delivery.Take());
    }

    private static SiloAddress Silo(int port) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1);

    private sealed class FlakyOrphans : IOrphanedJournal
    {
        /// <summary>Silos whose writers have rows: the first marking of one finds them.</summary>
        public HashSet<string> WithWriters { get; } = [];

        /// <summary>Silos whose first marking fails.</summary>
        public HashSet<string> FailingMarks { get; } = [];

        public int FindFailures { get; set; }

        public List<string> Marked { get; } = [];

        public Task<int> MarkSiloGoneAsync(string silo, CancellationToken cancellationToken)
        {
            if (FailingMarks.Remove(silo)) return Task.FromException<int>(new TimeoutException("the database did not answer"));
            var first = !Marked.Contains(silo);
            Marked.Add(silo);
            Marked.Sort(StringComparer.Ordinal);
            return Task.FromResult(first && WithWriters.Contains(silo) ? 2 : 0);
        }

        public Task<IReadOnlyList<UnappliedRows>> FindUnappliedAsync(TimeSpan writerTimeout, IReadOnlyDictionary<int, long> marks, CancellationToken cancellationToken)
        {
            if (FindFailures-- > 0) return Task.FromException<IReadOnlyList<UnappliedRows>>(new TimeoutException("the database did not answer"));
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
