using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Application.Resilience;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// Makes what agents report durable before it is acknowledged. A few journal writers (lanes) per process take whatever
/// waits — full-report batches from any number of agent streams, and host grains' commits — and write each group in one
/// transaction (<see cref="JournalFlushRun"/>): batch ids (a batch seen before is not written again), host rows (each
/// only if still at the version its grain read), the sightings and the listener changes numbered in that writer's
/// sequence. Only after the commit are batches and hosts answered and the entries handed to the port grains. Each
/// writer commits its sequence numbers in order, which is what grains rely on.
/// </summary>
public sealed class SightingIngest(
    IJournalWriter journal,
    ObservationDispatcher dispatcher,
    IProcessDictionary processes,
    ObservationContext context,
    IOptions<SightingOptions> options,
    ILogger<SightingIngest> logger) : BackgroundService, ISightingRecorder, IHostCommits
{
    private readonly Channel<JournalWork> _queue = Channel.CreateBounded<JournalWork>(new BoundedChannelOptions(4096));
    private readonly List<JournalLane> _lanes = [];

    /// <summary>The journal writers of this process (registered once the database answers).</summary>
    public IReadOnlyList<int> Writers
    {
        get
        {
            lock (_lanes) return [.. _lanes.Select(l => l.Writer)];
        }
    }

    /// <summary>Each journal writer of this process with the last sequence number it has used.</summary>
    public IReadOnlyDictionary<int, long> Marks()
    {
        lock (_lanes) return _lanes.ToDictionary(l => l.Writer, l => Interlocked.Read(ref l.Seq));
    }

    public async Task<IngestResult> SubmitAsync(Guid batchId, IReadOnlyList<ValidSighting> sightings, int rejected, CancellationToken cancellationToken)
    {
        var pending = new PendingBatch(batchId, sightings, rejected);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        // Not cancelled with the call: once queued, the batch is written (and a retry is then a duplicate).
        return await pending.Result.Task;
    }

    public async Task<bool> CommitAsync(HostCommit commit, CancellationToken cancellationToken)
    {
        var pending = new PendingHost(commit);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Result.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.Value.Writers)).Select(_ => Task.Run(() => RunLaneAsync(stoppingToken), stoppingToken)));

    /// <summary>One journal writer: its own id and sequence, flushing whatever waits.</summary>
    private async Task RunLaneAsync(CancellationToken stoppingToken)
    {
        var registration = Backoff.UntilStopped(logger, "Registering a journal writer", DatabaseErrors.IsUnavailable);
        var lane = new JournalLane(await registration.ExecuteAsync(async ct => await journal.RegisterAsync(ct), stoppingToken));
        logger.LogInformation("Journal writer {Writer} registered", lane.Writer);
        lock (_lanes) _lanes.Add(lane);
        var reader = _queue.Reader;
        var work = new List<JournalWork>();
        while (await reader.WaitToReadAsync(stoppingToken))
        {
            work.Clear();
            var rows = 0;
            while (rows < options.Value.MaxRowsPerFlush && reader.TryRead(out var next))
            {
                work.Add(next);
                rows += next.Rows;
            }

            if (work.Count == 0) continue;
            var run = new JournalFlushRun(lane, journal, processes, [.. work.OfType<PendingBatch>()], [.. work.OfType<PendingHost>()]);
            try
            {
                await run.WriteAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The commit may have gone through even so (the connection died after PostgreSQL committed): the sequence
                // numbers are never used again, and each port is told the journal may hold entries up to them, so its grain
                // reads them if they are there. A retry of the batch then finds it recorded and counts it once; a host grain
                // whose commit is unknown reloads its row.
                dispatcher.MayHaveCommitted(lane.Writer, run.Reserved());
                if (!DatabaseErrors.IsUnavailable(e)) logger.LogError(e, "Writing {Count} batch(es) and host change(s) to the journal failed", work.Count);
                foreach (var pending in work) pending.Fail(e);
                continue;
            }

            if (run.NewOrChangedHosts) context.HostsChanged();
            foreach (var (writer, entries) in run.Entries) dispatcher.Enqueue(writer, entries);
            run.Answer();
        }
    }
}

/// <summary>A journal writer's id and the last sequence number it used.</summary>
internal sealed class JournalLane(int writer)
{
    public int Writer { get; } = writer;

    public long Seq;
}

/// <summary>Something waiting for a lane: a batch of sightings, or a host grain's commit.</summary>
internal abstract class JournalWork
{
    /// <summary>Rows it adds to a flush, about: flushes stay near the configured size.</summary>
    public abstract int Rows { get; }

    public abstract void Fail(Exception e);
}

internal sealed class PendingBatch(Guid batchId, IReadOnlyList<ValidSighting> sightings, int rejected) : JournalWork
{
    public JournalBatch Batch { get; } = new(batchId, sightings, rejected);

    public TaskCompletionSource<IngestResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override int Rows => Batch.Sightings.Count;

    public override void Fail(Exception e) => Result.TrySetException(e);
}

internal sealed class PendingHost(HostCommit commit) : JournalWork
{
    public HostCommit Commit { get; } = commit;

    public TaskCompletionSource<bool> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override int Rows => 1 + Commit.Changes.Length;

    public override void Fail(Exception e) => Result.TrySetException(e);
}
