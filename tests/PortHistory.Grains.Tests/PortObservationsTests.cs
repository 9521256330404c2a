// Over 250 lines: the specification of one aggregate (a port's observations), a case per rule, sharing its builders.
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Observations;
using PortHistory.Observations;

namespace PortHistory.Grains.Tests;

/// <summary>
/// A port's observed usage: journal entries apply exactly once, an entry that cannot be applied is quarantined without
/// stopping the port, and whatever agents send, the state and the answers stay bounded.
/// </summary>
public sealed class PortObservationsTests
{
    private const uint Port = 111;
    private const int Writer = 1;
    private const int Flood = 100_000;

    /// <summary>The quarantine keeps this many reasons for admins, however many entries it counts.</summary>
    private const int QuarantineReasonsKept = 5;

    private static readonly DateTime At = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly Transport[] AllTransports = [Transport.Tcp, Transport.Udp, Transport.Sctp, Transport.Dccp];

    private readonly ObservedUsage _usage = new();
    private readonly PortObservations _observations;

    public PortObservationsTests() => _observations = new PortObservations(Port, _usage, new FixedContext());

    [Fact]
    public void An_entry_at_or_below_its_writers_watermark_is_not_applied_again()
    {
        Assert.Equal(3, _observations.Apply(Writer, [Entry(1, host: 0), Entry(2, host: 1), Entry(3, host: 2)]));
        Assert.Equal(1, _observations.Apply(Writer, [Entry(2, host: 1), Entry(3, host: 2), Entry(4, host: 3)]));
        Assert.Equal(0, _observations.Apply(Writer, [Entry(1, host: 0), Entry(4, host: 3)]));

        Assert.Equal(4L, _observations.Watermark(Writer));
        var tcp = Assert.Single(_usage.Transports);
        Assert.Equal(4L, tcp.Sightings);
        Assert.Equal(4L, tcp.Hosts.Count);
        Assert.Equal(4L, Assert.Single(tcp.Processes.Values).Sightings);

        // Another writer's sequence numbers are its own.
        Assert.Equal(2, _observations.Apply(Writer + 1, [Entry(1, host: 9), Entry(2, host: 9)]));
        Assert.Equal(6L, tcp.Sightings);
        Assert.Equal(4L, _observations.Watermark(Writer));
        Assert.Equal(2L, _observations.Watermark(Writer + 1));
    }

    [Fact]
    public void An_entry_with_an_unknown_transport_or_bind_scope_is_quarantined_and_later_entries_still_apply()
    {
        var applied = _observations.Apply(Writer,
        [
            Entry(1, host: 0),
            Entry(2, transport: (Transport)(-1)),
            Entry(3, transport: (Transport)99),
            Entry(4, transport: Transport.Unspecified),
            Entry(5, scope: (BindScope)77),
            Entry(6, host: 1),
        ]);

        Assert.Equal(6, applied);
        Assert.Equal(6L, _observations.Watermark(Writer));
        Assert.Equal(4L, _usage.Quarantined);
        Assert.Collection(_usage.QuarantineReasons,
            reason => AssertMentions(reason, "seq 2", "-1"),
            reason => AssertMentions(reason, "seq 3", "99"),
            reason => AssertMentions(reason, "seq 4"),
            reason => AssertMentions(reason, "seq 5", "77"));
        var tcp = Assert.Single(_usage.Transports);
        Assert.Equal(Transport.Tcp, tcp.Transport);
        Assert.Equal(2L, tcp.Sightings);

        Assert.Equal(1, _observations.Apply(Writer, [Entry(7, host: 2)]));
        Assert.Equal(3L, tcp.Sightings);

        // Sent again, the quarantined entries are below the watermark like any other: not counted twice.
        Assert.Equal(0, _observations.Apply(Writer, [Entry(2, transport: (Transport)(-1)), Entry(5, scope: (BindScope)77)]));
        Assert.Equal(4L, _usage.Quarantined);
    }

    [Fact]
    public void Every_quarantined_entry_is_counted_but_only_the_first_few_reasons_are_kept()
    {
        var bad = Enumerable.Range(1, 3 * QuarantineReasonsKept).Select(seq => Entry(seq, transport: (Transport)(100 + seq))).ToList();

        Assert.Equal(bad.Count, _observations.Apply(Writer, bad));

        Assert.Equal((long)bad.Count, _usage.Quarantined);
        Assert.Equal(QuarantineReasonsKept, _usage.QuarantineReasons.Count);
        AssertMentions(_usage.QuarantineReasons[0], "seq 1:", "101");
        Assert.Equal((long)bad.Count, _observations.Watermark(Writer));
        Assert.Empty(_usage.Transports);
    }

