using Microsoft.Extensions.Options;
using Npgsql;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Persistence.Sightings;

/// <summary>
/// Keeps the journal (sightings and listener changes) to what some port grain has not checkpointed yet: rows at or below a port's watermark are
/// applied for good and go, in chunks. Batch ids are kept as long as a batch could still be retried.
/// </summary>
public sealed class JournalCompactor(NpgsqlDataSource dataSource, IOptions<SightingOptions> options, ILogger<JournalCompactor> logger) : BackgroundService
{
    private const int Chunk = 50_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CompactionInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var deleted = 0;
                foreach (var table in new[] { "sighting_journal", "listener_changes" })
                {
                    int chunk;
                    do
                    {
                        await using var command = dataSource.CreateCommand($"""
                            DELETE FROM {table} WHERE ctid IN (
                                SELECT j.ctid FROM {table} j
                                JOIN port_watermarks w ON w.port = j.port AND w.writer_id = j.writer_id
                                WHERE j.seq <= w.seq
                                LIMIT {Chunk})
                            """);
                        chunk = await command.ExecuteNonQueryAsync(stoppingToken);
                        deleted += chunk;
                    }
                    while (chunk == Chunk && !stoppingToken.IsCancellationRequested);
                }

                await using (var batches = dataSource.CreateCommand("DELETE FROM sighting_batches WHERE received_at < now() - @keep"))
                {
                    batches.Parameters.AddWithValue("keep", options.Value.MaxAge + TimeSpan.FromDays(1));
                    await batches.ExecuteNonQueryAsync(stoppingToken);
                }

                if (deleted > 0) logger.LogDebug("Compacted {Deleted} journal rows", deleted);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug("Journal compaction failed: {Message}", e.Message);
            }
        }
    }
}
