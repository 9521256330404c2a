// Over 250 lines: the specification of one rule set (which events a port raises), its cases and its property test sharing one script.
using CsCheck;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Observations;
using PortHistory.Grains.Tests.Support;
using PortHistory.Observations;

namespace PortHistory.Grains.Tests;

/// <summary>
/// Which watch events a port raises and with which keys, from the listener changes host grains pass on: a process
/// counted once it reaches the verdicts' minimum of hosts listening, gone when the last online host stops it, a ghost's
/// first listener, verdict changes with a revision each, assignment changes per generation, and the same keys again
/// when a crashed grain replays the journal from its last stored state.
/// </summary>
public sealed class WatchDetectionTests
{
    private const uint Port = 776;
    private const int Writer = 1;
    private static readonly DateTime At = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly RegistrySide Wpages = new("wpages", ["wpages"], "rfc1340", "assigned");
    private static readonly RegistrySide Nothing = new(null, [], null, "unassigned");

    private readonly Context _context = new();
    private readonly ListenerScript _hosts = new();

    [Fact]
    public void A_process_is_new_when_it_reaches_the_minimum_of_hosts_once_and_never_again()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        var min = _context.Options.MinHostsPerProcess;

        for (var host = 0; host < min - 1; host++) Start(observations, feed, host, "rpc.statd", Unassigned);
        Assert.DoesNotContain(feed.Pending, e => e.Kind == WatchEventKind.NewProcess);