    [Fact]
    public void Only_the_admin_summary_shows_the_quarantine()
    {
        _observations.Apply(Writer, [Entry(1, host: 0), Entry(2, transport: (Transport)99), Entry(3, scope: (BindScope)77)]);

        var admin = _observations.Summary(includeHostRefs: true);
        var anyone = _observations.Summary(includeHostRefs: false);

        Assert.Equal(2UL, admin.QuarantinedSightings);
        Assert.Equal(_usage.QuarantineReasons, admin.QuarantineReasons);
        Assert.Equal(2, admin.QuarantineReasons.Count);
        Assert.Equal(0UL, anyone.QuarantinedSightings);
        Assert.Empty(anyone.QuarantineReasons);
    }

    [Fact]
    public void A_flood_of_distinct_processes_keeps_a_bounded_number_and_every_sighting_is_counted()
    {
        _observations.Apply(Writer, [.. Enumerable.Range(1, Flood).Select(i => Entry(i, process: $"flood-{i}", host: i))]);

        var tcp = Assert.Single(_usage.Transports);
        Assert.InRange(tcp.Processes.Count, 1, PortObservations.MaxProcessesPerTransport);
        Assert.NotNull(tcp.Other);
        Assert.Equal((long)Flood, tcp.Sightings);
        Assert.Equal((long)Flood, tcp.Processes.Values.Sum(p => p.Sightings) + tcp.Other.Sightings);
        Assert.Equal((long)(Flood - tcp.Processes.Count), tcp.OtherProcesses);

        var answer = Assert.Single(_observations.Summary(includeHostRefs: true).Transports);
        Assert.Equal((ulong)Flood, answer.Sightings);
        Assert.Equal((ulong)Flood, SightingsOf(answer));
        Assert.Equal((uint)(Flood - answer.Processes.Count), answer.OtherProcesses);
    }

    [Fact]
    public void A_process_seen_far_more_often_than_the_flood_stays_listed()
    {
        const string statd = "rpc.statd";
        const int statdSightings = Flood / 10;
        _observations.Apply(Writer, [.. Enumerable.Range(1, Flood).Select(i => i % 10 == 0 ? Entry(i, process: statd, host: i) : Entry(i, process: $"flood-{i}", host: i))]);

        AssertListedWithSpaceSavingAccuracy(statd, statdSightings);
    }

    [Fact]
    public void A_process_that_arrives_late_but_then_dominates_gets_listed()
    {
        const string statd = "rpc.statd";
        const int statdSightings = Flood / 2 / 5;
        _observations.Apply(Writer, [.. Enumerable.Range(1, Flood).Select(i => i > Flood / 2 && i % 5 == 0 ? Entry(i, process: statd, host: i) : Entry(i, process: $"flood-{i}", host: i))]);

        AssertListedWithSpaceSavingAccuracy(statd, statdSightings);
    }

    [Fact]
    public void A_hundred_thousand_distinct_hosts_are_counted_within_five_percent_in_bounded_memory()
    {
        _observations.Apply(Writer, [.. Enumerable.Range(1, Flood).Select(i => Entry(i, host: i))]);

        var answer = Assert.Single(_observations.Summary(includeHostRefs: false).Transports);
        Assert.InRange(answer.DistinctHosts, (ulong)(Flood * 0.95), (ulong)(Flood * 1.05));
        var tcp = Assert.Single(_usage.Transports);
        Assert.Empty(tcp.Hosts.Exact);
        Assert.NotNull(tcp.Hosts.Sketch);
        Assert.InRange(Assert.Single(tcp.Processes.Values).HostRefs.Count, 1, ProcessUsage.HostRefsKept);
    }

