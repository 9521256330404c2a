using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Hosts;
using PortHistory.Server.Application;
using static PortHistory.Grains.Tests.Hosts.HostCatalog;

namespace PortHistory.Grains.Tests.Hosts;

/// <summary>
/// A host grain over its stored row: a report that changes the set is committed with the listener changes it causes, at
/// the time the agent saw it; silence turns the host stale and a report brings it back; retiring removes its sockets.
/// </summary>
[Collection(HostGrainCollection.Name)]
public sealed class HostGrainTests(HostGrainCluster cluster)
{
    private const ulong Epoch = 0xabc;

    /// <summary>After the grains activate (a new host counts as heard when its grain activates, by the silo's clock).</summary>
    private static readonly DateTime T0 = DateTime.UtcNow.AddHours(1);

    private static readonly DateTime Started = T0.AddDays(-1);
    private static readonly HostSocket[] Web = Set(0b0000_0111);
    private static readonly HostSocket[] Db = Set(0b0100_0001);
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(30);

    private static MemoryHostRows Rows => HostGrainCluster.Rows;

    [Fact]
    public async Task A_change_is_committed_with_its_listener_changes_at_the_time_the_agent_saw_it()
    {
        var (host, hostRef) = Host(nameof(A_change_is_committed_with_its_listener_changes_at_the_time_the_agent_saw_it));
        await host.ReportAsync(Late(Snapshot(Epoch, Started, 1, Web, T0)));
        var seen = T0.AddMinutes(5);

        var answer = await host.ReportAsync(Late(Changes(Epoch, Started, 2, Web, Db, seen)));

        Assert.Equal((HostReportOutcome.Applied, 2UL), (answer.Outcome, answer.Seq));
        var commit = Rows.Of(hostRef)[^1];
        Assert.Equal((seen, 1L, 2UL), (commit.ChangedAt, commit.ExpectedVersion, commit.Row.Seq));
        Assert.Equal(Identities(Entries(Db, T0)), Identities(commit.Row.Sockets));
        Assert.Equal(Expected(l => HostListeners.Diff(Entries(Web, T0), Entries(Db, T0), l)), Sorted(commit.Changes));
    }

    [Fact]
    public async Task A_heartbeat_and_a_duplicate_write_nothing_and_answer_the_seq_held()
    {
        var (host, hostRef) = Host(nameof(A_heartbeat_and_a_duplicate_write_nothing_and_answer_the_seq_held));
        var snapshot = Snapshot(Epoch, Started, 1, Web, T0);
        await host.ReportAsync(snapshot);

        var alive = await host.ReportAsync(Heartbeat(Epoch, Started, 1, Web, T0.AddMinutes(1)));
        var again = await host.ReportAsync(snapshot);

        Assert.Equal((HostReportOutcome.Applied, 1UL), (alive.Outcome, alive.Seq));
        Assert.Equal((HostReportOutcome.Duplicate, 1UL), (again.Outcome, again.Seq));
        Assert.Single(Rows.Of(hostRef));
        Assert.Equal(T0.AddMinutes(1), HostGrainCluster.Pulse.LastHeard(hostRef));
    }

