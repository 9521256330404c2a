using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Resilience;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// Makes batches durable before they are acknowledged. A few journal writers (lanes) per process take the batches
/// that arrive together (from any number of agent streams) and write each group in one transaction: the batch ids (a
/// batch seen before is not written again), the sightings into the journal with that writer's sequence numbers, and
/// the reporting hosts. Only after the commit are the batches acknowledged and their sightings handed to the
/// dispatcher for the grains. Each writer commits its sequence numbers in order, which is what grains rely on.
/// </summary>
public sealed class SightingIngest(
    IJournalWriter journal,
    ObservationDispatcher dispatcher,
    ObservationContext context,
    IOptions<SightingOptions> options,
    ILogger<SightingIngest> logger) : BackgroundService, ISightingRecorder
{
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(4096));
    private readonly List<int> _writers = [];

    /// <summary>The journal writers of this process (registered once the database answers).</summary>
    public IReadOnlyList<int> Writers
    {
        get
        {
            lock (_writers) return [.. _writers];
        }
    }

    public async Task<IngestResult> SubmitAsync(Guid batchId, IReadOnlyList<ValidSighting> sightings, int rejected, CancellationToken cancellationToken)
    {
        var pending = new Pending(batchId, sightings, rejected);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        // Not cancelled with the call: once queued, the batch is written (and a retry is then a duplicate).
        return await pending.Result.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.Value.Writers)).Select(_ => Task.Run(() => RunLaneAsync(stoppingToken), stoppingToken)));

    /// <summary>One journal writer: its own id and sequence, flushing whatever batches are waiting.</summary>
    private async Task RunLaneAsync(CancellationToken stoppingToken)
    {
        var registration = Backoff.UntilStopped(logger, "Registering a journal writer", DatabaseErrors.IsUnavailable);
        var lane = new Lane(await registration.ExecuteAsync(async ct => await journal.RegisterAsync(ct), stoppingToken));
        logger.LogInformation("Journal writer {Writer} registered", lane.Writer);
        lock (_writers) _writers.Add(lane.Writer);
        var reader = _queue.Reader;
        var batch = new List<Pending>();
        while (await reader.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            var rows = 0;
            while (rows < options.Value.MaxRowsPerFlush && reader.TryRead(out var next))
            {
                batch.Add(next);
                rows += next.Sightings.Count;
            }

            if (batch.Count == 0) continue;
            try
            {
                await FlushAsync(lane, batch, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                if (!DatabaseErrors.IsUnavailable(e)) logger.LogError(e, "Writing {Count} batch(es) to the journal failed", batch.Count);
                foreach (var pending in batch) pending.Result.TrySetException(e);
            }
        }
    }

    private async Task FlushAsync(Lane lane, List<Pending> batches, CancellationToken cancellationToken)
    {
        // A batch id twice in one flush (a retry racing its original): the first is written, the others are duplicates.
        // The candidates go in batch id order: the order their rows are locked in.
        var candidates = batches.DistinctBy(p => p.BatchId).OrderBy(p => p.BatchId).ToList();
        var startSeq = lane.Seq;
        var written = new List<Pending>();
        Committed committed;
        try
        {
            committed = await WriteAsync(lane.Writer, startSeq, candidates, written, cancellationToken);
        }
        catch
        {
            // The commit may have gone through even so (the connection died after PostgreSQL committed): the sequence
            // numbers are never used again, and each port is told the journal may hold entries up to them, so its grain
            // reads them if they are there. A retry of the batch then finds it recorded and counts it once.
            lane.Seq = startSeq + written.Sum(p => p.Sightings.Count);
            dispatcher.MayHaveCommitted(lane.Writer, LastSeqPerPort(written, startSeq));
            throw;
        }

        lane.Seq = startSeq + written.Sum(p => p.Sightings.Count);
        context.HostsAdded(committed.NewHosts);
        Acknowledge(lane.Writer, startSeq, written);
        AnswerDuplicates(batches, written, committed.Recorded);
    }

    /// <summary>
    /// The one transaction of a flush. <paramref name="written"/> gets the batches claimed (numbered in its order) as
    /// soon as they are known, so that a failure after that still accounts for their sequence numbers.
    /// </summary>
    private async Task<Committed> WriteAsync(int writer, long startSeq, List<Pending> candidates, List<Pending> written, CancellationToken cancellationToken)
    {
        await using var flush = await journal.BeginFlushAsync(writer, cancellationToken);
        var claimed = await flush.ClaimAsync(candidates, cancellationToken);
        written.AddRange(candidates.Where(c => claimed.Contains(c.BatchId)));
        var earlier = candidates.Where(c => !claimed.Contains(c.BatchId)).Select(c => c.BatchId).ToList();
        var recorded = earlier.Count > 0 ? await flush.RecordedCountsAsync(earlier, cancellationToken) : new Dictionary<Guid, int>();
        await flush.AppendAsync(startSeq, written, cancellationToken);
        var newHosts = await flush.AddHostsAsync(LatestPerHost(written), cancellationToken);
        await flush.CommitAsync(cancellationToken);
        return new Committed(recorded, newHosts);
    }

    /// <summary>Durable: acknowledge, then hand the sightings to the port grains.</summary>
    private void Acknowledge(int writer, long startSeq, List<Pending> written)
    {
        var next = startSeq;
        foreach (var pending in written)
        {
            var entries = new (int Port, ObservationEntry Entry)[pending.Sightings.Count];
            for (var i = 0; i < entries.Length; i++)
            {
                var s = pending.Sightings[i];
                entries[i] = (s.Port, new ObservationEntry(++next, s.Transport, s.HostHash, s.HostRef, s.Process, s.Executable, s.ObservedAt, s.BindScope, s.Privileged,
                    s.Program, s.SystemdUnit, s.HostGroup));
            }

            dispatcher.Enqueue(writer, entries);
            pending.Result.TrySetResult(new IngestResult(pending.Sightings.Count, Duplicate: false));
        }
    }

    /// <summary>Batches recorded by an earlier flush answer with the count recorded then; repeats within this flush with their own.</summary>
    private static void AnswerDuplicates(List<Pending> batches, List<Pending> written, IReadOnlyDictionary<Guid, int> recorded)
    {
        var answered = written.ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var pending in batches.Where(p => !answered.Contains(p)))
        {
            var accepted = recorded.TryGetValue(pending.BatchId, out var count) ? count : pending.Sightings.Count;
            pending.Result.TrySetResult(new IngestResult(accepted, Duplicate: true));
        }
    }

    /// <summary>Each host with its latest sighting, in host hash order: the order their rows are locked in.</summary>
    private static (long HostHash, DateTime LastSeen)[] LatestPerHost(List<Pending> written)
    {
        var hosts = new Dictionary<long, DateTime>();
        foreach (var s in written.SelectMany(p => p.Sightings))
        {
            var host = (long)s.HostHash;
            if (!hosts.TryGetValue(host, out var last) || s.ObservedAt > last) hosts[host] = s.ObservedAt;
        }

        return [.. hosts.OrderBy(h => h.Key).Select(h => (h.Key, h.Value))];
    }

    private static Dictionary<int, long> LastSeqPerPort(List<Pending> written, long startSeq)
    {
        var last = new Dictionary<int, long>();
        var seq = startSeq;
        foreach (var pending in written)
        {
            foreach (var s in pending.Sightings) last[s.Port] = ++seq;
        }

        return last;
    }

    private sealed record Committed(IReadOnlyDictionary<Guid, int> Recorded, int NewHosts);

    private sealed class Lane(int writer)
    {
        public int Writer { get; } = writer;

        public long Seq;
    }

    private sealed record Pending(Guid BatchId, IReadOnlyList<ValidSighting> Sightings, int Rejected) : JournalBatch(BatchId, Sightings, Rejected)
    {
        public TaskCompletionSource<IngestResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
