using PortHistory.Agent.Health;

namespace PortHistory.Agent.Tests;

/// <summary>What the reporter tells about itself (status file, metrics file, status command), and --once's exit code.</summary>
public sealed class ReporterStatusTests : IDisposable
{
    private readonly ReporterHarness _harness = new() { FullReports = true };

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task The_status_file_the_metrics_file_and_the_status_command_show_the_figures()
    {
        using (var reporter = _harness.Open())
        {
            _harness.ScanAfterAMinute(reporter);
            await reporter.DrainAsync(CancellationToken.None);
            var acknowledgedAt = _harness.Now;
            _harness.Server.Down = true;
            _harness.Now += TimeSpan.FromMinutes(1);
            reporter.Scan();
            await reporter.DrainAsync(CancellationToken.None);

            var metrics = File.ReadAllText(_harness.MetricsFile);
            var bytes = Directory.GetFiles(_harness.SpoolDirectory, "*.seg").Sum(path => new FileInfo(path).Length);
            Assert.Equal(File.ReadAllText(Path.Combine(_harness.SpoolDirectory, AgentStatus.FileName)), metrics);
            Assert.Contains("# TYPE porthistory_agent_spool_records gauge\nporthistory_agent_spool_records 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"\nporthistory_agent_spool_bytes {bytes}\n", metrics, StringComparison.Ordinal);
            Assert.Contains("# TYPE porthistory_agent_dropped_records_total counter\nporthistory_agent_dropped_records_total 0\n", metrics, StringComparison.Ordinal);
            Assert.Contains("\nporthistory_agent_corrupt_records_total 0\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"\nporthistory_agent_last_scan_timestamp_seconds {_harness.Now.ToUnixTimeSeconds()}\n", metrics, StringComparison.Ordinal);
            Assert.Contains($"\nporthistory_agent_last_ack_timestamp_seconds {acknowledgedAt.ToUnixTimeSeconds()}\n", metrics, StringComparison.Ordinal);
        }

        var output = new StringWriter();
        var exit = await AgentApp.RunAsync(["status", "--spool-dir", _harness.SpoolDirectory], output, new StringWriter(), CancellationToken.None);

        Assert.Equal(AgentApp.Ok, exit);
        var lines = output.ToString().Split('\n');
        Assert.Contains(lines, line => line.StartsWith("last scan:", StringComparison.Ordinal) && line.Contains($"{_harness.Now.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("spool:", StringComparison.Ordinal) && line.Contains(" 1 records, ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("dropped records:", StringComparison.Ordinal) && line.Contains(" 0 ", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("corrupt records:", StringComparison.Ordinal) && line.EndsWith(" 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_status_command_without_a_running_agent_says_so()
    {
        var error = new StringWriter();

        var exit = await AgentApp.RunAsync(["status", "--spool-dir", _harness.SpoolDirectory], new StringWriter(), error, CancellationToken.None);

        Assert.Equal(AgentApp.Failed, exit);
        Assert.Contains("no agent status", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Once_succeeds_only_when_the_spool_is_emptied_and_sends_what_an_earlier_run_left()
    {
        var settings = _harness.Settings() with { Once = true };
        _harness.Server.Down = true;

        Assert.Equal(AgentApp.Failed, await AgentApp.RunAsync(settings, _harness.Scan, _harness.Senders(), _harness.Log, CancellationToken.None));
        _harness.Server.Down = false;
        Assert.Equal(AgentApp.Ok, await AgentApp.RunAsync(settings, _harness.Scan, _harness.Senders(), _harness.Log, CancellationToken.None));

        Assert.Equal(_harness.Scans.Select(scan => scan.FirstPort), _harness.Server.Recorded.Select(batch => batch.Sightings[0].Port));
    }
}
