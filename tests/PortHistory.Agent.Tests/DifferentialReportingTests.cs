// Over 250 lines: the agent's differential state machine, a case per transition of the contract, read top to bottom.
using Google.Protobuf.WellKnownTypes;
using PortHistory.Agent.Reporting;
using PortHistory.Agent.Scanning;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>Differential reporting against the fake server's model: snapshots, changes, heartbeats, epochs across restarts.</summary>
public sealed class DifferentialReportingTests : IDisposable
{
    private readonly ReporterHarness _harness = new();

    public DifferentialReportingTests() => _harness.ScanWith = at => Scan(at, _sightings);

    public void Dispose() => _harness.Dispose();

    private List<Sighting> _sightings = [Sighting(22, "sshd"), Sighting(5432, "postgres", "10.0.0.1")];

    private FakeSightingsServer Server => _harness.Server;

    internal static Sighting Sighting(uint port, string process, string address = "0.0.0.0", uint pid = 42) => new()
    {
        HostRef = "host-a", Transport = Transport.Tcp, LocalAddress = address, Port = port, ProcessName = process, Pid = pid,
        Executable = $"/usr/bin/{process}", BindScope = SightingScanner.BindScopeOf(System.Net.IPAddress.Parse(address)),
    };

    internal static ScanResult Scan(DateTimeOffset at, IEnumerable<Sighting> sightings) => new(
        [.. sightings.Select(s => new Sighting(s) { ObservedAt = Timestamp.FromDateTimeOffset(at) })], Privileged: true, Unowned: 0, HiddenProcesses: 0);

    private HashSet<HostSocket> Expected => HostSockets.Of(_sightings);

    private async Task<Sending.DrainSummary> ScanAndDrain(Reporter reporter, TimeSpan? after = null)
    {
        _harness.Now += after ?? TimeSpan.FromMinutes(1);
        Assert.True(reporter.Scan());
        return await reporter.DrainAsync(CancellationToken.None);
    }

    private List<HostReport> Sent(HostReportOutcome? outcome = null) =>
        [.. Server.HostReports.Where(r => outcome is null || r.Outcome == outcome).Select(r => r.Report)];

    [Fact]
    public async Task The_first_report_is_a_snapshot_then_only_changes_and_a_restarted_daemon_is_no_change()
    {
        using var reporter = _harness.Open();
        await ScanAndDrain(reporter);

        var first = Assert.Single(Sent());
        Assert.True(first.IsSnapshot());
        Assert.Equal((1ul, 2), (first.Seq, first.Snapshot.Sockets.Count));
        Assert.Equal(SocketSetHash.Of(Expected), SocketSetHash.From(first.SetHash));
        Assert.Equal(("host-a", AgentVersion.Current), (first.HostRef, first.AgentVersion));

        // sshd restarted (new pid); postgres moved to another address; nginx appeared.
        _sightings = [Sighting(22, "sshd", pid: 977), Sighting(5432, "postgres", "10.0.0.2"), Sighting(443, "nginx")];
        await ScanAndDrain(reporter);

        var change = Sent()[^1];
        Assert.Equal(HostReport.BodyOneofCase.Changes, change.BodyCase);
        Assert.Equal((2ul, first.Epoch), (change.Seq, change.Epoch));
        Assert.Equal(["10.0.0.2", ""], change.Changes.Added.Select(s => s.BoundAddress).Order(StringComparer.Ordinal).Reverse());
        Assert.Equal("10.0.0.1", Assert.Single(change.Changes.Removed).BoundAddress);
        Assert.True(Server.Held("host-a")!.Set.SetEquals(Expected));
        Assert.All(Server.HostReports, r => Assert.Equal(HostReportOutcome.Applied, r.Outcome));
    }

    [Fact]
    public async Task A_change_found_by_a_slow_scan_is_dated_when_the_scan_had_read_the_sockets_not_when_it_began()
    {
        using var reporter = _harness.Open();
        await ScanAndDrain(reporter);
        var began = _harness.Now + TimeSpan.FromMinutes(1);

        // nginx starts while the scan walks the process table; the scan finds it three seconds after it began.
        _harness.ScanWith = at =>
        {
            _harness.Now += TimeSpan.FromSeconds(3);
            return Scan(at, [.. _sightings, Sighting(443, "nginx")]);
        };
        await ScanAndDrain(reporter);

        var change = Sent()[^1];
        Assert.Equal(HostReport.BodyOneofCase.Changes, change.BodyCase);
        Assert.Equal(began + TimeSpan.FromSeconds(3), change.ObservedAt.ToDateTimeOffset());
    }

