using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Watch;

namespace PortHistory.Server.Persistence.Watch;

/// <summary>Deletes watch events older than the retention, on every silo (deleting what another silo deleted is nothing).</summary>
public sealed class WatchRetention(IWatchEventLog log, IOptions<WatchOptions> options, ILogger<WatchRetention> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RetentionInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var deleted = await log.DeleteOlderThanAsync(options.Value.Retention, stoppingToken);
                if (deleted > 0) logger.LogInformation("Deleted {Deleted} watch events older than {Retention}", deleted, options.Value.Retention);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Deleting old watch events failed: {Message}", e.Message);
            }
        }
    }
}
