using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Watch;

/// <summary>The event log as watchers, the webhook and retention read it.</summary>
public interface IWatchEventLog
{
    /// <summary>Events with a cursor above <paramref name="cursor"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<WatchEvent>> ReadAfterAsync(long cursor, int limit, CancellationToken cancellationToken);

    /// <summary>The newest event's cursor (0 when none): where a watch "from now" starts.</summary>
    Task<long> LatestCursorAsync(CancellationToken cancellationToken);

    /// <summary>The highest cursor retention has deleted: a cursor below it has missed events.</summary>
    Task<long> DeletedThroughAsync(CancellationToken cancellationToken);

    /// <summary>Deletes events raised longer ago than <paramref name="age"/>; returns how many.</summary>
    Task<int> DeleteOlderThanAsync(TimeSpan age, CancellationToken cancellationToken);
}
