using PortHistory.Server.Application.Hosts;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// Counts the fleet's hosts by state (online, stale, retired) at start, after this silo records a new host or a change
/// of state, and every few seconds (other silos do too).
/// </summary>
public sealed class FleetStatisticsRefresher(IHostRows hosts, ObservationContext context, ILogger<FleetStatisticsRefresher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            context.RecountStarting();
            try
            {
                context.Set(await hosts.CountAsync(stoppingToken));
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug("Counting reporting hosts failed: {Message}", e.Message);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(Interval);
            try
            {
                await context.RecountRequestedAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // The interval passed without new hosts here: count anyway, for the other silos' hosts.
            }
        }
    }
}
