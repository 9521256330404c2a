using PortHistory.Agent.Health;
using PortHistory.Agent.Sending;
using PortHistory.Agent.Spool;

namespace PortHistory.Agent.Tests;

/// <summary>Scanning into the spool and draining it to an in-memory server that can be down: outages, restarts, bounds, expiry, the loop.</summary>
public sealed class ReporterTests : IDisposable
{
    private readonly ReporterHarness _harness = new() { FullReports = true };

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Through_an_outage_and_a_restart_every_scan_arrives_once_in_order_with_its_own_time()
    {
        _harness.Server.Down = true;
        var reporter = _harness.Open();
        for (var scan = 0; scan < 3; scan++)
        {
            _harness.ScanAfterAMinute(reporter);
            var drain = await reporter.DrainAsync(CancellationToken.None);
            Assert.False(drain.Complete);
        }

        // The agent stops and starts again while the server is still down.
        reporter.Dispose();
        reporter = _harness.Open();
        Assert.Equal(3, reporter.Status.Spool.Records);
        for (var scan = 0; scan < 2; scan++)
        {
            _harness.ScanAfterAMinute(reporter);
            await reporter.DrainAsync(CancellationToken.None);
        }

        Assert.Empty(_harness.Server.Recorded);
        Assert.True(_harness.Server.Calls >= 5);
        _harness.Server.Down = false;
        var back = await reporter.DrainAsync(CancellationToken.None);
        reporter.Dispose();

        Assert.Equal((5, true), (back.Acknowledged, back.Complete));
        Assert.Equal(5, _harness.Server.Recorded.Select(batch => batch.BatchId).Distinct().Count());
        Assert.Equal(_harness.Scans, _harness.Server.Recorded.Select(batch => (batch.Sightings[0].ObservedAt.ToDateTimeOffset(), batch.Sightings[0].Port)));
        Assert.All(_harness.Server.Recorded, batch => Assert.Equal(3, batch.Sightings.Count));
        Assert.All(_harness.Server.Recorded, batch => Assert.Single(batch.Sightings.Select(s => s.ObservedAt).Distinct()));

        // Reopened after all that, the spool has nothing left to send again.
        using var afterwards = _harness.Open();
        Assert.Equal(0, afterwards.Status.Spool.Records);
        Assert.Equal(0, (await afterwards.DrainAsync(CancellationToken.None)).Attempted);
    }

    [Fact]
    public async Task A_long_outage_keeps_the_spool_within_its_bound_by_dropping_the_oldest_scans()
    {
        _harness.Server.Down = true;
        _harness.SightingsPerScan = 40;
        const int scans = 120;
        using var reporter = _harness.Open(SightingSpool.MinBytes);
        for (var scan = 0; scan < scans; scan++)
        {
            _harness.ScanAfterAMinute(reporter);
            await reporter.DrainAsync(CancellationToken.None);
            var onDisk = Directory.GetFiles(_harness.SpoolDirectory, "*.seg").Sum(path => new FileInfo(path).Length);
            Assert.True(onDisk <= SightingSpool.MinBytes, $"{onDisk} bytes of segments after scan {scan}");
        }

        var dropped = reporter.Status.Spool.DroppedRecords;
        _harness.Server.Down = false;
        await reporter.DrainAsync(CancellationToken.None);

        // The newest scans arrived, in order; every older one was dropped and counted.
        var delivered = _harness.Server.Recorded.Count;
        Assert.InRange(delivered, 5, scans - 1);
        Assert.Equal(scans - delivered, dropped);
        Assert.Equal(_harness.Scans[^delivered..].Select(scan => scan.FirstPort), _harness.Server.Recorded.Select(batch => batch.Sightings[0].Port));
        Assert.Equal(dropped, AgentStatus.Read(_harness.MetricsFile)!.Spool.DroppedRecords);
        Assert.Contains("spool: full", _harness.Error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sightings_older_than_the_server_accepts_are_removed_unsent_and_counted()
    {
        _harness.Server.Down = true;
        using var reporter = _harness.Open();
        _harness.ScanAfterAMinute(reporter);
        _harness.Now += SpoolSender.MaxSightingAge;
        _harness.ScanAfterAMinute(reporter);
        _harness.Server.Down = false;

        var drain = await reporter.DrainAsync(CancellationToken.None);

        Assert.Equal((1, 3L, true), (drain.Acknowledged, drain.ExpiredSightings, drain.Complete));
        Assert.Equal(_harness.Scans[1].FirstPort, _harness.Server.Recorded.Single().Sightings[0].Port);
        Assert.Equal(new SpoolFigures(0, reporter.Status.Spool.Bytes, 0, 0, 3), reporter.Status.Spool);
    }

    [Fact]
    public async Task A_refused_batch_is_removed_so_that_the_ones_after_it_are_sent()
    {
        using var reporter = _harness.Open();
        _harness.Server.Down = true;
        _harness.ScanAfterAMinute(reporter);
        _harness.ScanAfterAMinute(reporter);
        await reporter.DrainAsync(CancellationToken.None);
        _harness.Server.Down = false;
        _harness.Server.Refuse = batch => batch.Sightings[0].Port == _harness.Scans[0].FirstPort ? "batch_id: not a UUID" : null;

        var drain = await reporter.DrainAsync(CancellationToken.None);

        Assert.Equal((1, 1, true), (drain.Acknowledged, drain.Refused, drain.Complete));
        Assert.Equal(_harness.Scans[1].FirstPort, _harness.Server.Recorded.Single().Sightings[0].Port);
        Assert.Contains("refused by the server; removed from the spool", _harness.Error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_loop_keeps_scanning_while_the_server_is_down_and_drains_when_it_is_back()
    {
        _harness.Server.Down = true;
        using var reporter = _harness.Open(_harness.Settings() with { Interval = TimeSpan.FromMilliseconds(20) });
        using var stop = new CancellationTokenSource();
        var running = reporter.RunAsync(stop.Token);

        await Until(() => reporter.Status.Spool.Records >= 3);
        var scannedWhileDown = _harness.Scans.Count;
        _harness.Server.Down = false;
        // Every scan made during the outage arrives while the loop goes on scanning. (An empty spool is only a moment
        // between a drain and the next scan; on a busy machine the next scan is already due, so it is not waited for.)
        await Until(() => _harness.Server.Recorded.Count >= scannedWhileDown);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await reporter.DrainAsync(CancellationToken.None);
        Assert.Equal(0, reporter.Status.Spool.Records);
        Assert.Equal(_harness.Server.Recorded.Count, _harness.Server.Recorded.Select(batch => batch.BatchId).Distinct().Count());
        Assert.Equal(_harness.Scans.Take(_harness.Server.Recorded.Count).Select(scan => scan.FirstPort), _harness.Server.Recorded.Select(batch => batch.Sightings[0].Port));
    }

    [Fact]
    public void A_spool_held_by_another_agent_is_a_usage_error()
    {
        using var first = _harness.Open();

        var refused = Assert.Throws<UsageException>(() => _harness.Open());

        Assert.Contains("--spool-dir", refused.Message, StringComparison.Ordinal);
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
