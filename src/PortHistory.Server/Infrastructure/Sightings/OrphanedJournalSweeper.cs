using Microsoft.Extensions.Options;
using Npgsql;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Configuration;

namespace PortHistory.Server.Infrastructure.Sightings;

/// <summary>
/// Keeps this process's journal writers alive (a heartbeat), and finds the journal rows of writers whose process is
/// gone (a silo killed between acknowledging a batch and delivering it) that no port has checkpointed. A grain that
/// activates later reads them anyway; this reaches the grains that stay active on the surviving silos, which
/// otherwise would hear of those rows only from a writer that no longer exists.
/// </summary>
public sealed class OrphanedJournalSweeper(
    NpgsqlDataSource dataSource,
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
                await BeatAsync(stoppingToken);
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

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        var writers = ingest.Writers;
        if (writers.Count == 0) return;
        await using var command = dataSource.CreateCommand("UPDATE sighting_writers SET heartbeat_at = now() WHERE writer_id = ANY(@writers)");
        command.Parameters.AddWithValue("writers", writers.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task SweepAsync(TimeSpan writerTimeout, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT j.port, j.writer_id, max(j.seq)
            FROM sighting_writers w
            JOIN sighting_journal j ON j.writer_id = w.writer_id
            LEFT JOIN port_watermarks m ON m.port = j.port AND m.writer_id = j.writer_id
            WHERE w.heartbeat_at < now() - @timeout AND j.seq > coalesce(m.seq, 0)
            GROUP BY j.port, j.writer_id
            """);
        command.Parameters.AddWithValue("timeout", writerTimeout);
        var found = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            dispatcher.NotifyUnapplied(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt64(2));
            found++;
        }

        if (found > 0) logger.LogInformation("{Count} port(s) have journal rows of writers that are gone; their grains are told to read them", found);
    }
}