    [Fact]
    public async Task With_nothing_changed_a_heartbeat_goes_out_once_per_period_and_only_when_the_spool_is_empty()
    {
        using var reporter = _harness.Open(_harness.Settings() with { Heartbeat = TimeSpan.FromMinutes(5) });
        await ScanAndDrain(reporter);
        Assert.Single(Sent());

        // Scans every minute with nothing changed: the first heartbeat falls due five minutes after the snapshot was applied.
        for (var minute = 1; minute <= 4; minute++) await ScanAndDrain(reporter);
        Assert.Single(Sent());
        await ScanAndDrain(reporter);
        var heartbeat = Sent()[^1];
        Assert.Equal(HostReport.BodyOneofCase.Heartbeat, heartbeat.BodyCase);
        Assert.Equal((1ul, SocketSetHash.Of(Expected)), (heartbeat.Seq, SocketSetHash.From(heartbeat.SetHash)));
        Assert.Equal(HostReportOutcome.Applied, Server.HostReports[^1].Outcome);

        // A change waiting in the spool (server down) holds heartbeats back: behind it one could only be answered RESYNC.
        Server.Down = true;
        _sightings.Add(Sighting(80, "nginx"));
        for (var minute = 1; minute <= 12; minute++) await ScanAndDrain(reporter);
        Assert.Equal(1, reporter.Status.Spool.Records);
        Server.Down = false;
        await ScanAndDrain(reporter);
        Assert.Equal(HostReport.BodyOneofCase.Changes, Sent()[^1].BodyCase);
        Assert.Equal(2, Sent().Count(r => r.BodyCase == HostReport.BodyOneofCase.Heartbeat) + 1);
    }

    [Fact]
    public async Task Epoch_and_seq_carry_over_a_restart_of_the_agent_and_a_lost_state_file_starts_a_new_epoch_with_a_snapshot()
    {
        ReportEpoch epoch;
        using (var reporter = _harness.Open())
        {
            await ScanAndDrain(reporter);
            _sightings.Add(Sighting(80, "nginx"));
            await ScanAndDrain(reporter);
            epoch = reporter.Reporting.Epoch;
            Assert.Equal((2ul, 2ul), reporter.Reporting.Seqs);
        }

        using (var reporter = _harness.Open())
        {
            Assert.Equal(epoch, reporter.Reporting.Epoch);
            _sightings.RemoveAt(0);
            await ScanAndDrain(reporter);
            var change = Sent()[^1];
            Assert.Equal((HostReport.BodyOneofCase.Changes, 3ul, epoch), (change.BodyCase, change.Seq, change.Epoch));
            Assert.Equal(HostReportOutcome.Applied, Server.HostReports[^1].Outcome);
        }

        File.Delete(Path.Combine(_harness.SpoolDirectory, ReportingState.FileName));
        using (var reporter = _harness.Open())
        {
            Assert.NotEqual(epoch.Id, reporter.Reporting.Epoch.Id);
            Assert.Equal(_harness.Now, reporter.Reporting.Epoch.StartedAt.ToDateTimeOffset());
            await ScanAndDrain(reporter);
            var snapshot = Sent()[^1];
            Assert.True(snapshot.IsSnapshot());
            Assert.Equal((1ul, reporter.Reporting.Epoch), (snapshot.Seq, snapshot.Epoch));
            Assert.Equal(HostReportOutcome.Applied, Server.HostReports[^1].Outcome);
            Assert.True(Server.Held("host-a")!.Set.SetEquals(Expected));
        }
    }

