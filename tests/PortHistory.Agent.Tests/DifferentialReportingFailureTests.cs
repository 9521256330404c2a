using CsCheck;
using Grpc.Core;
using PortHistory.Agent.Health;
using PortHistory.Agent.Reporting;
using PortHistory.Agent.Sending;
using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;
using static PortHistory.Agent.Tests.DifferentialReportingTests;

namespace PortHistory.Agent.Tests;

/// <summary>Differential reporting when things go wrong: a full spool, an older server, push-back, refusals, and any mix of outages and restarts.</summary>
public sealed class DifferentialReportingFailureTests : IDisposable
{
    private readonly ReporterHarness _harness = new();
    private List<Sighting> _sightings = [Sighting(22, "sshd"), Sighting(5432, "postgres", "10.0.0.1")];

    public DifferentialReportingFailureTests() => _harness.ScanWith = at => Scan(at, _sightings);

    public void Dispose() => _harness.Dispose();

    private FakeSightingsServer Server => _harness.Server;

    private HashSet<HostSocket> Expected => HostSockets.Of(_sightings);

    private async Task<DrainSummary> ScanAndDrain(Reporter reporter)
    {
        _harness.Now += TimeSpan.FromMinutes(1);
        Assert.True(reporter.Scan());
        return await reporter.DrainAsync(CancellationToken.None);
    }

