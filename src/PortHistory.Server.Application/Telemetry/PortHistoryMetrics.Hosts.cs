using System.Diagnostics.Metrics;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Telemetry;

/// <summary>Differential host reports answered, by kind and outcome.</summary>
public sealed partial class PortHistoryMetrics
{
    // Host reports by kind (HostReport.BodyOneofCase) and outcome: heartbeats are the hottest call of a large fleet.
    private readonly long[] _hostReports = new long[4 * 4];
    private long _heartbeatsInMemory;

    /// <summary>A heartbeat answered from the silo's pulse board, without a call to the host's grain.</summary>
    public void HeartbeatAnsweredInMemory() => Interlocked.Increment(ref _heartbeatsInMemory);

    public void HostReported(HostReport.BodyOneofCase kind, HostReportOutcome outcome) =>
        Interlocked.Increment(ref _hostReports[(kind switch
        {
            HostReport.BodyOneofCase.Changes => 1,
            HostReport.BodyOneofCase.Snapshot => 2,
            HostReport.BodyOneofCase.Heartbeat => 3,
            _ => 0,
        }) * 4 + (int)outcome % 4]);

    private IEnumerable<Measurement<long>> HostReports()
    {
        string[] kinds = ["none", "changes", "snapshot", "heartbeat"], outcomes = ["unspecified", "applied", "duplicate", "resync"];
        for (var i = 0; i < _hostReports.Length; i++)
        {
            var count = Volatile.Read(ref _hostReports[i]);
            if (count > 0) yield return new Measurement<long>(count, new("kind", kinds[i / 4]), new("outcome", outcomes[i % 4]));
        }
    }
}
