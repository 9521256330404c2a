// Over 250 lines: one grain under test on the in-memory cluster, its cases sharing the builders at the end.
using Orleans.Concurrency;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Tests.Support;
using PortHistory.Observations;

namespace PortHistory.Grains.Tests;

/// <summary>
/// Port grains in a silo: staged registry timelines become visible only once their generation commits, and
/// observation deltas are applied exactly once, with entries a delta skipped read back from the journal.
/// </summary>
[Collection(PortGrainCollection.Name)]
public sealed class PortGrainTests(PortGrainCluster fixture)
{
    private static readonly DateTime At = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly PortQuery Newest = new(Transport.Unspecified, null);

    [Fact]
    public async Task A_staged_generation_is_answered_once_the_catalog_commits_it()
    {
        var grain = Grain(770);

        await grain.StageRegistryAsync(101, [], new(TinyRegistry.Projection.PortTimelines[770]));
        var before = (await grain.GetPortAsync(Newest)).Value;
        PortGrainCluster.Catalog.Commit(101);
        var after = (await grain.GetPortAsync(Newest)).Value;

        Assert.Empty(Tcp(before).Records);
        Assert.Equal("cadlock", Tcp(after).Records.Single().ServiceName);
        Assert.Equal(TinyRegistry.FirstId, Tcp(after).Since.Id);
        Assert.Equal(new RegistryGenerations(null, 101, 101), await grain.GetRegistryGenerationsAsync());
    }

    [Fact]
    public async Task A_newer_staged_generation_stays_invisible_until_committed_while_the_older_one_answers()
    {
        var grain = Grain(771);
        await grain.StageRegistryAsync(201, [], new(TinyRegistry.FirstOnlyProjection.PortTimelines[771]));
        PortGrainCluster.Catalog.Commit(201);
        Assert.Equal("Real Time IP", Description(await grain.GetPortAsync(Newest)));

        await grain.StageRegistryAsync(202, [], new(TinyRegistry.Projection.PortTimelines[771]));

        Assert.Equal("Real Time IP", Description(await grain.GetPortAsync(Newest)));
        Assert.Single(Assert.Single((await grain.GetTimelineAsync(Transport.Tcp)).Value.Timelines).Versions);
        Assert.Equal(new RegistryGenerations(201, 202, 201), await grain.GetRegistryGenerationsAsync());

        PortGrainCluster.Catalog.Commit(202);

        Assert.Equal("Real-time IP", Description(await grain.GetPortAsync(Newest)));
        Assert.Equal(2, Assert.Single((await grain.GetTimelineAsync(Transport.Tcp)).Value.Timelines).Versions.Count);
    }

    [Fact]
    public async Task A_staged_generation_the_importer_aborted_never_becomes_the_committed_one()
    {
        var grain = Grain(9);
        await grain.StageRegistryAsync(301, [], new(TinyRegistry.Projection.PortTimelines[9]));
        await grain.StageRegistryAsync(303, [], new(TinyRegistry.Projection.PortTimelines[9]));
        Assert.Equal(new RegistryGenerations(301, 303, 301), await grain.GetRegistryGenerationsAsync());

        await grain.StageRegistryAsync(305, [303], new(TinyRegistry.Projection.PortTimelines[9]));

        Assert.Equal(new RegistryGenerations(301, 305, 301), await grain.GetRegistryGenerationsAsync());
        // A replayed older stage changes nothing.
        await grain.StageRegistryAsync(303, [], new(TinyRegistry.Projection.PortTimelines[9]));
        Assert.Equal(new RegistryGenerations(301, 305, 301), await grain.GetRegistryGenerationsAsync());
    }

    [Fact]
    public async Task Observed_deltas_add_up_once_each_and_decide_the_verdict()
    {
        const int port = 776, writer = 1;
        var grain = Grain(port);
        await grain.StageRegistryAsync(401, [], new(TinyRegistry.Projection.PortTimelines[port]));
        PortGrainCluster.Catalog.Commit(401);

        var hosts = new ListenerScript();
        var first = Starts(hosts, 1, 4, "rpc.statd");
        PortGrainCluster.Journal.Append(port, writer, first);
        await grain.ObserveAsync(new([new ObservationDelta(writer, 0, first)]));
        var afterFirst = await Observed(grain);

        var second = Starts(hosts, 5, 6, "rpc.statd");
        PortGrainCluster.Journal.Append(port, writer, second);
        await grain.ObserveAsync(new([new ObservationDelta(writer, first[^1].Seq, second)]));
        // Delivered twice (a retry): the watermark keeps it from counting again.
        await grain.ObserveAsync(new([new ObservationDelta(writer, first[^1].Seq, second)]));
        var afterSecond = await Observed(grain);

        Assert.Equal((4UL, 4UL), Totals(afterFirst));
        Assert.Equal((6UL, 6UL), Totals(afterSecond));
        // wpages is assigned on both transports; rpc.statd squats on udp, and nothing at all runs on tcp.
        var verdicts = afterSecond.Verdicts.ToDictionary(v => v.Transport);
        Assert.Equal((Contracts.V1.VerdictKind.Squatter, "wpages"), (verdicts[Transport.Udp].Kind, verdicts[Transport.Udp].AssignedService));
        Assert.Equal(["rpc.statd"], verdicts[Transport.Udp].ObservedProcesses);
        Assert.Equal(Contracts.V1.VerdictKind.Ghost, verdicts[Transport.Tcp].Kind);
    }

