using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Resilience;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// Keeps this process's journal writers alive (a heartbeat), and finds the journal rows that no port has checkpointed
/// and no delivery will bring: those of writers whose process is gone (a silo killed between acknowledging a batch and
/// delivering it), and those of this process's writers that have waited a whole sweep interval (a delivery applied by
/// an activation that was lost before it stored them, on a port that gets nothing newer to show the gap). A grain that
/// activates later reads them anyway; this reaches the grains that stay active. A writer is gone when its heartbeat
/// stops, or at once when the cluster declares its silo dead (then the sweep runs right away).
/// </summary>
// Seven dependencies: it ties the journal, its writers and the dispatcher to cluster membership; the rest are options and logger.
public sealed class OrphanedJournalSweeper(
    IJournalWriter journal,
    IOrphanedJournal orphans,
    SightingIngest ingest,
    ObservationDispatcher dispatcher,
    IClusterMembershipService membership,
    IOptions<SightingOptions> options,
    ILogger<OrphanedJournalSweeper> logger) : BackgroundService
{
    // The deaths already handled, and whether a sweep is owed for them: kept across failed attempts, since a silo
    // marked gone once is found by no later marking.
    private readonly HashSet<SiloAddress> _handledDeaths = [];
    private bool _sweepOwed;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(BeatAndSweepAsync(stoppingToken), SweepOnSiloDeathAsync(stoppingToken));

    private async Task BeatAndSweepAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        // A few heartbeats per timeout, so one slow write does not make a live writer look gone.
        var heartbeat = settings.WriterTimeout / 4;
        var nextSweep = DateTime.UtcNow + settings.OrphanSweepInterval;
        IReadOnlyDictionary<int, long> marks = new Dictionary<int, long>();
        using var timer = new PeriodicTimer(heartbeat < settings.OrphanSweepInterval ? heartbeat : settings.OrphanSweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await journal.HeartbeatAsync(ingest.Writers, stoppingToken);
                if (DateTime.UtcNow < nextSweep) continue;
                nextSweep = DateTime.UtcNow + settings.OrphanSweepInterval;
                // This process's rows up to the marks of the previous sweep have had an interval to be checkpointed.
                var next = ingest.Marks();
                await SweepAsync(settings.WriterTimeout, marks, stoppingToken);
                marks = next;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug("Journal heartbeat or sweep failed: {Message}", e.Message);
            }
        }
    }

    private async Task SweepOnSiloDeathAsync(CancellationToken stoppingToken)
    {
        // A failed attempt is made again on the same snapshot: the next membership change may be far away.
        var retry = Backoff.UntilStopped(logger, "Sweeping after a silo's death");
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
                {
                    await retry.ExecuteAsync(async token => await HandleDeathsAsync(snapshot, token), stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Following the cluster's membership failed: {Message}", e.Message);
                await Task.Delay(Backoff.FirstDelay, stoppingToken);
            }
        }
    }

    /// <summary>Marks the writers of each newly dead silo gone, then sweeps if any had writers (or an earlier attempt's sweep failed).</summary>
    private async Task HandleDeathsAsync(ClusterMembershipSnapshot snapshot, CancellationToken cancellationToken)
    {
        foreach (var (silo, member) in snapshot.Members)
        {
            // Dead silos stay listed for a while: each is handled once, and it costs one indexed update.
            if (member.Status != SiloStatus.Dead || _handledDeaths.Contains(silo)) continue;
            if (await orphans.MarkSiloGoneAsync(silo.ToParsableString(), cancellationToken) > 0)
            {
                logger.LogInformation("Silo {Silo} was declared dead: its journal writers are gone; sweeping their rows", silo);
                _sweepOwed = true;
            }

            _handledDeaths.Add(silo);
        }

        if (!_sweepOwed) return;
        await SweepAsync(options.Value.WriterTimeout, new Dictionary<int, long>(), cancellationToken);
        _sweepOwed = false;
    }

    private async Task SweepAsync(TimeSpan writerTimeout, IReadOnlyDictionary<int, long> marks, CancellationToken cancellationToken)
    {
        var found = await orphans.FindUnappliedAsync(writerTimeout, marks, cancellationToken);
        foreach (var rows in found) dispatcher.NotifyUnapplied(rows.Port, rows.Writer, rows.LastSeq);
        var gone = found.Count(r => r.WriterGone);
        if (gone > 0) logger.LogInformation("{Count} port(s) have journal rows of writers that are gone; their grains are told to read them", gone);
        // Usually a port whose checkpoint is late (the grains behind, the database away); the grain then has nothing to read.
        if (found.Count > gone) logger.LogDebug("{Count} port(s) have journal rows not checkpointed a sweep after they were written; their grains are told to read them", found.Count - gone);
    }
}
