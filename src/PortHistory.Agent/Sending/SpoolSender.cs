using Google.Protobuf;
using PortHistory.Agent.Health;
using PortHistory.Agent.Reporting;
using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Sending;

/// <summary>
/// Sends what is due: the spool's records oldest first (batches with ReportBatch, host reports with ReportHost) until
/// the spool is empty or the server cannot be reached (then the rest waits for the next drain), then a heartbeat if
/// one is due. A record leaves the spool only when the server has answered for it.
/// </summary>
public sealed class SpoolSender(SightingSpool spool, BatchSender batches, HostReportDelivery reports, StatusFiles status, AgentLog log, Func<DateTimeOffset> clock)
{
    /// <summary>
    /// Sightings older than this are not sent: the server refuses them (its PortHistory:Sightings:MaxAge, 30 days by default).
    /// </summary>
    public static readonly TimeSpan MaxSightingAge = TimeSpan.FromDays(30);

    /// <summary>A server that answers RESYNC to this many snapshots in one drain is left alone until the next.</summary>
    private const int SnapshotResyncsPerDrain = 2;

    private sealed class Tally
    {
        public int Acknowledged, Refused, Duplicates, Reports, Resyncs, SnapshotResyncs;
        public long Accepted, Rejected, Expired;
    }

    /// <summary>How long until a heartbeat is due; null when none will be until something else happens (a scan).</summary>
    public TimeSpan? UntilHeartbeat(DateTimeOffset now) => spool.Figures.Records > 0 ? null : reports.UntilHeartbeat(now);

    /// <summary>
    /// Sends until the spool is empty or the server does not answer. A refused batch is removed (the server will never
    /// take it); sightings past the server's accepted age are removed unsent and counted.
    /// </summary>
    /// <param name="once">--once: one report goes out whatever happens, a heartbeat if nothing else did.</param>
    /// <exception cref="ServerRefusedException">The server refused the agent itself; the record stays in the spool.</exception>
    public async Task<DrainSummary> DrainAsync(CancellationToken cancellationToken, bool once = false)
    {
        var tally = new Tally();
        var complete = true;
        try
        {
            while (true)
            {
                if (!await SendSpoolAsync(tally, cancellationToken))
                {
                    complete = false;
                    break;
                }

                var heartbeat = await reports.HeartbeatIfDueAsync(clock(), force: once && tally.Reports == 0, cancellationToken);
                if (heartbeat == HeartbeatResult.Applied) tally.Reports++;
                if (heartbeat == HeartbeatResult.Applied) status.AcknowledgedAt(clock());
                if (heartbeat is HeartbeatResult.SnapshotSpooled or HeartbeatResult.FellBack) continue;
                complete = heartbeat != HeartbeatResult.Failed;
                break;
            }
        }
        finally
        {
            status.Publish();
        }

        var summary = new DrainSummary(tally.Acknowledged, tally.Refused, tally.Accepted, tally.Rejected, tally.Duplicates, tally.Expired, complete,
            tally.Reports, tally.Resyncs);
        if (summary.Attempted > 0 || tally.Reports > 0 || tally.Resyncs > 0 || !complete)
        {
            await log.Output.WriteLineAsync((summary.Attempted > 0 || tally.Reports == 0
                    ? $"sent: {tally.Acknowledged} batches acknowledged, {tally.Accepted} sightings accepted, {tally.Rejected} rejected, {tally.Duplicates} duplicate batches"
                      + (tally.Refused > 0 ? $", {tally.Refused} batches refused" : "")
                    : $"sent: {tally.Reports} reports applied" + (tally.Resyncs > 0 ? $", {tally.Resyncs} answered RESYNC" : ""))
                + $"; {spool.Figures.Records} records left in the spool"
                + (complete ? "" : " (server unreachable; retried at the next scan)"));
        }

        return summary;
    }