    [Theory]
    [InlineData('x')]
    [InlineData('é')]
    [InlineData('中')]
    public void The_admin_answer_stays_under_64_KB_on_all_four_transports_with_the_longest_values_allowed(char letter)
    {
        const int processes = 100, sightingsEach = 20;
        // The longest a process name (256), an executable (4,096), a host ref (128), a program (128) and a unit (256) may be.
        var names = Enumerable.Range(0, processes).Select(p => $"{p:D3}-{new string(letter, 256 - 4)}").ToArray();
        var programs = Enumerable.Range(0, processes).Select(p => $"{p:D3}-{new string(letter, 128 - 4)}").ToArray();
        var units = Enumerable.Range(0, processes).Select(p => $"{p:D3}-{new string(letter, 256 - 4)}").ToArray();
        var executables = Enumerable.Range(0, processes).Select(p => $"/{p:D3}/{new string(letter, 4096 - 5)}").ToArray();
        var entries = new List<ObservationEntry>();
        foreach (var transport in AllTransports)
        {
            for (var i = 0; i < processes * sightingsEach; i++)
            {
                var hostRef = $"{transport}-{i}-".PadRight(128, 'h');
                var process = i / sightingsEach;
                entries.Add(new ObservationEntry(entries.Count + 1, transport, HostRefs.Hash(hostRef), hostRef, names[process], executables[process],
                    At, BindScope.Wildcard, Privileged: true, Program: programs[process], SystemdUnit: units[process]));
            }
        }

        _observations.Apply(Writer, entries);

        Assert.Equal(0L, _usage.Quarantined);
        var summary = _observations.Summary(includeHostRefs: true);
        Assert.Equal(AllTransports, summary.Transports.Select(t => t.Transport).ToArray());
        Assert.InRange(summary.CalculateSize(), 1, 64 * 1024 - 1);
        // What an answer leaves out is added up under "other", not lost.
        Assert.All(summary.Transports, t => Assert.Equal((ulong)(processes * sightingsEach), SightingsOf(t)));
    }

    [Fact]
    public void A_verdict_names_at_most_a_few_processes_however_many_run_on_the_port()
    {
        const int processes = 20, hostsEach = 5;
        var entries = new List<ObservationEntry>();
        foreach (var transport in AllTransports)
        {
            for (var p = 0; p < processes; p++)
            {
                for (var h = 0; h < hostsEach; h++) entries.Add(Entry(entries.Count + 1, process: $"squatter-{p:D2}", transport: transport, host: p * hostsEach + h));
            }
        }

        _observations.Apply(Writer, [.. entries.Select(Started)]);
        var registry = new RegistrySide("wpages", ["wpages"], "2001-01-01", "Assigned");

        var verdicts = _observations.Verdicts(_ => registry);

        Assert.Equal(AllTransports, verdicts.Select(v => v.Transport).ToArray());
        Assert.All(verdicts, verdict =>
        {
            Assert.InRange(verdict.Result.ObservedProcesses.Count, 1, VerdictRules.NamedProcesses);
            var named = Enumerable.Range(0, processes).Count(p => verdict.Result.Reason.Contains($"squatter-{p:D2}", StringComparison.Ordinal));
            Assert.InRange(named, 1, VerdictRules.NamedProcesses);
            Assert.All(verdict.Result.ObservedProcesses, name => Assert.Contains(name, verdict.Result.Reason, StringComparison.Ordinal));
        });
    }

    [Fact]
    public void Runtimes_running_different_programs_are_different_processes_and_the_program_decides_the_verdict()
    {
        var entries = new List<ObservationEntry>();
        for (var h = 0; h < 5; h++)
        {
            entries.Add(Entry(entries.Count + 1, process: "beam.smp", host: h) with { Program = "rabbit", SystemdUnit = "rabbitmq-server.service" });
            if (h < 3) entries.Add(Entry(entries.Count + 1, process: "beam.smp", host: 10 + h) with { Program = "couchdb" });
        }

        _observations.Apply(Writer, [.. entries.Select(Started)]);
        var amqp = new RegistrySide("amqp", ["amqp"], "2005-01-01", "Assigned");

        var tcp = Assert.Single(_usage.Transports);
        Assert.Equal(["couchdb", "rabbit"], tcp.Processes.Values.Select(p => p.Program).Order(StringComparer.Ordinal));
        var verdict = Assert.Single(_observations.Verdicts(_ => amqp), v => v.Transport == Transport.Tcp);
        Assert.Equal(PortHistory.Observations.VerdictOutcome.Match, verdict.Result.Kind);
        Assert.Equal(["beam.smp (rabbit)", "beam.smp (couchdb)"], verdict.Result.ObservedProcesses);
        var listed = Assert.Single(_observations.Summary(includeHostRefs: false).Transports).Processes;
        Assert.Contains(listed, p => (p.ProcessName, p.Program, p.SystemdUnit, p.DistinctHosts) == ("beam.smp", "rabbit", "rabbitmq-server.service", 5ul));
    }

    [Fact]
    public void An_entry_from_a_silo_without_programs_counts_with_the_same_process_sent_without_one()
    {
        // A silo that predates programs and units deserialises entries without them: null there.
        _observations.Apply(Writer, [Entry(1, host: 0), Entry(2, host: 1) with { Program = null!, SystemdUnit = null! }]);

        var process = Assert.Single(Assert.Single(_usage.Transports).Processes);
        Assert.Equal(("rpcbind\0/usr/sbin/rpcbind", 2L, "", ""), (process.Key, process.Value.Sightings, process.Value.Program, process.Value.SystemdUnit));
    }

