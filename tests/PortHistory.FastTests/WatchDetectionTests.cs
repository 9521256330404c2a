using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Observations;
using PortHistory.Observations;
using ContractVerdictKind = PortHistory.Contracts.V1.VerdictKind;

namespace PortHistory.FastTests;

/// <summary>
/// Which watch events a port raises and with which keys: a process counted once it reaches the verdicts' minimum of
/// hosts, a ghost's first listener, verdict changes with a revision each, assignment changes per generation, and the
/// same keys again when a crashed grain replays the journal from its last stored state.
/// </summary>
public sealed class WatchDetectionTests
{
    private const uint Port = 776;
    private const int Writer = 1;
    private static readonly DateTime At = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly RegistrySide Wpages = new("wpages", ["wpages"], "rfc1340", "assigned");
    private static readonly RegistrySide Nothing = new(null, [], null, "unassigned");

    private readonly Context _context = new();

    [Fact]
    public void A_process_is_new_when_it_reaches_the_minimum_of_hosts_once_and_never_again()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        var min = _context.Options.MinHostsPerProcess;

        for (var host = 0; host < min - 1; host++) Apply(observations, feed, host + 1, "rpc.statd", host, Unassigned);
        Assert.DoesNotContain(feed.Pending, e => e.Kind == WatchEventKind.NewProcess);