    [Fact]
    public async Task A_delta_past_the_watermark_makes_the_grain_read_the_missed_entries_from_the_journal()
    {
        const int port = 3001, writer = 7;
        var grain = Grain(port);
        // Active before anything is journaled, so activation has nothing to catch up on.
        Assert.Empty((await Observed(grain)).Observed.Transports);

        // The first three hosts' entries were journaled but their delta never arrived.
        var hosts = new ListenerScript();
        var missed = Starts(hosts, 1, 3, "myapp");
        var delivered = Starts(hosts, 4, 5, "myapp");
        PortGrainCluster.Journal.Append(port, writer, [.. missed, .. delivered]);
        await grain.ObserveAsync(new([new ObservationDelta(writer, missed[^1].Seq, delivered)]));

        Assert.Equal((5UL, 5UL), Totals(await Observed(grain)));
    }

    [Fact]
    public async Task A_delta_without_entries_makes_the_grain_read_up_to_its_sequence()
    {
        const int port = 3002, writer = 8;
        var grain = Grain(port);
        Assert.Empty((await Observed(grain)).Observed.Transports);

        var journaled = Starts(new ListenerScript(), 1, 3, "myapp");
        PortGrainCluster.Journal.Append(port, writer, journaled);
        await grain.ObserveAsync(new([new ObservationDelta(writer, journaled[^1].Seq, [])]));

        Assert.Equal((3UL, 3UL), Totals(await Observed(grain)));
    }

    [Fact]
    public async Task Observations_are_answered_with_the_port_and_only_for_the_transport_asked()
    {
        const int port = 3003, writer = 9;
        var grain = Grain(port);
        var entries = Starts(new ListenerScript(), 1, 3, "myapp");
        PortGrainCluster.Journal.Append(port, writer, entries);
        await grain.ObserveAsync(new([new ObservationDelta(writer, 0, entries)]));

        var portAnswer = (await grain.GetPortAsync(Newest)).Value;
        var tcp = (await grain.GetObservedAsync(Transport.Tcp, includeHostRefs: false)).Value;

        Assert.Equal(3UL, Assert.Single(portAnswer.Observed.Transports).OnlineHosts);
        Assert.Equal(Contracts.V1.VerdictKind.Unregistered, Assert.Single(portAnswer.Verdicts).Kind);
        Assert.Empty(tcp.Observed.Transports);
        Assert.Empty(tcp.Verdicts);
    }

    [Fact]
    public async Task Watch_events_the_grain_could_not_store_are_stored_before_its_next_state_write()
    {
        const int port = 12345, writer = 1;
        var grain = Grain(port);
        var sightings = Starts(new ListenerScript(), 1, 3, "newcomer");
        PortGrainCluster.Journal.Append(port, writer, sightings);
        PortGrainCluster.WatchEvents.Failing = true;
        try
        {
            // Ingest goes on while the event log is down: the delivery is applied, its events kept pending.
            await grain.ObserveAsync(new([new ObservationDelta(writer, 0, sightings)]));
        }
        finally
        {
            PortGrainCluster.WatchEvents.Failing = false;
        }

        Assert.Equal((3UL, 3UL), Totals(await Observed(grain)));
        Assert.Empty(PortGrainCluster.WatchEvents.Of(port));

        // A registry refresh writes the state, and the events go first.
        await grain.RefreshVerdictsAsync(generation: 0);

        var raised = PortGrainCluster.WatchEvents.Of(port);
        Assert.Equal("newcomer", Assert.Single(raised, e => e.Kind == WatchEventKind.NewProcess).ProcessName);
        Assert.Equal(Contracts.V1.VerdictKind.Unregistered, Assert.Single(raised, e => e.Kind == WatchEventKind.VerdictChanged).NewVerdict);
    }

