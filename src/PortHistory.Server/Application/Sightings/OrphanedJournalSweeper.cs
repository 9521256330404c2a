using Microsoft.Extensions.Options;
using PortHistory.Server.Configuration;
using PortHistory.Server.Infrastructure.Sightings;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// Keeps this process's journal writers alive (a heartbeat), and finds the journal rows of writers whose process is
/// gone (a silo killed between acknowledging a batch and delivering it) that no port has checkpointed. A grain that
/// activates later reads them anyway; this reaches the grains that stay active on the surviving silos, which
/// otherwise would hear of those rows only from a writer that no longer exists.
/// </summary>
public sealed class OrphanedJournalSweeper(
    IJournalWriter journal,
    IOrphanedJournal orphans,
    SightingIngest ingest,
    ObservationDispatcher dispatcher,
    IOptions<SightingOptions> options,
    ILogger<OrphanedJournalSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        // A few heartbeats per timeout, so one slow write does not make a live writer look gone.
        var heartbeat = settings.WriterTimeout / 4;
        var nextSweep = DateTime.UtcNow + settings.OrphanSweepInterval;
        using var timer = new PeriodicTimer(heartbeat < settings.OrphanSweepInterval ? heartbeat : settings.OrphanSweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await journal.HeartbeatAsync(ingest.Writers, stoppingToken);
                if (DateTime.UtcNow < nextSweep) continue;
                nextSweep = DateTime.UtcNow + settings.OrphanSweepInterval;
                await SweepAsync(settings.WriterTimeout, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug("Journal heartbeat or sweep failed: {Message}", e.Message);
            }
        }
    }

    private async Task SweepAsync(TimeSpan writerTimeout, CancellationToken cancellationToken)
    {
        var found = await orphans.FindUnappliedAsync(writerTimeout, cancellationToken);
        foreach (var rows in found) dispatcher.NotifyUnapplied(rows.Port, rows.Writer, rows.LastSeq);
        if (found.Count > 0) logger.LogInformation("{Count} port(s) have journal rows of writers that are gone; their grains are told to read them", found.Count);
    }
}
