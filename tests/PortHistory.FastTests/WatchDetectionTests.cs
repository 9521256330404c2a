using CsCheck;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Observations;
using PortHistory.Observations;

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
        Assert.Equal(VerdictKind.Ghost, (VerdictKind)(int)VerdictRules.Decide((int)Port, Wpages, [], 0, _context.ReportingHosts, _context.Options)!.Kind);

        Apply(observations, feed, 1, "rpc.statd", 0, Assigned);

        var listener = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.GhostListener);
        Assert.Equal((VerdictKind.Ghost, VerdictKind.InsufficientEvidence), (listener.OldVerdict, listener.NewVerdict));
        var change = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.VerdictChanged);
        Assert.Equal((VerdictKind.Ghost, VerdictKind.InsufficientEvidence, Transport.Udp), (change.OldVerdict, change.NewVerdict, change.Transport));

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
        Assert.Equal(VerdictKind.Unregistered, feed.Pending.Last(e => e.Kind == WatchEventKind.VerdictChanged).NewVerdict);

        // The registry assigns the port (squatter), then withdraws it again (unregistered, as before).
        feed.Detect(observations, Assigned, generation: 2, judge: true);
        feed.Detect(observations, Unassigned, generation: 3, judge: true);
        feed.Detect(observations, Unassigned, generation: 3, judge: true);

        var changes = feed.Pending.Where(e => e.Kind == WatchEventKind.VerdictChanged).Select(e => (e.OldVerdict, e.NewVerdict)).ToList();
        Assert.Equal(new[]
        {
            (VerdictKind.Unspecified, VerdictKind.InsufficientEvidence),
            (VerdictKind.InsufficientEvidence, VerdictKind.Unregistered),
            (VerdictKind.Unregistered, VerdictKind.Squatter),
            (VerdictKind.Squatter, VerdictKind.Unregistered),
        }, changes);
        Assert.Equal(feed.Pending.Count, feed.Pending.Select(e => e.EventId).Distinct().Count());
        Assert.Contains("rpc.statd", Assert.Single(feed.Pending, e => e.NewVerdict == VerdictKind.Squatter && e.Kind == WatchEventKind.VerdictChanged).ObservedProcesses);
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
        Assert.Equal(VerdictKind.Squatter, observations.Usage.RaisedVerdicts![Transport.Udp].Kind);
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

    [Fact]
    public void A_counted_process_no_host_reports_is_gone_once_and_comes_back_as_a_new_life_with_ids_a_replay_repeats()
    {
        var stored = new ObservedUsage { RaisedVerdicts = [] };
        var (observations, feed) = Port776(stored);
        for (var host = 0; host < 3; host++) Apply(observations, feed, host + 1, "rpc.statd", host, Assigned);
        Apply(observations, feed, 4, "nfsd", 9, Assigned);
        var first = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.NewProcess).EventId;
        feed.Stored(feed.Pending.Count);

        // Both stopped a while ago: rpc.statd is announced gone; nfsd (on one host, below the privacy floor) never was announced.
        Assert.Equal(2, observations.MarkGone(At.AddMinutes(1)));
        feed.Detect(observations, Assigned, 1, judge: true);
        var gone = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.ProcessGone);
        Assert.Equal(("rpc.statd", At.AddSeconds(3), 3UL), (gone.ProcessName, gone.LastSeen.ToDateTime(), gone.DistinctHosts));
        var change = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.VerdictChanged);
        Assert.Equal((VerdictKind.Squatter, VerdictKind.Ghost), (change.OldVerdict, change.NewVerdict));
        Assert.Equal(0, observations.MarkGone(At.AddMinutes(2)));
        Assert.Equal(VerdictKind.Ghost, Assert.Single(observations.IndexRows(Assigned)).Verdict);
        Assert.Null(Assert.Single(observations.IndexRows(Assigned)).OldestLiveSeen);

        // A late sighting from before its last one says nothing new: still gone.
        Apply(observations, feed, 5, "rpc.statd", 0, Assigned, At);
        Assert.True(Process(observations, "rpc.statd").Gone);
        var checkpoint = Copy(stored);
        feed.Stored(feed.Pending.Count);

        // Reported again: a new life, a first listener on the ghost, and the verdict back.
        var back = new[] { Entry(6, "rpc.statd", 1) with { ObservedAt = At.AddHours(1) }, Entry(7, "rpc.statd", 2) with { ObservedAt = At.AddHours(1) } };
        foreach (var entry in back)
        {
            observations.Apply(Writer, [entry]);
            feed.Detect(observations, Assigned, 1, judge: observations.VerdictInputsChanged);
        }

        var again = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.NewProcess);
        Assert.NotEqual(first, again.EventId);
        Assert.False(Process(observations, "rpc.statd").Gone);
        Assert.Equal((VerdictKind.Ghost, VerdictKind.Squatter),
            (Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.VerdictChanged).OldVerdict, Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.GhostListener).NewVerdict));
        Assert.Equal(At.AddHours(1), Assert.Single(observations.IndexRows(Assigned)).OldestLiveSeen);

        // The silo dies before the next checkpoint: replaying the journal on the stored state raises the same ids.
        var (replayed, replayFeed) = Port776(checkpoint);
        replayed.Apply(Writer, back);
        replayFeed.Detect(replayed, Assigned, 1, judge: true);
        Assert.Equal(feed.Pending.Select(e => e.EventId).Order(StringComparer.Ordinal), replayFeed.Pending.Select(e => e.EventId).Order(StringComparer.Ordinal));

        // Gone a second time: an event of its own, not the first life's again.
        observations.MarkGone(At.AddHours(2));
        feed.Detect(observations, Assigned, 1, judge: true);
        Assert.Equal(2, feed.Pending.Concat([gone]).Where(e => e.Kind == WatchEventKind.ProcessGone).Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public void An_unassigned_port_whose_processes_are_all_gone_keeps_an_index_row_with_nothing_to_judge()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        for (var host = 0; host < 3; host++) Apply(observations, feed, host + 1, "rpc.statd", host, Unassigned);
        Assert.Equal(VerdictKind.Unregistered, Assert.Single(observations.IndexRows(Unassigned)).Verdict);

        observations.MarkGone(At.AddDays(1));

        var row = Assert.Single(observations.IndexRows(Unassigned));
        Assert.Equal((VerdictKind.Unspecified, (DateTime?)null, 3L), (row.Verdict, row.OldestLiveSeen, row.Hosts));
        Assert.Empty(observations.Verdicts(Unassigned));
    }

    [Fact]
    public void Whatever_sightings_and_sweeps_come_a_process_is_announced_new_and_gone_in_turn_and_gone_ones_are_never_judged()
    {
        // An operation: a sighting (process, host, minute) or a sweep marking gone what was last seen before a minute.
        var operations = Gen.Select(Gen.Bool, Gen.Int[0, 2], Gen.Int[0, 5], Gen.Int[0, 600]).Array[1, 60];
        operations.Sample(ops =>
        {
            var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
            var seq = 0L;
            foreach (var (sweep, process, host, minute) in ops)
            {
                if (sweep) observations.MarkGone(At.AddMinutes(minute));
                else observations.Apply(Writer, [Entry(++seq, $"p{process}", host) with { ObservedAt = At.AddMinutes(minute) }]);
                feed.Detect(observations, Assigned, 1, judge: sweep || observations.VerdictInputsChanged);

                var gone = observations.Usage.Transports.SelectMany(t => t.Processes.Values).Where(p => p.Gone).Select(p => p.Name).ToHashSet();
                foreach (var (_, result, _) in observations.Verdicts(Assigned)) Assert.DoesNotContain(result.ObservedProcesses, gone.Contains);
            }

            Assert.Equal(feed.Pending.Count, feed.Pending.Select(e => e.EventId).Distinct().Count());
            foreach (var lives in feed.Pending.Where(e => e.Kind is WatchEventKind.NewProcess or WatchEventKind.ProcessGone).GroupBy(e => e.ProcessName))
            {
                var kinds = lives.Select(e => e.Kind).ToList();
                for (var i = 0; i < kinds.Count; i++) Assert.Equal(i % 2 == 0 ? WatchEventKind.NewProcess : WatchEventKind.ProcessGone, kinds[i]);
            }
        }, iter: 500);
    }

    private static ProcessUsage Process(PortObservations observations, string name) =>
        observations.Usage.Transports.Single().Processes.Values.Single(p => p.Name == name);

    private static RegistrySide Assigned(Transport transport) => transport == Transport.Udp ? Wpages : Nothing;

    private static RegistrySide Unassigned(Transport transport) => Nothing;

    private (PortObservations, PortWatchFeed) Port776(ObservedUsage usage) => (new PortObservations(Port, usage, _context), new PortWatchFeed(Port, _context));

    private static void Apply(PortObservations observations, PortWatchFeed feed, long seq, string process, int host, Func<Transport, RegistrySide> registry,
        DateTime? at = null)
    {
        observations.Apply(Writer, [Entry(seq, process, host) with { ObservedAt = at ?? At.AddSeconds(seq) }]);
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
                    Gone = process.Gone, Returns = process.Returns,
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