        Apply(observations, feed, min, "rpc.statd", min - 1, Unassigned);
        var seen = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.NewProcess);
        Assert.Equal(("rpc.statd", "/usr/sbin/rpc.statd", (ulong)min, Transport.Udp), (seen.ProcessName, seen.Executable, seen.DistinctHosts, seen.Transport));

        // More hosts and sightings of the same process: nothing new.
        var before = feed.Pending.Count(e => e.Kind == WatchEventKind.NewProcess);
        for (var seq = min + 1; seq < min + 20; seq++) Apply(observations, feed, seq, "rpc.statd", seq, Unassigned);
        Assert.Equal(before, feed.Pending.Count(e => e.Kind == WatchEventKind.NewProcess));
    }

    [Fact]
    public void The_first_sighting_on_a_ghost_raises_its_first_listener_and_the_verdict_change()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        Assert.Equal(ContractVerdictKind.Ghost, (ContractVerdictKind)(int)VerdictRules.Decide((int)Port, Wpages, [], 0, _context.ReportingHosts, _context.Options)!.Kind);

        Apply(observations, feed, 1, "rpc.statd", 0, Assigned);

        var listener = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.GhostListener);
        Assert.Equal((ContractVerdictKind.Ghost, ContractVerdictKind.InsufficientEvidence), (listener.OldVerdict, listener.NewVerdict));
        var change = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.VerdictChanged);
        Assert.Equal((ContractVerdictKind.Ghost, ContractVerdictKind.InsufficientEvidence, Transport.Udp), (change.OldVerdict, change.NewVerdict, change.Transport));

        // The next sightings on the port are no first listener.
        var count = feed.Pending.Count;
        Apply(observations, feed, 2, "rpc.statd", 1, Assigned);
        Assert.Equal(count, feed.Pending.Count);
    }

    [Fact]
    public void Each_verdict_change_is_an_event_of_its_own_even_back_to_an_earlier_verdict()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        var registry = Unassigned;
        for (var host = 0; host < 3; host++) Apply(observations, feed, host + 1, "rpc.statd", host, registry);
        Assert.Equal(ContractVerdictKind.Unregistered, feed.Pending.Last(e => e.Kind == WatchEventKind.VerdictChanged).NewVerdict);

        // The registry assigns the port (squatter), then withdraws it again (unregistered, as before).
        feed.Detect(observations, Assigned, generation: 2, judge: true);
        feed.Detect(observations, Unassigned, generation: 3, judge: true);
        feed.Detect(observations, Unassigned, generation: 3, judge: true);

        var changes = feed.Pending.Where(e => e.Kind == WatchEventKind.VerdictChanged).Select(e => (e.OldVerdict, e.NewVerdict)).ToList();
        Assert.Equal(new[]
        {
            (ContractVerdictKind.Unspecified, ContractVerdictKind.InsufficientEvidence),
            (ContractVerdictKind.InsufficientEvidence, ContractVerdictKind.Unregistered),
            (ContractVerdictKind.Unregistered, ContractVerdictKind.Squatter),
            (ContractVerdictKind.Squatter, ContractVerdictKind.Unregistered),
        }, changes);
        Assert.Equal(feed.Pending.Count, feed.Pending.Select(e => e.EventId).Distinct().Count());
        Assert.Contains("rpc.statd", Assert.Single(feed.Pending, e => e.NewVerdict == ContractVerdictKind.Squatter && e.Kind == WatchEventKind.VerdictChanged).ObservedProcesses);
    }

    [Fact]
    public void An_import_that_changes_the_assignment_is_one_event_per_generation_and_the_first_look_is_no_change()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        Apply(observations, feed, 1, "rpc.statd", 0, Assigned);
        Assert.DoesNotContain(feed.Pending, e => e.Kind == WatchEventKind.AssignmentChanged);

        feed.Detect(observations, Unassigned, generation: 7, judge: true);
        feed.Detect(observations, Unassigned, generation: 8, judge: true);

        var change = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.AssignmentChanged);
        Assert.Equal(("wpages", "", 7UL, Transport.Udp), (change.OldService, change.NewService, change.Generation, change.Transport));
    }

    [Fact]
    public void A_state_from_before_the_feed_starts_from_what_it_holds_without_events()
    {
        var (observations, feed) = Port776(new ObservedUsage());
        for (var host = 0; host < 5; host++) observations.Apply(Writer, [Entry(host + 1, "rpc.statd", host)]);
        observations.TakeNewlyCounted();

        Assert.False(feed.Detect(observations, Assigned, generation: 1, judge: true));
        Assert.Empty(feed.Pending);
        Assert.Equal(ContractVerdictKind.Squatter, observations.Usage.RaisedVerdicts![Transport.Udp].Kind);
    }

    [Fact]
    public void A_grain_replaying_the_journal_after_a_crash_raises_the_same_event_ids()
    {
        // What the grain stored at its last checkpoint, and the journal entries after it.
        var stored = new ObservedUsage { RaisedVerdicts = [] };
        var (first, firstFeed) = Port776(stored);
        Apply(first, firstFeed, 1, "rpc.statd", 0, Assigned);
        firstFeed.Detect(first, Assigned, 1, judge: true);
        var checkpoint = Copy(stored);
        firstFeed.Stored(firstFeed.Pending.Count);

        var journal = Enumerable.Range(2, 6).Select(seq => Entry(seq, seq % 2 == 0 ? "rpc.statd" : "nfsd", seq)).ToArray();
        foreach (var entry in journal)
        {
            first.Apply(Writer, [entry]);
            firstFeed.Detect(first, Assigned, 1, judge: first.VerdictInputsChanged);
        }

        firstFeed.Detect(first, Assigned, 1, judge: true);
        var raised = firstFeed.Pending.Select(e => e.EventId).ToList();
        Assert.NotEmpty(raised);

        // The silo dies before the next checkpoint: a new activation applies the same entries to the stored state in one go.
        var (replayed, replayFeed) = Port776(checkpoint);
        replayed.Apply(Writer, journal);
        replayFeed.Detect(replayed, Assigned, 1, judge: true);

        Assert.Equal(raised.Order(StringComparer.Ordinal), replayFeed.Pending.Select(e => e.EventId).Order(StringComparer.Ordinal));
    }

    private static RegistrySide Assigned(Transport transport) => transport == Transport.Udp ? Wpages : Nothing;

    private static RegistrySide Unassigned(Transport transport) => Nothing;

    private (PortObservations, PortWatchFeed) Port776(ObservedUsage usage) => (new PortObservations(Port, usage, _context), new PortWatchFeed(Port, _context));

    private static void Apply(PortObservations observations, PortWatchFeed feed, long seq, string process, int host, Func<Transport, RegistrySide> registry)
    {
        observations.Apply(Writer, [Entry(seq, process, host)]);
        feed.Detect(observations, registry, generation: 1, judge: observations.VerdictInputsChanged);
    }

    private static ObservationEntry Entry(long seq, string process, int host) =>
        new(seq, Transport.Udp, HostRefs.Hash($"host-{host}"), $"host-{host}", process, $"/usr/sbin/{process}", At.AddSeconds(seq), BindScope.Wildcard, Privileged: true);

    /// <summary>A stored state read back: a deep copy through the grain serializer's shape is overkill here, the fields the feed reads suffice.</summary>
    private static ObservedUsage Copy(ObservedUsage usage)
    {
        var copy = new ObservedUsage
        {
            RaisedVerdicts = usage.RaisedVerdicts?.ToDictionary(p => p.Key, p => new RaisedVerdict { Kind = p.Value.Kind, Revision = p.Value.Revision }),
            Assignments = usage.Assignments is null ? null : new Dictionary<Transport, string>(usage.Assignments),
            Watermarks = new Dictionary<int, long>(usage.Watermarks),
        };
        foreach (var transport in usage.Transports)
        {
            var t = new TransportUsage { Transport = transport.Transport, Sightings = transport.Sightings, FirstSeen = transport.FirstSeen, LastSeen = transport.LastSeen };
            foreach (var host in transport.Hosts.Exact) t.Hosts.Add(host, HostSetLimits.Transport);
            foreach (var (key, process) in transport.Processes)
            {
                var p = new ProcessUsage
                {
                    Name = process.Name, Executable = process.Executable, Program = process.Program, SystemdUnit = process.SystemdUnit,
                    Sightings = process.Sightings, Weight = process.Weight, FirstSeen = process.FirstSeen, LastSeen = process.LastSeen,
                };
                foreach (var host in process.Hosts.Exact) p.Hosts.Add(host, HostSetLimits.Process);
                t.Processes[key] = p;
            }

            copy.Transports.Add(t);
        }

        return copy;
    }

    private sealed class Context : IObservationContext
    {
        public long ReportingHosts => 1_000;

        public VerdictOptions Options { get; } = new();

        public ProcessServiceMap Processes => ProcessServiceMap.Default;

        public int CheckpointEvery => 20_000;

        public TimeSpan CheckpointInterval => TimeSpan.FromSeconds(15);
    }
}