    [Fact]
    public void An_entry_with_an_overlong_program_or_unit_is_quarantined()
    {
        _observations.Apply(Writer, [Entry(1) with { Program = new string('p', 129) }, Entry(2) with { SystemdUnit = new string('u', 257) }, Entry(3, host: 1)]);

        Assert.Equal(2L, _usage.Quarantined);
        Assert.Contains(_usage.QuarantineReasons, r => r.Contains("program is 129 characters", StringComparison.Ordinal));
        Assert.Contains(_usage.QuarantineReasons, r => r.Contains("systemd_unit is 257 characters", StringComparison.Ordinal));
        Assert.Equal(1L, Assert.Single(_usage.Transports).Sightings);
    }

    /// <summary>
    /// Space-Saving with k counters lists every process with more than N / k of the sightings, and the count it
    /// shows misses at most N / k of them.
    /// </summary>
    private void AssertListedWithSpaceSavingAccuracy(string process, long sightings)
    {
        var tcp = Assert.Single(_usage.Transports);
        Assert.InRange(tcp.Processes.Count, 1, PortObservations.MaxProcessesPerTransport);
        var listed = Assert.Single(tcp.Processes.Values, p => p.Name == process);
        Assert.InRange(listed.Sightings, sightings - Flood / PortObservations.MaxProcessesPerTransport, sightings);
        Assert.Contains(Assert.Single(_observations.Summary(includeHostRefs: false).Transports).Processes, p => p.ProcessName == process);
    }

    [Fact]
    public void Host_sets_of_a_state_written_before_host_sets_had_sketches_are_carried_over_on_activation()
    {
        // As an older state reads back: the hashes in the fields that held them then, the new ones empty.
        HashSet<ulong> Hosts(params int[] hosts) => [.. hosts.Select(h => HostRefs.Hash($"host-{h}"))];
        var process = new ProcessUsage { Name = "rpcbind", Executable = "/usr/sbin/rpcbind", LegacyHosts = Hosts(1, 2, 3), Sightings = 3 };
        var transport = new TransportUsage { Transport = Transport.Tcp, LegacyHosts = Hosts(1, 2, 3, 4), Sightings = 4 };
        transport.Processes["rpcbind\0/usr/sbin/rpcbind"] = process;
        var usage = new ObservedUsage { Transports = [transport] };

        var observations = new PortObservations(Port, usage, new FixedContext());

        Assert.Equal((4L, 3L), (transport.Hosts.Count, process.Hosts.Count));
        Assert.Null(transport.LegacyHosts);
        Assert.Null(process.LegacyHosts);
        // The carried-over hosts count as known: a sighting from host 2 adds none.
        Assert.Equal(1, observations.Apply(Writer, [Entry(1, process: "rpcbind", host: 2)]));
        Assert.Equal((4L, 3L), (transport.Hosts.Count, process.Hosts.Count));
        Assert.Equal(4L, process.Sightings);
    }

    private static ObservationEntry Entry(long seq, string process = "rpcbind", Transport transport = Transport.Tcp, int host = 0,
        BindScope scope = BindScope.Wildcard) =>
        new(seq, transport, HostRefs.Hash($"host-{host}"), $"host-{host}", process, $"/usr/sbin/{process}", At.AddSeconds(seq), scope, Privileged: false);

    /// <summary>The listener change a host grain passes on when its host starts listening as the sighting shows.</summary>
    private static ObservationEntry Started(ObservationEntry sighting) =>
        ObservationEntry.Listener(sighting.Seq, sighting.Transport, ListenerChangeKind.Added, sighting.Scope != BindScope.Loopback, 1, sighting.ObservedAt,
            sighting.Process, sighting.Executable, sighting.Program, sighting.SystemdUnit);

    /// <summary>The sightings of an answer's listed processes and its "other", added up.</summary>
    private static ulong SightingsOf(ObservedTransport transport) =>
        transport.Processes.Aggregate(0UL, (sum, p) => sum + p.Sightings) + (transport.Other?.Sightings ?? 0UL);

    private static void AssertMentions(string text, params string[] parts)
    {
        foreach (var part in parts) Assert.Contains(part, text, StringComparison.Ordinal);
    }

    private sealed class FixedContext : IObservationContext
    {
        public FleetCounts Fleet { get; set; } = new(1_000, 0, 0);

        public VerdictOptions Options { get; } = new();

        public ProcessServiceMap Processes => ProcessServiceMap.Default;

        public int CheckpointEvery => 20_000;

        public TimeSpan CheckpointInterval => TimeSpan.FromSeconds(15);
    }
}