    [Fact]
    public async Task Watch_events_the_grain_could_not_store_are_counted_and_raised_again_without_waiting_for_a_checkpoint()
    {
        const int port = 12346, writer = 1;
        var grain = Grain(port);
        var sightings = Starts(new ListenerScript(), 1, 3, "retried");
        PortGrainCluster.Journal.Append(port, writer, sightings);
        var unstoredBefore = PortGrainCluster.Metrics.UnstoredWatchEvents;
        PortGrainCluster.WatchEvents.Failing = true;
        try
        {
            await grain.ObserveAsync(new([new ObservationDelta(writer, 0, sightings)]));
        }
        finally
        {
            PortGrainCluster.WatchEvents.Failing = false;
        }

        // A new process and its verdict, not stored and counted so.
        Assert.True(PortGrainCluster.Metrics.UnstoredWatchEvents - unstoredBefore >= 2);
        Assert.Empty(PortGrainCluster.WatchEvents.Of(port));

        // No checkpoint is due for an hour: the grain raises them again by itself.
        await PortGrainCluster.WatchEvents.StoredAsync(port).WaitAsync(TimeSpan.FromSeconds(30));
        var raised = PortGrainCluster.WatchEvents.Of(port);
        Assert.Equal("retried", Assert.Single(raised, e => e.Kind == WatchEventKind.NewProcess).ProcessName);
        Assert.Single(raised, e => e.Kind == WatchEventKind.VerdictChanged);
    }

    [Fact]
    public async Task A_grain_told_of_an_expectation_version_judges_again_and_drops_its_kept_answer()
    {
        const int port = 4712, writer = 4;
        var grain = Grain(port);
        var entries = Starts(new ListenerScript(), 1, 4, "myapp");
        PortGrainCluster.Journal.Append(port, writer, entries);
        await grain.ObserveAsync(new([new ObservationDelta(writer, 0, entries)]));
        // The common answer is kept from here on.
        Assert.Equal(Contracts.V1.VerdictKind.Unregistered, Assert.Single((await grain.GetPortAsync(Newest)).Value.Verdicts).Kind);

        PortGrainCluster.Expectations.Stage(7, port, Transport.Udp, new ExpectationRule("4712/udp", "myapp", null, "ops", At));
        Assert.Equal(Contracts.V1.VerdictKind.Unregistered, Assert.Single((await grain.GetPortAsync(Newest)).Value.Verdicts).Kind);
        await grain.RefreshExpectationsAsync(7);

        var verdict = Assert.Single((await grain.GetPortAsync(Newest)).Value.Verdicts);
        Assert.Equal(Contracts.V1.VerdictKind.Expected, verdict.Kind);
        Assert.StartsWith("expected: 4712/udp myapp (rule set by ops on 2026-05-01)", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_group_rule_covers_a_process_reported_in_its_group_and_not_one_reported_without()
    {
        const int inGroup = 4713, withoutGroup = 4714, writer = 4;
        foreach (var (port, group) in new[] { (inGroup, "db"), (withoutGroup, "") })
        {
            var entries = Starts(new ListenerScript(), 1, 4, "myapp").Select(e => e with { HostGroup = group }).ToArray();
            PortGrainCluster.Journal.Append(port, writer, entries);
            await Grain(port).ObserveAsync(new([new ObservationDelta(writer, 0, entries)]));
            PortGrainCluster.Expectations.Stage(8 + port, port, Transport.Udp, new ExpectationRule($"{port}/udp", "myapp", "db", "ops", At));
            await Grain(port).RefreshExpectationsAsync(8 + port);
        }

        var covered = Assert.Single((await Grain(inGroup).GetPortAsync(Newest)).Value.Verdicts);
        Assert.Equal(Contracts.V1.VerdictKind.Expected, covered.Kind);
        Assert.Contains("in group db", covered.Reason, StringComparison.Ordinal);
        Assert.NotEqual(Contracts.V1.VerdictKind.Expected, Assert.Single((await Grain(withoutGroup).GetPortAsync(Newest)).Value.Verdicts).Kind);
    }

    private IPortGrain Grain(int port) => fixture.Cluster.GrainFactory.GetGrain<IPortGrain>(port);

    private static async Task<GetObservedResponse> Observed(IPortGrain grain) =>
        (await grain.GetObservedAsync(Transport.Unspecified, includeHostRefs: false)).Value;

    /// <summary>Hosts listening on the port's one observed transport, and hosts running its one process.</summary>
    private static (ulong Hosts, ulong ProcessHosts) Totals(GetObservedResponse response)
    {
        var transport = Assert.Single(response.Observed.Transports);
        return (transport.OnlineHosts, Assert.Single(transport.Processes).OnlineHosts);
    }

    private static TransportAssignment Tcp(GetPortResponse response) => response.Transports.Single(t => t.Transport == Transport.Tcp);

    private static string Description(Immutable<GetPortResponse> response) => Tcp(response.Value).Records.Single().Description;

    /// <summary>Hosts first..last starting the process on udp, as their grains pass it on (numbered on from the script's last entry).</summary>
    private static ObservationEntry[] Starts(ListenerScript hosts, int first, int last, string process) =>
        [.. Enumerable.Range(first, last - first + 1).SelectMany(host => hosts.Start(host, process, At.AddSeconds(host)))];
}
