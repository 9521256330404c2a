using Google.Protobuf;
using PortHistory.Agent.Health;
using PortHistory.Agent.Scanning;
using PortHistory.Agent.Sending;
using PortHistory.Agent.Spool;

namespace PortHistory.Agent;

/// <summary>Scans the host and writes what is to be sent to the spool, flushed to disk before anything is sent.</summary>
public sealed class ScanRecorder(
    AgentSettings settings, Func<DateTimeOffset, ScanResult> scan, SightingSpool spool, StatusFiles status, TextWriter output, TextWriter error)
{
    /// <summary>Scans as of <paramref name="now"/> and appends the scan's batches to the spool; false when the scan or the spool failed.</summary>
    public bool Record(DateTimeOffset now)
    {
        ScanResult result;
        try
        {
            result = scan(now);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"scan failed: {e.Message}");
            return false;
        }

        var batches = BatchSender.Split(result.Sightings, settings.BatchSize, settings.HostGroup);
        var spooled = true;
        foreach (var batch in batches)
        {
            try
            {
                spooled &= spool.Append(SpoolRecordKind.FullBatch, batch.ToByteArray());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"spool: cannot write batch {batch.BatchId}: {e.Message}");
                spooled = false;
            }
        }

        status.ScannedAt(now);
        var figures = status.Publish().Spool;
        output.WriteLine($"scan: {result.Sightings.Count} sightings in {batches.Count} batches"
            + (result.Unowned > 0 ? $"; {result.Unowned} sockets without a visible process{(result.Privileged ? "" : " (agent unprivileged)")}" : "")
            + $"; spool: {figures.Records} batches, {figures.Bytes} bytes");
        return spooled;
    }
}
