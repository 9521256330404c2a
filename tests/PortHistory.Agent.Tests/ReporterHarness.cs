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

    public string SpoolDirectory => Path.Combine(_directory, "spool");

    public string MetricsFile => Path.Combine(_directory, "porthistory-agent.prom");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public AgentSettings Settings(long spoolMaxBytes = 1024 * 1024) => new(
        new Uri("http://127.0.0.1:1"), () => "agent-token", "host-a", TimeSpan.FromSeconds(60), BatchSize: 500, Once: false, DryRun: false,
        ProcRoot: "/proc", SpoolDirectory, spoolMaxBytes, MetricsFile);

    /// <summary>A scan with ports no other scan has, observed at the clock's time.</summary>
    public ScanResult Scan(DateTimeOffset at)
    {
        var firstPort = (uint)(1000 + (Scans.Count * SightingsPerScan));
        Scans.Add((at, firstPort));
        return new ScanResult([.. Enumerable.Range(0, SightingsPerScan).Select(i => new Sighting
        {
            HostRef = "host-a", ObservedAt = Timestamp.FromDateTimeOffset(at), Transport = Transport.Tcp, AddressFamily = AddressFamily.Ipv4,
            LocalAddress = "0.0.0.0", Port = firstPort + (uint)i, State = SocketState.Listen, ProcessName = "sshd", Pid = 42,
        })], Privileged: true, Unowned: 0, HiddenProcesses: 0);
    }

    /// <summary>A sender that retries twice without waiting, so an outage costs no time.</summary>
    public BatchSender Sender() => new(new Sightings.SightingsClient(Server), () => "agent-token", Output, Error,
        new CallRetries(new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), MaxAttempts: 2), delay: (_, _) => Task.CompletedTask, jitter: () => 0));

    public Reporter Open(long spoolMaxBytes = 1024 * 1024) => Reporter.Open(Settings(spoolMaxBytes), Scan, Sender(), Output, Error, () => Now);

    public void ScanAfterAMinute(Reporter reporter)
    {
        Now += TimeSpan.FromMinutes(1);
        Assert.True(reporter.Scan());
    }
}