        Start(observations, feed, min - 1, "rpc.statd", Unassigned);
        var seen = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.NewProcess);
        Assert.Equal(("rpc.statd", "/usr/sbin/rpc.statd", (ulong)min, Transport.Udp), (seen.ProcessName, seen.Executable, seen.DistinctHosts, seen.Transport));

        // More hosts with the same process, and hosts going stale and back: nothing new.
        var before = feed.Pending.Count(e => e.Kind == WatchEventKind.NewProcess);
        for (var host = min; host < min + 20; host++) Start(observations, feed, host, "rpc.statd", Unassigned);
        Run(observations, feed, Unassigned, _hosts.GoStale(0, At));
        Run(observations, feed, Unassigned, _hosts.ComeBack(0, At));
        Assert.Equal(before, feed.Pending.Count(e => e.Kind == WatchEventKind.NewProcess));
    }

    [Fact]
    public void The_first_listener_on_a_ghost_raises_its_first_listener_and_the_verdict_change()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        Assert.Equal(VerdictKind.Ghost, (VerdictKind)(int)VerdictRules.Decide((int)Port, Wpages, [], 0, _context.Fleet.Reporting, _context.Options)!.Kind);

        Start(observations, feed, 0, "rpc.statd", Assigned);

        var listener = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.GhostListener);
        Assert.Equal((VerdictKind.Ghost, VerdictKind.InsufficientEvidence), (listener.OldVerdict, listener.NewVerdict));
        var change = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.VerdictChanged);
        Assert.Equal((VerdictKind.Ghost, VerdictKind.InsufficientEvidence, Transport.Udp), (change.OldVerdict, change.NewVerdict, change.Transport));

        // The next listeners on the port are no first listener.
        var count = feed.Pending.Count;
        Start(observations, feed, 1, "rpc.statd", Assigned);
        Assert.Equal(count, feed.Pending.Count);
    }

    [Fact]
    public void Each_verdict_change_is_an_event_of_its_own_even_back_to_an_earlier_verdict()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        var registry = Unassigned;
        for (var host = 0; host < 3; host++) Start(observations, feed, host, "rpc.statd", registry);
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
        Start(observations, feed, 0, "rpc.statd", Assigned);
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
        for (var host = 0; host < 5; host++) observations.Apply(Writer, _hosts.Start(host, "rpc.statd", At));
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
        Start(first, firstFeed, 0, "rpc.statd", Assigned);
        firstFeed.Detect(first, Assigned, 1, judge: true);
        var checkpoint = Copy(stored);
        firstFeed.Stored(firstFeed.Pending.Count);

        var journal = Enumerable.Range(2, 6).SelectMany(host => _hosts.Start(host, host % 2 == 0 ? "rpc.statd" : "nfsd", At.AddSeconds(host))).ToArray();
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
    public void A_counted_process_its_last_online_host_stops_is_gone_once_and_comes_back_as_a_new_life_with_ids_a_replay_repeats()
    {
        var stored = new ObservedUsage { RaisedVerdicts = [] };
        var (observations, feed) = Port776(stored);
        for (var host = 0; host < 3; host++) Start(observations, feed, host, "rpc.statd", Assigned);
        Start(observations, feed, 9, "nfsd", Assigned);
        var first = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.NewProcess).EventId;
        feed.Stored(feed.Pending.Count);

        // Every host stops both: rpc.statd is announced gone; nfsd (on one host, below the privacy floor) never was announced.
        for (var host = 0; host < 3; host++) Run(observations, feed, Assigned, _hosts.Stop(host, "rpc.statd", At.AddMinutes(1)));
        Run(observations, feed, Assigned, _hosts.Stop(9, "nfsd", At.AddMinutes(1)));
        var gone = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.ProcessGone);
        Assert.Equal(("rpc.statd", At.AddMinutes(1), 3UL), (gone.ProcessName, gone.LastSeen.ToDateTime(), gone.DistinctHosts));
        var change = feed.Pending.Last(e => e.Kind == WatchEventKind.VerdictChanged);
        Assert.Equal((VerdictKind.InsufficientEvidence, VerdictKind.Ghost), (change.OldVerdict, change.NewVerdict));
        Assert.Equal(VerdictKind.Ghost, Assert.Single(observations.IndexRows(Assigned)).Verdict);
        Assert.True(Process(observations, "rpc.statd").Gone);
        var checkpoint = Copy(stored);
        feed.Stored(feed.Pending.Count);

        // Three hosts start it again, delivered together: a new life, a first listener on the ghost, and the verdict back.
        var back = new[] { 1, 2, 3 }.SelectMany(host => _hosts.Start(host, "rpc.statd", At.AddHours(1))).ToArray();
        observations.Apply(Writer, back);
        feed.Detect(observations, Assigned, 1, judge: observations.VerdictInputsChanged);

        var again = Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.NewProcess);
        Assert.NotEqual(first, again.EventId);
        Assert.False(Process(observations, "rpc.statd").Gone);
        Assert.Equal(VerdictKind.Squatter, feed.Pending.Last(e => e.Kind == WatchEventKind.VerdictChanged).NewVerdict);
        Assert.Equal(VerdictKind.Ghost, Assert.Single(feed.Pending, e => e.Kind == WatchEventKind.GhostListener).OldVerdict);

        // The silo dies before the next checkpoint: replaying the journal on the stored state raises the same ids.
        var (replayed, replayFeed) = Port776(checkpoint);
        replayed.Apply(Writer, back);
        replayFeed.Detect(replayed, Assigned, 1, judge: true);
        Assert.Equal(feed.Pending.Select(e => e.EventId).Order(StringComparer.Ordinal), replayFeed.Pending.Select(e => e.EventId).Order(StringComparer.Ordinal));

        // Gone a second time: an event of its own, not the first life's again.
        foreach (var host in new[] { 1, 2, 3 }) Run(observations, feed, Assigned, _hosts.Stop(host, "rpc.statd", At.AddHours(2)));
        Assert.Equal(2, feed.Pending.Concat([gone]).Where(e => e.Kind == WatchEventKind.ProcessGone).Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public void Hosts_going_stale_change_no_verdict_and_a_process_whose_hosts_are_retired_is_not_announced_gone()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        for (var host = 0; host < 3; host++) Start(observations, feed, host, "rpc.statd", Assigned);
        feed.Stored(feed.Pending.Count);

        // Every host goes home: still a squatter, counted as stale, and no event.
        for (var host = 0; host < 3; host++) Run(observations, feed, Assigned, _hosts.GoStale(host, At.AddHours(1)));
        Assert.Empty(feed.Pending);
        var verdict = Assert.Single(observations.Verdicts(Assigned));
        Assert.Equal(VerdictOutcome.Squatter, verdict.Result.Kind);
        Assert.Contains("(3 stale)", verdict.Result.Reason, StringComparison.Ordinal);
        Assert.Equal((0L, 3L), (Process(observations, "rpc.statd").Listeners.Online, Process(observations, "rpc.statd").Listeners.Stale));

        // Retired (silent too long): the process no longer listens, without a "gone" (no online host stopped it).
        for (var host = 0; host < 3; host++) Run(observations, feed, Assigned, _hosts.Retire(host, At.AddDays(31)));
        Assert.DoesNotContain(feed.Pending, e => e.Kind == WatchEventKind.ProcessGone);
        Assert.Equal(VerdictKind.Ghost, Assert.Single(observations.IndexRows(Assigned)).Verdict);
    }

    [Fact]
    public void An_unassigned_port_where_nothing_listens_any_more_keeps_an_index_row_with_nothing_to_judge()
    {
        var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
        for (var host = 0; host < 3; host++) Start(observations, feed, host, "rpc.statd", Unassigned);
        Assert.Equal(VerdictKind.Unregistered, Assert.Single(observations.IndexRows(Unassigned)).Verdict);

        for (var host = 0; host < 3; host++) Run(observations, feed, Unassigned, _hosts.Stop(host, "rpc.statd", At.AddDays(1)));

        var row = Assert.Single(observations.IndexRows(Unassigned));
        Assert.Equal((VerdictKind.Unspecified, 0L), (row.Verdict, row.Hosts));
        Assert.Empty(observations.Verdicts(Unassigned));
    }

    [Fact]
    public void Whatever_hosts_do_the_counts_are_the_hosts_listening_and_a_process_is_announced_new_and_gone_in_turn()
    {
        // An operation on a host: start or stop a process, go stale, come back, or be retired.
        var operations = Gen.Select(Gen.Int[0, 4], Gen.Int[0, 2], Gen.Int[0, 5]).Array[1, 80];
        operations.Sample(ops =>
        {
            var hosts = new ListenerScript();
            var (observations, feed) = Port776(new ObservedUsage { RaisedVerdicts = [] });
            var minute = 0;
            foreach (var (op, process, host) in ops)
            {
                var at = At.AddMinutes(++minute);
                var entries = op switch
                {
                    0 => hosts.Start(host, $"p{process}", at),
                    1 => hosts.Stop(host, $"p{process}", at),
                    2 => hosts.GoStale(host, at),
                    3 => hosts.ComeBack(host, at),
                    _ => hosts.Retire(host, at),
                };
                observations.Apply(Writer, entries);
                feed.Detect(observations, Assigned, 1, judge: observations.VerdictInputsChanged);

                foreach (var name in new[] { "p0", "p1", "p2" })
                {
                    var (online, all) = hosts.Hosts(name);
                    var counts = observations.Usage.Transports.SelectMany(t => t.Processes.Values).SingleOrDefault(p => p.Name == name)?.Listeners;
                    Assert.Equal((online, all), ((int)(counts?.Online ?? 0), (int)(counts?.Current ?? 0)));
                }

                var silent = observations.Usage.Transports.SelectMany(t => t.Processes.Values).Where(p => p.Listeners.Current == 0).Select(p => p.Name).ToHashSet();
                foreach (var (_, result, _) in observations.Verdicts(Assigned)) Assert.DoesNotContain(result.ObservedProcesses, silent.Contains);
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

    private void Start(PortObservations observations, PortWatchFeed feed, int host, string process, Func<Transport, RegistrySide> registry) =>
        Run(observations, feed, registry, _hosts.Start(host, process, At.AddSeconds(_hosts.Seq + 1)));

    private static void Run(PortObservations observations, PortWatchFeed feed, Func<Transport, RegistrySide> registry, ObservationEntry[] entries)
    {
        observations.Apply(Writer, entries);
        feed.Detect(observations, registry, generation: 1, judge: observations.VerdictInputsChanged);
    }

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
            var t = new TransportUsage
            {
                Transport = transport.Transport, Sightings = transport.Sightings, FirstSeen = transport.FirstSeen, LastSeen = transport.LastSeen,
                Listeners = Copy(transport.Listeners),
            };
            foreach (var host in transport.Hosts.Exact) t.Hosts.Add(host, HostSetLimits.Transport);
            foreach (var (key, process) in transport.Processes)
            {
                var p = new ProcessUsage
                {
                    Name = process.Name, Executable = process.Executable, Program = process.Program, SystemdUnit = process.SystemdUnit,
                    Sightings = process.Sightings, Weight = process.Weight, FirstSeen = process.FirstSeen, LastSeen = process.LastSeen,
                    Gone = process.Gone, Returns = process.Returns, Listeners = Copy(process.Listeners), Announced = process.Announced,
                    PeakHosts = process.PeakHosts,
                };
                foreach (var host in process.Hosts.Exact) p.Hosts.Add(host, HostSetLimits.Process);
                t.Processes[key] = p;
            }

            copy.Transports.Add(t);
        }

        return copy;
    }

    private static ListenerCounts Copy(ListenerCounts counts) => new()
    {
        OnlineReachable = counts.OnlineReachable, OnlineLoopback = counts.OnlineLoopback, StaleReachable = counts.StaleReachable, StaleLoopback = counts.StaleLoopback,
    };

    private sealed class Context : IObservationContext
    {
        public FleetCounts Fleet { get; set; } = new(1_000, 0, 0);

        public VerdictOptions Options { get; } = new();

        public ProcessServiceMap Processes => ProcessServiceMap.Default;

        public int CheckpointEvery => 20_000;

        public TimeSpan CheckpointInterval => TimeSpan.FromSeconds(15);
    }
}
