using Google.Protobuf.WellKnownTypes;
using PortHistory.Agent.Health;
using PortHistory.Agent.Scanning;
using PortHistory.Agent.Sending;
using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>Scanning into the spool and draining it to an in-memory server that can be down: outages, restarts, bounds, expiry, status.</summary>
public sealed class ReporterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("porthistory-agent-reporter-").FullName;
    private readonly FakeSightingsServer _server = new();
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();
    private readonly List<(DateTimeOffset At, uint FirstPort)> _scans = [];
    private DateTimeOffset _now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private int _sightingsPerScan = 3;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string SpoolDirectory => Path.Combine(_directory, "spool");

    private string MetricsFile => Path.Combine(_directory, "porthistory-agent.prom");

    private AgentSettings Settings(long spoolMaxBytes = 1024 * 1024) => new(
        new Uri("http://127.0.0.1:1"), () => "agent-token", "host-a", TimeSpan.FromSeconds(60), BatchSize: 500, Once: false, DryRun: false,
        ProcRoot: "/proc", SpoolDirectory, spoolMaxBytes, MetricsFile);

    /// <summary>A scan with ports no other scan has, observed at the clock's time.</summary>
    private ScanResult Scan(DateTimeOffset at)
    {
        var firstPort = (uint)(1000 + (_scans.Count * _sightingsPerScan));
        _scans.Add((at, firstPort));
        return new ScanResult([.. Enumerable.Range(0, _sightingsPerScan).Select(i => new Sighting
        {
            HostRef = "host-a", ObservedAt = Timestamp.FromDateTimeOffset(at), Transport = Transport.Tcp, AddressFamily = AddressFamily.Ipv4,
            LocalAddress = "0.0.0.0", Port = firstPort + (uint)i, State = SocketState.Listen, ProcessName = "sshd", Pid = 42,
        })], Privileged: true, Unowned: 0, HiddenProcesses: 0);
    }

    /// <summary>A sender that retries twice without waiting, so an outage costs no time.</summary>
    private BatchSender Sender() => new(new Sightings.SightingsClient(_server), () => "agent-token", _output, _error,
        new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), MaxAttempts: 2), delay: (_, _) => Task.CompletedTask, jitter: () => 0);

    private Reporter Open(long spoolMaxBytes = 1024 * 1024) => Reporter.Open(Settings(spoolMaxBytes), Scan, Sender(), _output, _error, () => _now);

    private void ScanAfterAMinute(Reporter reporter)
    {
        _now += TimeSpan.FromMinutes(1);
        Assert.True(reporter.Scan());
    }

    [Fact]
    public async Task Through_an_outage_and_a_restart_every_scan_arrives_once_in_order_with_its_own_time()
    {
        _server.Down = true;
        var reporter = Open();
        for (var scan = 0; scan < 3; scan++)
        {
            ScanAfterAMinute(reporter);
            var drain = await reporter.DrainAsync(CancellationToken.None);
            Assert.False(drain.Complete);
        }

        // The agent stops and starts again while the server is still down.
        reporter.Dispose();
        reporter = Open();
        Assert.Equal(3, reporter.Status.Spool.Records);
        for (var scan = 0; scan < 2; scan++)
        {
            ScanAfterAMinute(reporter);
            await reporter.DrainAsync(CancellationToken.None);
        }

        Assert.Empty(_server.Recorded);
        Assert.True(_server.Calls >= 5);
        _server.Down = false;
        var back = await reporter.DrainAsync(CancellationToken.None);
        reporter.Dispose();

        Assert.Equal((5, true), (back.Acknowledged, back.Complete));
        Assert.Equal(5, _server.Recorded.Select(batch => batch.BatchId).Distinct().Count());
        Assert.Equal(_scans, _server.Recorded.Select(batch => (batch.Sightings[0].ObservedAt.ToDateTimeOffset(), batch.Sightings[0].Port)));
        Assert.All(_server.Recorded, batch => Assert.Equal(3, batch.Sightings.Count));
        Assert.All(_server.Recorded, batch => Assert.Single(batch.Sightings.Select(s => s.ObservedAt).Distinct()));

        // Reopened after all that, the spool has nothing left to send again.
        using var afterwards = Open();
        Assert.Equal(0, afterwards.Status.Spool.Records);
        Assert.Equal(0, (await afterwards.DrainAsync(CancellationToken.None)).Attempted);
    }

    [Fact]
    public async Task A_long_outage_keeps_the_spool_within_its_bound_by_dropping_the_oldest_scans()
    {
        _server.Down = true;
        _sightingsPerScan = 40;
        const int scans = 120;
        using var reporter = Open(SightingSpool.MinBytes);
        for (var scan = 0; scan < scans; scan++)
        {
            ScanAfterAMinute(reporter);
            await reporter.DrainAsync(CancellationToken.None);
            var onDisk = Directory.GetFiles(SpoolDirectory, "*.seg").Sum(path => new FileInfo(path).Length);
            Assert.True(onDisk <= SightingSpool.MinBytes, $"{onDisk} bytes of segments after scan {scan}");
        }

        var dropped = reporter.Status.Spool.DroppedRecords;
        _server.Down = false;
        await reporter.DrainAsync(CancellationToken.None);

        // The newest scans arrived, in order; every older one was dropped and counted.
        var delivered = _server.Recorded.Count;
        Assert.InRange(delivered, 5, scans - 1);
        Assert.Equal(scans - delivered, dropped);
        Assert.Equal(_scans[^delivered..].Select(scan => scan.FirstPort), _server.Recorded.Select(batch => batch.Sightings[0].Port));
        Assert.Equal(dropped, AgentStatus.Read(MetricsFile)!.Spool.DroppedRecords);
        Assert.Contains("spool: full", _error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sightings_older_than_the_server_accepts_are_removed_unsent_and_counted()
    {
        _server.Down = true;
        using var reporter = Open();
        ScanAfterAMinute(reporter);
        _now += Reporter.MaxSightingAge;
        ScanAfterAMinute(reporter);
        _server.Down = false;

        var drain = await reporter.DrainAsync(CancellationToken.None);

        Assert.Equal((1, 3L, true), (drain.Acknowledged, drain.ExpiredSightings, drain.Complete));
        Assert.Equal(_scans[1].FirstPort, _server.Recorded.Single().Sightings[0].Port);
        Assert.Equal(new SpoolFigures(0, reporter.Status.Spool.Bytes, 0, 0, 3), reporter.Status.Spool);
    }

    [Fact]
    public async Task A_refused_batch_is_removed_so_that_the_ones_after_it_are_sent()
    {
        using var reporter = Open();
        _server.Down = true;
        ScanAfterAMinute(reporter);
        ScanAfterAMinute(reporter);
        await reporter.DrainAsync(CancellationToken.None);
        _server.Down = false;
        _server.Refuse = batch => batch.Sightings[0].Port == _scans[0].FirstPort ? "batch_id: not a UUID" : null;

        var drain = await reporter.DrainAsync(CancellationToken.None);

        Assert.Equal((1, 1, true), (drain.Acknowledged, drain.Refused, drain.Complete));
        Assert.Equal(_scans[1].FirstPort, _server.Recorded.Single().Sightings[0].Port);
        Assert.Contains("refused by the server; removed from the spool", _error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_status_file_the_metrics_file_and_the_status_command_show_the_figures()
    {
        using (var reporter = Open())
        {
            ScanAfterAMinute(reporter);
            await reporter.DrainAsync(CancellationToken.None);
            var acknowledgedAt = _now;
            _server.Down = true;
            _now += TimeSpan.FromMinutes(1);
            reporter.Scan();
            await reporter.DrainAsync(CancellationToken.None);

            var metrics = File.ReadAllText(MetricsFile);
            var bytes = Directory.GetFiles(SpoolDirectory, "*.seg").Sum(path => new FileInfo(path).Length);
            Assert.Equal(File.ReadAllText(Path.Combine(SpoolDirectory, AgentStatus.FileName)), metrics);
            Assert.Contains("# TYPE porthistory_agent_spool_records gauge\nporthistory_agent_spool_records 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"\nporthistory_agent_spool_bytes {bytes}\n", metrics, StringComparison.Ordinal);
            Assert.Contains("# TYPE porthistory_agent_dropped_records_total counter\nporthistory_agent_dropped_records_total 0\n", metrics, StringComparison.Ordinal);
            Assert.Contains("\nporthistory_agent_corrupt_records_total 0\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"\nporthistory_agent_last_scan_timestamp_seconds {_now.ToUnixTimeSeconds()}\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"\nporthistory_agent_last_ack_timestamp_seconds {acknowledgedAt.ToUnixTimeSeconds()}\n", metrics, StringComparison.Ordinal);
        }

        var output = new StringWriter();
        var exit = await AgentApp.RunAsync(["status", "--spool-dir", SpoolDirectory], output, new StringWriter(), CancellationToken.None);

        Assert.Equal(AgentApp.Ok, exit);
        var lines = output.ToString().Split('\n');
        Assert.Contains(lines, line => line.StartsWith("last scan:", StringComparison.Ordinal) && line.Contains($"{_now.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("spool:", StringComparison.Ordinal) && line.Contains(" 1 records, ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("dropped records:", StringComparison.Ordinal) && line.Contains(" 0 ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("corrupt records:", StringComparison.Ordinal) && line.EndsWith(" 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_status_command_without_a_running_agent_says_so()
    {
        var error = new StringWriter();

        var exit = await AgentApp.RunAsync(["status", "--spool-dir", SpoolDirectory], new StringWriter(), error, CancellationToken.None);

        Assert.Equal(AgentApp.Failed, exit);
        Assert.Contains("no agent status", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Once_succeeds_only_when_the_spool_is_emptied_and_sends_what_an_earlier_run_left()
    {
        var settings = Settings() with { Once = true };
        _server.Down = true;

        Assert.Equal(AgentApp.Failed, await AgentApp.RunAsync(settings, Scan, Sender(), _output, _error, CancellationToken.None));
        _server.Down = false;
        Assert.Equal(AgentApp.Ok, await AgentApp.RunAsync(settings, Scan, Sender(), _output, _error, CancellationToken.None));

        Assert.Equal(_scans.Select(scan => scan.FirstPort), _server.Recorded.Select(batch => batch.Sightings[0].Port));
    }

    [Fact]
    public async Task The_loop_keeps_scanning_while_the_server_is_down_and_drains_when_it_is_back()
    {
        _server.Down = true;
        using var reporter = Reporter.Open(Settings() with { Interval = TimeSpan.FromMilliseconds(20) }, Scan, Sender(), _output, _error, () => _now);
        using var stop = new CancellationTokenSource();
        var running = reporter.RunAsync(stop.Token);

        await Until(() => reporter.Status.Spool.Records >= 3);
        _server.Down = false;
        await Until(() => _server.Recorded.Count >= 3 && reporter.Status.Spool.Records == 0);
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal(_server.Recorded.Count, _server.Recorded.Select(batch => batch.BatchId).Distinct().Count());
        Assert.Equal(_scans.Take(_server.Recorded.Count).Select(scan => scan.FirstPort), _server.Recorded.Select(batch => batch.Sightings[0].Port));
    }

    [Fact]
    public void A_spool_held_by_another_agent_is_a_usage_error()
    {
        using var first = Open();

        var refused = Assert.Throws<UsageException>(() => Open());

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