    [Fact]
    public async Task When_the_spool_drops_reports_they_are_counted_and_sent_and_a_snapshot_follows()
    {
        using var reporter = _harness.Open(SightingSpool.MinBytes);
        await ScanAndDrain(reporter);
        Server.Down = true;
        // Every scan moves 80 daemons to new ports: each change is several KiB, and a 64 KiB spool overflows.
        for (var scan = 0; scan < 40; scan++)
        {
            _sightings = [.. Enumerable.Range(0, 80).Select(i => Sighting((uint)(10_000 + (scan * 100) + i), $"worker{i}"))];
            await ScanAndDrain(reporter);
        }

        var drops = reporter.Reporting.Drops;
        Assert.True(drops.Reports > 0, "the spool should have dropped reports");
        Assert.True(drops.Bytes > drops.Reports * 1000);
        Server.Down = false;
        var drain = await reporter.DrainAsync(CancellationToken.None);

        Assert.True(drain.Complete);
        var applied = Server.HostReports.Where(r => r.Outcome == HostReportOutcome.Applied).Select(r => r.Report).ToList();
        // After the first snapshot, what follows the outage starts with a snapshot (obsolete changes answered RESYNC are skipped).
        Assert.True(applied[1].IsSnapshot(), HostReports.Describe(applied[1]));
        Assert.Equal(drops, applied[1].Drops);
        Assert.All(applied.Skip(1), report => Assert.Equal(drops, report.Drops));
        Assert.True(Server.Held("host-a")!.Set.SetEquals(Expected));
        Assert.Contains($"\nporthistory_agent_dropped_reports_total {drops.Reports}\n", File.ReadAllText(_harness.MetricsFile), StringComparison.Ordinal);
        Assert.Contains($"\nporthistory_agent_dropped_report_bytes_total {drops.Bytes}\n", File.ReadAllText(_harness.MetricsFile), StringComparison.Ordinal);

        var status = new StringWriter();
        Assert.Equal(AgentApp.Ok, await AgentApp.RunAsync(["status", "--spool-dir", _harness.SpoolDirectory], status, new StringWriter(), CancellationToken.None));
        Assert.Contains($"dropped reports:        {drops.Reports}, {drops.Bytes} bytes", status.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_older_server_gets_full_batches_for_the_rest_of_the_run_and_a_later_run_asks_again()
    {
        Server.WithoutHostReports = true;
        var once = _harness.Settings() with { Once = true };

        Assert.Equal(AgentApp.Ok, await AgentApp.RunAsync(once, _harness.Scan, _harness.Senders(), _harness.Log, CancellationToken.None, () => _harness.Now));
        var batch = Assert.Single(Server.Recorded);
        Assert.Equal([22u, 5432u], batch.Sightings.Select(s => s.Port).Order());

        using (var reporter = _harness.Open())
        {
            Assert.Equal(ReportMode.FullUntilAsked, reporter.Reporting.Mode);
            for (var scan = 0; scan < 3; scan++) await ScanAndDrain(reporter);
            // Asked once, with a heartbeat, when the spool was first empty; then batches only.
            Assert.Equal(ReportMode.Full, reporter.Reporting.Mode);
            Assert.Equal(4, Server.Recorded.Count);
        }

        Assert.Equal(1, _harness.Output.ToString().Split("does not know ReportHost").Length - 1);
        Assert.Empty(Server.HostReports);

        // The server is upgraded: the next run asks, learns, and reports the whole set as a snapshot.
        Server.WithoutHostReports = false;
        using (var reporter = _harness.Open())
        {
            await ScanAndDrain(reporter);
            Assert.Equal(ReportMode.Differential, reporter.Reporting.Mode);
            Assert.Equal([HostReport.BodyOneofCase.Heartbeat, HostReport.BodyOneofCase.Snapshot], Server.HostReports.Select(r => r.Report.BodyCase));
            Assert.True(Server.Held("host-a")!.Set.SetEquals(Expected));
            _sightings.Add(Sighting(80, "nginx"));
            await ScanAndDrain(reporter);
            Assert.Equal((HostReport.BodyOneofCase.Changes, HostReportOutcome.Applied), (Server.HostReports[^1].Report.BodyCase, Server.HostReports[^1].Outcome));
        }
    }

    [Fact]
    public async Task Full_reports_send_batches_only_and_leave_host_reports_of_an_earlier_run_unsent()
    {
        Server.Down = true;
        using (var reporter = _harness.Open()) await ScanAndDrain(reporter);
        Server.Down = false;

        using (var reporter = _harness.Open(_harness.Settings() with { FullReports = true }))
        {
            await ScanAndDrain(reporter);
            await ScanAndDrain(reporter);
            Assert.Equal(0, reporter.Status.Spool.Records);
        }

        Assert.Empty(Server.HostReports);
        Assert.Equal(2, Server.Recorded.Count);
    }

    [Fact]
    public async Task Once_with_nothing_changed_sends_a_heartbeat_and_fails_when_it_gets_no_answer()
    {
        var once = _harness.Settings() with { Once = true };
        Task<int> RunOnce() => AgentApp.RunAsync(once, _harness.Scan, _harness.Senders(), _harness.Log, CancellationToken.None, () => _harness.Now);

        Assert.Equal(AgentApp.Ok, await RunOnce());
        _harness.Now += TimeSpan.FromSeconds(5);
        Assert.Equal(AgentApp.Ok, await RunOnce());
        Assert.Equal([HostReport.BodyOneofCase.Snapshot, HostReport.BodyOneofCase.Heartbeat], Server.HostReports.Select(r => r.Report.BodyCase));
        Assert.All(Server.HostReports, r => Assert.Equal(HostReportOutcome.Applied, r.Outcome));

        Server.Down = true;
        Assert.Equal(AgentApp.Failed, await RunOnce());
    }

    [Fact]
    public async Task A_server_pushing_back_is_waited_for_as_long_as_it_asks()
    {
        using var reporter = _harness.Open();
        var pushedBack = 0;
        Server.FailReport = _ => pushedBack++ < 1
            ? new RpcException(new Status(StatusCode.ResourceExhausted, "catching up"), new Metadata { { "retry-after-ms", "1500" } })
            : null;

        var drain = await ScanAndDrain(reporter);

        Assert.True(drain.Complete);
        Assert.Equal([TimeSpan.FromMilliseconds(1500)], _harness.Waits);
        Assert.Equal(HostReportOutcome.Applied, Assert.Single(Server.HostReports).Outcome);
    }

    [Theory]
    [InlineData(StatusCode.PermissionDenied)]
    [InlineData(StatusCode.InvalidArgument)]
    public async Task A_refused_report_stops_the_agent_as_a_refused_batch_does_and_stays_in_the_spool(StatusCode code)
    {
        using var reporter = _harness.Open();
        Server.FailReport = _ => new RpcException(new Status(code, "not for this host"));
        _harness.Now += TimeSpan.FromMinutes(1);
        reporter.Scan();

        var refused = await Assert.ThrowsAsync<ServerRefusedException>(() => reporter.DrainAsync(CancellationToken.None));

        Assert.Equal(code, refused.Code);
        Assert.Equal(1, reporter.Status.Spool.Records);
    }

    private abstract record Step;

    private sealed record ScanStep(int[] Sockets, int PidShift) : Step;

    private sealed record ServerStep(bool Down) : Step;

    private sealed record RestartStep(bool LoseState) : Step;

    private sealed record ForgetStep : Step;

    /// <summary>Twelve daemons that may listen, on two addresses; a scan sees some of them, with pids that change between scans.</summary>
    private static Sighting Universe(int socket, int pidShift) =>
        Sighting((uint)(8000 + (socket % 6)), $"d{socket % 6}", socket < 6 ? "0.0.0.0" : "10.0.0.7", pid: (uint)(100 + socket + pidShift));

    [Fact]
    public void After_any_mix_of_scans_outages_restarts_and_lost_state_the_server_holds_the_last_scan_s_set_once_drained()
    {
        var steps = Gen.Frequency(
            (6, Gen.Select(Gen.Int[0, 11].Array[0, 12], Gen.Int[0, 3]).Select((sockets, shift) => (Step)new ScanStep(sockets, shift))),
            (2, Gen.Bool.Select(down => (Step)new ServerStep(down))),
            (1, Gen.Bool.Select(lose => (Step)new RestartStep(lose))),
            (1, Gen.Const((Step)new ForgetStep())));

        steps.Array[1, 25].Sample(run =>
        {
            using var harness = new ReporterHarness();
            var sightings = new List<Sighting>();
            harness.ScanWith = at => Scan(at, sightings);
            var reporter = harness.Open();
            try
            {
                foreach (var step in run)
                {
                    harness.Now += TimeSpan.FromSeconds(61);
                    switch (step)
                    {
                        case ScanStep scan:
                            sightings = [.. scan.Sockets.Select(socket => Universe(socket, scan.PidShift))];
                            Assert.True(reporter.Scan());
                            reporter.DrainAsync(CancellationToken.None).GetAwaiter().GetResult();
                            break;
                        case ServerStep server:
                            harness.Server.Down = server.Down;
                            break;
                        case RestartStep restart:
                            reporter.Dispose();
                            if (restart.LoseState) File.Delete(Path.Combine(harness.SpoolDirectory, ReportingState.FileName));
                            reporter = harness.Open();
                            break;
                        case ForgetStep:
                            harness.Server.Forget("host-a");
                            break;
                    }
                }

                harness.Server.Down = false;
                harness.Now += TimeSpan.FromSeconds(61);
                Assert.True(reporter.Scan());
                Assert.True(reporter.DrainAsync(CancellationToken.None).GetAwaiter().GetResult().Complete);

                var held = harness.Server.Held("host-a");
                Assert.NotNull(held);
                Assert.True(held.Set.SetEquals(HostSockets.Of(sightings)),
                    $"server holds {held.Set.Count} sockets, the last scan saw {HostSockets.Of(sightings).Count}");
                Assert.Equal(0, reporter.Status.Spool.Records);
                // Outages, restarts and lost state cost no round trip: only a server that forgot the host answers RESYNC.
                if (!run.OfType<ForgetStep>().Any()) Assert.DoesNotContain(harness.Server.HostReports, r => r.Outcome == HostReportOutcome.Resync);
            }
            finally
            {
                reporter.Dispose();
            }
        }, iter: 60);
    }
}