    /// <summary>Sends the spool's records oldest first; false when one got no answer (it stays for the next drain).</summary>
    private async Task<bool> SendSpoolAsync(Tally tally, CancellationToken cancellationToken)
    {
        while (spool.Peek() is { } entry)
        {
            var sent = entry.Kind switch
            {
                SpoolRecordKind.FullBatch => await SendBatchAsync(entry, tally, cancellationToken),
                SpoolRecordKind.HostReport => await SendReportAsync(entry, tally, cancellationToken),
                _ => Unknown(entry),
            };
            status.Publish();
            if (!sent) return false;
        }

        return true;
    }

    private async Task<bool> SendReportAsync(SpoolEntry entry, Tally tally, CancellationToken cancellationToken)
    {
        switch (await reports.SendSpooledAsync(entry, clock(), cancellationToken))
        {
            case SentReport.Applied or SentReport.Duplicate:
                tally.Reports++;
                status.AcknowledgedAt(clock());
                return true;
            case SentReport.SnapshotResynced when ++tally.SnapshotResyncs >= SnapshotResyncsPerDrain:
                tally.Resyncs++;
                await log.Error.WriteLineAsync("the server keeps asking for a snapshot; tried again at the next scan");
                return false;
            case SentReport.Resynced or SentReport.SnapshotResynced:
                tally.Resyncs++;
                return true;
            case SentReport.Failed:
                return false;
            default:
                return true;
        }
    }

    private async Task<bool> SendBatchAsync(SpoolEntry entry, Tally tally, CancellationToken cancellationToken)
    {
        if (Batch(entry) is not { } batch)
        {
            spool.Discard(entry);
            return true;
        }

        var stale = RemoveExpired(batch);
        if (batch.Sightings.Count == 0)
        {
            await log.Error.WriteLineAsync($"batch {batch.BatchId}: all {stale} sightings are older than the server accepts; removed unsent");
            spool.Acknowledge(entry, stale);
            tally.Expired += stale;
            return true;
        }

        var outcome = await batches.SendBatchAsync(batch, cancellationToken);
        if (outcome.Status == BatchStatus.Failed) return false;

        // Refused means the server will never take the batch as it is: keeping it would block every later one.
        spool.Acknowledge(entry, stale);
        tally.Expired += stale;
        if (outcome.Status == BatchStatus.Refused)
        {
            tally.Refused++;
            await log.Error.WriteLineAsync($"batch {batch.BatchId}: refused by the server; removed from the spool");
        }
        else if (outcome.Result is { } result)
        {
            tally.Acknowledged++;
            tally.Accepted += result.Accepted;
            tally.Rejected += result.Rejected.Count;
            if (result.Duplicate) tally.Duplicates++;
            status.AcknowledgedAt(clock());
        }

        return true;
    }

    private bool Unknown(SpoolEntry entry)
    {
        log.Error.WriteLine($"spool: a record of unknown kind {(byte)entry.Kind}; discarded");
        spool.Discard(entry);
        return true;
    }

    private SightingBatch? Batch(SpoolEntry entry)
    {
        try
        {
            return SightingBatch.Parser.ParseFrom(entry.Payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            log.Error.WriteLine($"spool: a record is not a readable batch ({e.Message}); discarded");
            return null;
        }
    }

    /// <summary>Drops the batch's sightings that the server would refuse as too old; the batch keeps its batch_id.</summary>
    private int RemoveExpired(SightingBatch batch)
    {
        // Whole seconds are compared so that no stored timestamp, however odd, can throw.
        var oldestAccepted = (clock() - MaxSightingAge).ToUnixTimeSeconds();
        var fresh = batch.Sightings.Where(s => s.ObservedAt is null || s.ObservedAt.Seconds >= oldestAccepted).ToList();
        var stale = batch.Sightings.Count - fresh.Count;
        if (stale > 0)
        {
            batch.Sightings.Clear();
            batch.Sightings.AddRange(fresh);
        }

        return stale;
    }
}
