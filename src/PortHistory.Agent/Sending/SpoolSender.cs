using Google.Protobuf;
using PortHistory.Agent.Health;
using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Sending;

/// <summary>
/// Sends what the spool holds, oldest first, until it is empty or the server cannot be reached (then the rest waits for
/// the next drain). A record leaves the spool only when the server has answered for it, so the server counts each
/// batch once by its batch_id.
/// </summary>
public sealed class SpoolSender(SightingSpool spool, BatchSender sender, StatusFiles status, TextWriter output, TextWriter error, Func<DateTimeOffset> clock)
{
    /// <summary>
    /// Sightings older than this are not sent: the server refuses them (its PortHistory:Sightings:MaxAge, 30 days by default).
    /// </summary>
    public static readonly TimeSpan MaxSightingAge = TimeSpan.FromDays(30);

    /// <summary>
    /// Sends until the spool is empty or the server does not answer. A refused batch is removed (the server will never
    /// take it); sightings past the server's accepted age are removed unsent and counted.
    /// </summary>
    /// <exception cref="ServerRefusedException">The server refused the agent itself; the batch stays in the spool.</exception>
    public async Task<DrainSummary> DrainAsync(CancellationToken cancellationToken)
    {
        int acknowledged = 0, refused = 0, duplicates = 0;
        long accepted = 0, rejected = 0, expired = 0;
        var complete = true;
        try
        {
            while (spool.Peek() is { } entry)
            {
                if (Batch(entry) is not { } batch)
                {
                    spool.Discard(entry);
                    continue;
                }

                var stale = RemoveExpired(batch);
                if (batch.Sightings.Count == 0)
                {
                    error.WriteLine($"batch {batch.BatchId}: all {stale} sightings are older than the server accepts; removed unsent");
                    spool.Acknowledge(entry, stale);
                    expired += stale;
                    continue;
                }

                var outcome = await sender.SendBatchAsync(batch, cancellationToken);
                if (outcome.Status == BatchStatus.Failed)
                {
                    complete = false;
                    break;
                }

                // Refused means the server will never take the batch as it is: keeping it would block every later one.
                spool.Acknowledge(entry, stale);
                expired += stale;
                if (outcome.Status == BatchStatus.Refused)
                {
                    refused++;
                    error.WriteLine($"batch {batch.BatchId}: refused by the server; removed from the spool");
                }
                else if (outcome.Result is { } result)
                {
                    acknowledged++;
                    accepted += result.Accepted;
                    rejected += result.Rejected.Count;
                    if (result.Duplicate) duplicates++;
                    status.AcknowledgedAt(clock());
                }

                status.Publish();
            }
        }
        finally
        {
            status.Publish();
        }

        var summary = new DrainSummary(acknowledged, refused, accepted, rejected, duplicates, expired, complete);
        var left = spool.Figures.Records;
        if (summary.Attempted > 0 || !complete)
        {
            output.WriteLine($"sent: {acknowledged} batches acknowledged, {accepted} sightings accepted, {rejected} rejected, {duplicates} duplicate batches"
                + (refused > 0 ? $", {refused} batches refused" : "") + $"; {left} batches left in the spool"
                + (complete ? "" : " (server unreachable; retried at the next scan)"));
        }

        return summary;
    }

    private SightingBatch? Batch(SpoolEntry entry)
    {
        if (entry.Kind != SpoolRecordKind.FullBatch)
        {
            error.WriteLine($"spool: a record of unknown kind {(byte)entry.Kind}; discarded");
            return null;
        }

        try
        {
            return SightingBatch.Parser.ParseFrom(entry.Payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            error.WriteLine($"spool: a record is not a readable batch ({e.Message}); discarded");
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
