using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Watch;

/// <summary>
/// The event log as the port grains raise into it, with every failure to store counted
/// (<c>porthistory.watch.events.unstored</c>) and logged before it reaches the grain, which keeps the events and raises
/// them again: a failure is never only the grain's to notice.
/// </summary>
public sealed class CountedWatchEventSink(IWatchEventSink log, PortHistoryMetrics metrics, ILogger<CountedWatchEventSink> logger) : IWatchEventSink
{
    public async Task RaiseAsync(IReadOnlyList<WatchEvent> events, CancellationToken cancellationToken)
    {
        try
        {
            await log.RaiseAsync(events, cancellationToken);
        }
        catch (Exception e)
        {
            metrics.WatchEventsUnstored(events.Count);
            logger.LogWarning("Storing {Count} watch event(s) of port {Port} failed, kept to be raised again: {Message}",
                events.Count, events.Count > 0 ? events[0].Port : 0, e.Message.Split('\n')[0]);
            throw;
        }
    }
}
