using PortHistory.Agent.Health;
using PortHistory.Agent.Reporting;
using PortHistory.Agent.Scanning;

namespace PortHistory.Agent;

/// <summary>Scans the host and writes what the scan calls for to the spool (<see cref="HostReporting"/>), flushed to disk before anything is sent.</summary>
public sealed class ScanRecorder(Func<DateTimeOffset, ScanResult> scan, HostReporting reporting, StatusFiles status, AgentLog log)
{
    /// <summary>Scans and spools what it calls for; false when the scan or the spool failed.</summary>
    public bool Record(Func<DateTimeOffset> clock)
    {
        ScanResult result;
        try
        {
            result = scan(clock());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error.WriteLine($"scan failed: {e.Message}");
            return false;
        }

        // A change is dated when the scan has read the socket tables: what it saw held by then. Its start can precede a
        // socket it finds (a slow scan on a busy host), so it would date a change before it happened.
        var now = clock();
        var spooled = reporting.Record(result, now);
        status.ScannedAt(now);
        var figures = status.Publish().Spool;
        log.Output.WriteLine($"scan: {result.Sightings.Count} sightings"
            + (result.Unowned > 0 ? $"; {result.Unowned} sockets without a visible process{(result.Privileged ? "" : " (agent unprivileged)")}" : "")
            + $"; spooled: {spooled ?? "nothing (spool failed)"}; spool: {figures.Records} records, {figures.Bytes} bytes");
        return spooled is not null;
    }
}