    [Fact]
    public async Task A_host_refused_while_the_silo_reads_too_many_rows_is_told_to_retry_without_an_error_logged_and_applies_next_time()
    {
        var (host, hostRef) = Host(nameof(A_host_refused_while_the_silo_reads_too_many_rows_is_told_to_retry_without_an_error_logged_and_applies_next_time));
        var snapshot = Snapshot(Epoch, Started, 1, Web, T0);

        HostGrainCluster.Pulse.Busy = true;
        try
        {
            await Assert.ThrowsAsync<HostsBusyException>(() => host.ReportAsync(snapshot));
        }
        finally
        {
            HostGrainCluster.Pulse.Busy = false;
        }

        var answer = await host.ReportAsync(snapshot);

        Assert.Equal((HostReportOutcome.Applied, 1UL), (answer.Outcome, answer.Seq));
        Assert.Single(Rows.Of(hostRef));
        Assert.DoesNotContain(HostGrainCluster.Logs.GetSnapshot(),
            log => log.Level >= Microsoft.Extensions.Logging.LogLevel.Error && (log.Exception is HostsBusyException || log.Message.Contains(hostRef, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_row_written_meanwhile_by_another_server_answers_resync_and_writes_nothing()
    {
        var (host, hostRef) = Host(nameof(A_row_written_meanwhile_by_another_server_answers_resync_and_writes_nothing));
        await host.ReportAsync(Snapshot(Epoch, Started, 1, Web, T0));
        Rows.WrittenElsewhere(hostRef, row => row);

        var answer = await host.ReportAsync(Changes(Epoch, Started, 2, Web, Db, T0.AddMinutes(1)));

        Assert.Equal(HostReportOutcome.Resync, answer.Outcome);
        Assert.Single(Rows.Of(hostRef));
        Assert.Equal(Identities(Entries(Web, T0)), Identities(Rows.Row(hostRef)!.Sockets));
    }

    [Fact]
    public async Task After_a_row_written_elsewhere_the_next_report_applies_against_the_stored_row()
    {
        var (host, hostRef) = Host(nameof(After_a_row_written_elsewhere_the_next_report_applies_against_the_stored_row));
        await host.ReportAsync(Snapshot(Epoch, Started, 1, Web, T0));
        Rows.WrittenElsewhere(hostRef, row => row);
        var change = Changes(Epoch, Started, 2, Web, Db, T0.AddMinutes(1));
        Assert.Equal(HostReportOutcome.Resync, (await host.ReportAsync(change)).Outcome);

        var retried = await host.ReportAsync(change);

        Assert.Equal(HostReportOutcome.Applied, retried.Outcome);
        Assert.Equal(Identities(Entries(Db, T0)), Identities(Rows.Row(hostRef)!.Sockets));
    }

    [Fact]
    public async Task A_silent_host_turns_stale_once_its_listeners_kept_and_counted_as_stale()
    {
        var (host, hostRef) = Host(nameof(A_silent_host_turns_stale_once_its_listeners_kept_and_counted_as_stale));
        await host.ReportAsync(Snapshot(Epoch, Started, 1, Web, T0));

        Assert.Equal(HostState.Online, await host.CheckLivenessAsync(T0));
        Assert.Equal(HostState.Stale, await host.CheckLivenessAsync(T0.AddMinutes(3)));
        Assert.Equal(HostState.Stale, await host.CheckLivenessAsync(T0.AddMinutes(6)));

        var commits = Rows.Of(hostRef);
        Assert.Equal(2, commits.Count);
        Assert.Equal(Expected(l => HostListeners.All(Entries(Web, T0), ListenerChangeKind.WentStale, l)), Sorted(commits[1].Changes));
        Assert.Equal(HostState.Stale, commits[1].Row.State);
        Assert.Equal(Identities(Entries(Web, T0)), Identities(commits[1].Row.Sockets));
        var stale = Assert.Single(HostGrainCluster.Events.Of(hostRef));
        Assert.Equal((WatchEventKind.HostStale, $"host-stale:{hostRef}:2"), (stale.Kind, stale.EventId));
    }

    [Fact]
    public async Task A_host_whose_heartbeats_the_silo_answered_without_its_grain_is_neither_stale_nor_retired_for_silence()
    {
        var (host, hostRef) = Host(nameof(A_host_whose_heartbeats_the_silo_answered_without_its_grain_is_neither_stale_nor_retired_for_silence));
        await host.ReportAsync(Snapshot(Epoch, Started, 1, Web, T0));
        // Heard by the silo alone, after the grain last heard it.
        HostGrainCluster.Pulse.HeardWithoutGrain(hostRef, T0.AddMinutes(5));

        Assert.Equal(HostState.Online, await host.CheckLivenessAsync(T0.AddMinutes(3)));
        Assert.Equal(HostState.Online, await host.RetireAsync("silent", heardBefore: T0.AddMinutes(3)));
        Assert.Equal(T0.AddMinutes(5), (await host.GetAsync())!.LastSeen);
        Assert.Single(Rows.Of(hostRef));
        Assert.Empty(HostGrainCluster.Events.Of(hostRef));

        // Silent since: stale.
        Assert.Equal(HostState.Stale, await host.CheckLivenessAsync(T0.AddMinutes(8)));
    }

    [Fact]
    public async Task A_report_from_a_stale_host_brings_it_back_with_its_listeners()
    {
        var (host, hostRef) = Host(nameof(A_report_from_a_stale_host_brings_it_back_with_its_listeners));
        await host.ReportAsync(Snapshot(Epoch, Started, 1, Web, T0));
        await host.CheckLivenessAsync(T0.AddMinutes(3));
        var back = T0.AddMinutes(10);

        var answer = await host.ReportAsync(Heartbeat(Epoch, Started, 1, Web, back));

        Assert.Equal(HostReportOutcome.Applied, answer.Outcome);
        var commit = Rows.Of(hostRef)[^1];
        Assert.Equal((HostState.Online, back, back), (commit.Row.State, commit.Row.StateSince, commit.ChangedAt));
        Assert.Equal(Expected(l => HostListeners.All(Entries(Web, T0), ListenerChangeKind.CameBack, l)), Sorted(commit.Changes));
        Assert.Equal(new[] { WatchEventKind.HostBack, WatchEventKind.HostStale }, HostGrainCluster.Events.Of(hostRef).Select(e => e.Kind));
        Assert.Equal(HostState.Online, (await host.GetAsync())!.State);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Retiring_removes_every_listener_and_raises_host_retired(bool stale)
    {
        var (host, hostRef) = Host($"{nameof(Retiring_removes_every_listener_and_raises_host_retired)}-{stale}");
        await host.ReportAsync(Snapshot(Epoch, Started, 1, Web, T0));
        if (stale) await host.CheckLivenessAsync(T0.AddMinutes(3));

        Assert.Equal(stale ? HostState.Stale : HostState.Online, await host.RetireAsync("decommissioned", heardBefore: T0));
        Assert.Equal(HostState.Retired, await host.RetireAsync("decommissioned"));

        var commit = Rows.Of(hostRef)[^1];
        var kind = stale ? ListenerChangeKind.RemovedWhileStale : ListenerChangeKind.Removed;
        Assert.Equal(Expected(l => HostListeners.All(Entries(Web, T0), kind, l)), Sorted(commit.Changes));
        Assert.Equal((HostState.Retired, 0, "decommissioned"), (commit.Row.State, commit.Row.Sockets.Length, commit.Row.RetiredReason));
        Assert.Contains(HostGrainCluster.Events.Of(hostRef), e => e.Kind == WatchEventKind.HostRetired);
        Assert.Null(await cluster.Cluster.GrainFactory.GetGrain<IHostGrain>($"{hostRef}-never-seen").RetireAsync("decommissioned"));
    }

    [Fact]
    public async Task Keyed_references_name_the_grains_GetGrain_names_without_its_per_call_lookup()
    {
        var keyed = new KeyedGrains(cluster.Cluster.GrainFactory);
        var (host, hostRef) = Host(nameof(Keyed_references_name_the_grains_GetGrain_names_without_its_per_call_lookup));

        await keyed.Host(hostRef).ReportAsync(Snapshot(Epoch, Started, 1, Web, T0));

        Assert.Equal(Identity(host), Identity(keyed.Host(hostRef)));
        Assert.Equal(hostRef, (await host.GetAsync())!.HostRef);
        Assert.Equal(Identity(cluster.Cluster.GrainFactory.GetGrain<IPortGrain>(776)), Identity(keyed.Port(776)));
        Assert.NotEqual(Identity(keyed.Port(776)), Identity(keyed.Port(777)));

        static (GrainId, GrainInterfaceType) Identity(IAddressable grain) => (((GrainReference)grain).GrainId, ((GrainReference)grain).InterfaceType);
    }

    private (IHostGrain Host, string HostRef) Host(string test)
    {
        var hostRef = $"grain-{test}";
        return (cluster.Cluster.GrainFactory.GetGrain<IHostGrain>(hostRef), hostRef);
    }

    /// <summary>The report as it arrives a while after the agent saw its set (spooled, or a slow network).</summary>
    private static HostReportInput Late(HostReportInput report) => report with { ReceivedAt = report.ObservedAt + Delay };

    private static List<ListenerDelta> Expected(Action<List<ListenerDelta>> changes)
    {
        var list = new List<ListenerDelta>();
        changes(list);
        return Sorted(list);
    }

    private static List<ListenerDelta> Sorted(IEnumerable<ListenerDelta> changes) =>
        [.. changes.OrderBy(c => (c.Port, c.Transport, c.ProcessId, c.Kind, c.Reachable))];
}
