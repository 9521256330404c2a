using Google.Protobuf.WellKnownTypes;
using PortHistory.Agent.Scanning;
using PortHistory.Agent.Sending;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>
/// A reporter's surroundings for tests: a spool directory, an in-memory server that can be down, a clock that moves
/// only when told, and scans whose ports no other scan has.
/// </summary>
public sealed class ReporterHarness : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("porthistory-agent-reporter-").FullName;

    public FakeSightingsServer Server { get; } = new();

    public StringWriter Output { get; } = new();

    public StringWriter Error { get; } = new();

    /// <summary>Every scan made, with its time and first port.</summary>
    public List<(DateTimeOffset At, uint FirstPort)> Scans { get; } = [];

    public DateTimeOffset Now { get; set; } = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public int SightingsPerScan { get; set; } = 3;

    /// <summary>Every scan in full with ReportBatch (the tests of the spool's batches), else differential reporting.</summary>
    public bool FullReports { get; init; }

    /// <summary>What each scan finds; by default sightings on ports no other scan had.</summary>
    public Func<DateTimeOffset, ScanResult>? ScanWith { get; set; }

    public Random Random { get; } = new(20261205);

    public AgentLog Log => new(Output, Error);

    public string SpoolDirectory => Path.Combine(_directory, "spool");

    public string MetricsFile => Path.Combine(_directory, "porthistory-agent.prom");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public AgentSettings Settings(long spoolMaxBytes = 1024 * 1024) => new(
        new Uri("http://127.0.0.1:1"), () => "agent-token", "host-a", TimeSpan.FromSeconds(60), BatchSize: 500, Once: false, DryRun: false,
        ProcRoot: "/proc", SpoolDirectory, spoolMaxBytes, MetricsFile) { FullReports = FullReports };

    /// <summary>A scan with ports no other scan has, observed at the clock's time.</summary>
    public ScanResult Scan(DateTimeOffset at)
    {
        if (ScanWith is { } scan) return scan(at);
        var firstPort = (uint)(1000 + (Scans.Count * SightingsPerScan));
        Scans.Add((at, firstPort));
        return new ScanResult([.. Enumerable.Range(0, SightingsPerScan).Select(i => new Sighting
        {
            HostRef = "host-a", ObservedAt = Timestamp.FromDateTimeOffset(at), Transport = Transport.Tcp, AddressFamily = AddressFamily.Ipv4,
            LocalAddress = "0.0.0.0", Port = firstPort + (uint)i, State = SocketState.Listen, ProcessName = "sshd", Pid = 42,
        })], Privileged: true, Unowned: 0, HiddenProcesses: 0);
    }

    /// <summary>Waits the retries asked for, recorded instead of taken.</summary>
    public List<TimeSpan> Waits { get; } = [];

    /// <summary>Senders that retry twice without waiting, so an outage costs no time.</summary>
    public (BatchSender Batches, HostReportSender Reports) Senders()
    {
        var retries = new CallRetries(new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), MaxAttempts: 2), delay: (wait, _) =>
        {
            lock (Waits) Waits.Add(wait);
            return Task.CompletedTask;
        }, jitter: () => 0);
        var client = new Sightings.SightingsClient(Server);
        return (new BatchSender(client, () => "agent-token", Output, Error, retries), new HostReportSender(client, () => "agent-token", Error, retries));
    }

    public Reporter Open(long spoolMaxBytes = 1024 * 1024) => Reporter.Open(Settings(spoolMaxBytes), Scan, Senders(), Log, () => Now, Random);

    public Reporter Open(AgentSettings settings) => Reporter.Open(settings, Scan, Senders(), Log, () => Now, Random);

    public void ScanAfterAMinute(Reporter reporter)
    {
        Now += TimeSpan.FromMinutes(1);
        Assert.True(reporter.Scan());
    }
}