    [Fact]
    public async Task An_unreadable_state_file_starts_a_new_epoch_too()
    {
        using (var reporter = _harness.Open()) await ScanAndDrain(reporter);
        File.WriteAllText(Path.Combine(_harness.SpoolDirectory, ReportingState.FileName), "garbage");

        using var again = _harness.Open();
        await ScanAndDrain(again);

        Assert.Equal(2, Sent().Select(r => r.Epoch.Id).Distinct().Count());
        Assert.True(Sent()[^1].IsSnapshot());
        Assert.Contains("unreadable; a new epoch begins", _harness.Error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_RESYNC_a_snapshot_replaces_the_obsolete_changes_and_changes_resume()
    {
        using var reporter = _harness.Open();
        await ScanAndDrain(reporter);
        // Two changes wait in the spool while the server is down; then it comes back having forgotten the host.
        Server.Down = true;
        _sightings.Add(Sighting(80, "nginx"));
        await ScanAndDrain(reporter);
        _sightings.Add(Sighting(443, "nginx"));
        await ScanAndDrain(reporter);
        Server.Down = false;
        Server.Forget("host-a");

        await reporter.DrainAsync(CancellationToken.None);

        Assert.Equal([HostReportOutcome.Applied, HostReportOutcome.Resync, HostReportOutcome.Applied], Server.HostReports.Select(r => r.Outcome));
        var snapshot = Sent()[^1];
        Assert.True(snapshot.IsSnapshot());
        Assert.Equal(4ul, snapshot.Seq);
        Assert.True(Server.Held("host-a")!.Set.SetEquals(Expected));
        Assert.Equal(0, reporter.Status.Spool.Records);

        // Nothing changed: no second snapshot.
        await ScanAndDrain(reporter);
        Assert.Equal(4ul, Sent()[^1].Seq);
        _sightings.RemoveAt(0);
        await ScanAndDrain(reporter);
        Assert.Equal((HostReport.BodyOneofCase.Changes, 5ul, HostReportOutcome.Applied), (Sent()[^1].BodyCase, Sent()[^1].Seq, Server.HostReports[^1].Outcome));
        Assert.True(Server.Held("host-a")!.Set.SetEquals(Expected));
    }

    [Fact]
    public async Task A_report_whose_answer_was_lost_is_sent_again_answered_DUPLICATE_and_the_set_stays_right()
    {
        using var reporter = _harness.Open();
        await ScanAndDrain(reporter);
        _sightings.Add(Sighting(80, "nginx"));
        var lost = 0;
        Server.LoseAnswerTo = report => report.Seq == 2 && lost++ < 1;

        var drain = await ScanAndDrain(reporter);

        Assert.Equal([HostReportOutcome.Applied, HostReportOutcome.Applied, HostReportOutcome.Duplicate], Server.HostReports.Select(r => r.Outcome));
        Assert.True(drain.Complete);
        Assert.True(Server.Held("host-a")!.Set.SetEquals(Expected));
        Assert.Equal(2ul, Server.Held("host-a")!.Seq);
        Assert.Equal((2ul, 2ul), reporter.Reporting.Seqs);
        Assert.Equal(0, reporter.Status.Spool.Records);
    }

    [Fact]
    public async Task A_snapshot_comes_once_a_day_within_ten_percent_even_without_a_change()
    {
        Assert.Equal(TimeSpan.FromDays(0.9), HostReporting.SnapshotDelay(0));
        Assert.Equal(TimeSpan.FromDays(1), HostReporting.SnapshotDelay(0.5));
        Assert.InRange(HostReporting.SnapshotDelay(Math.BitDecrement(1.0)), TimeSpan.FromDays(1.09), TimeSpan.FromDays(1.1));

        using var reporter = _harness.Open(_harness.Settings() with { Heartbeat = TimeSpan.FromDays(7) });
        await ScanAndDrain(reporter);
        var snapshots = new List<DateTimeOffset> { _harness.Now };
        // Scans every hour for ten days with nothing changed.
        for (var hour = 0; hour < 240; hour++)
        {
            await ScanAndDrain(reporter, TimeSpan.FromHours(1));
            if (Sent()[^1].IsSnapshot() && Sent()[^1].ObservedAt.ToDateTimeOffset() == _harness.Now) snapshots.Add(_harness.Now);
        }

        var gaps = snapshots.Zip(snapshots.Skip(1), (a, b) => b - a).ToList();
        Assert.InRange(gaps.Count, 9, 11);
        Assert.All(gaps, gap => Assert.InRange(gap, TimeSpan.FromDays(0.9), TimeSpan.FromDays(1.1) + TimeSpan.FromHours(1)));
        Assert.True(gaps.Distinct().Count() > 1, "the jitter should spread snapshots");
        Assert.All(Server.HostReports, r => Assert.Equal(HostReportOutcome.Applied, r.Outcome));
    }

    [Fact]
    public async Task The_loop_spools_changes_while_the_server_is_down_and_delivers_them_in_order_when_it_is_back()
    {
        // Every scan (on the scanning loop's thread) finds one more daemon.
        var scans = 0;
        HashSet<HostSocket>? last = null;
        _harness.ScanWith = at =>
        {
            var sightings = Enumerable.Range(0, ++scans).Select(i => Sighting((uint)(9000 + i), $"d{i}")).ToList();
            last = HostSockets.Of(sightings);
            return Scan(at, sightings);
        };
        Server.Down = true;
        using var reporter = _harness.Open(_harness.Settings() with { Interval = TimeSpan.FromMilliseconds(20) });
        using var stop = new CancellationTokenSource();
        var running = reporter.RunAsync(stop.Token);

        await Until(() => reporter.Status.Spool.Records >= 3);
        Server.Down = false;
        await Until(() => Server.HostReports.Count >= 4);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await reporter.DrainAsync(CancellationToken.None);

        Assert.True(Server.Held("host-a")!.Set.SetEquals(last!));
        Assert.DoesNotContain(Server.HostReports, r => r.Outcome == HostReportOutcome.Resync);
        var seqs = Server.HostReports.Where(r => r.Report.BodyCase != HostReport.BodyOneofCase.Heartbeat).Select(r => r.Report.Seq).ToList();
        Assert.Equal([.. Enumerable.Range(1, seqs.Count).Select(seq => (ulong)seq)], seqs);
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 20 s");
            await Task.Delay(10);
        }
    }
}
