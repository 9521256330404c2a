using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Watch;

/// <summary>
/// One watcher's reading of the event log: after its cursor, a page at a time, at the pace its caller takes them,
/// woken by the silo's signal (or the poll interval). Nothing here is shared with ingest or with other watchers: a
/// caller that stops reading holds one page and its own stream, and the log grows regardless.
/// </summary>
public sealed class WatchFeed(IWatchEventLog log, WatchSignal signal, IOptions<WatchOptions> options, TimeProvider time)
{
    /// <summary>
    /// A position mark first (where the stream starts), then every matching event, with a mark when nothing was sent
    /// for a while. <paramref name="after"/> null: from the newest event now.
    /// </summary>
    public async IAsyncEnumerable<WatchResponse> ReadAsync(WatchFilter filter, long? after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var settings = options.Value;
        long cursor;
        if (after is { } start)
        {
            var deleted = await log.DeletedThroughAsync(cancellationToken);
            if (start > 0 && start < deleted) throw new WatchCursorExpiredException(start, deleted);
            // A cursor no server gave out would silently skip every event up to it.
            var latest = await log.LatestCursorAsync(cancellationToken);
            if (start > latest) throw new WatchCursorUnknownException(start, latest);
            cursor = start;
        }
        else
        {
            cursor = await log.LatestCursorAsync(cancellationToken);
        }

        yield return new WatchResponse { Cursor = (ulong)cursor };
        var lastSent = time.GetTimestamp();
        while (true)
        {
            // Taken before reading: an event raised during the read wakes the next wait.
            var wake = signal.Next;
            var page = await log.ReadAfterAsync(cursor, settings.PageSize, cancellationToken);
            foreach (var e in page)
            {
                cursor = (long)e.Cursor;
                if (!filter.Matches(e)) continue;
                yield return new WatchResponse { Event = e, Cursor = e.Cursor };
                lastSent = time.GetTimestamp();
            }

            if (page.Count == settings.PageSize) continue;
            if (time.GetElapsedTime(lastSent) >= settings.PositionInterval)
            {
                yield return new WatchResponse { Cursor = (ulong)cursor };
                lastSent = time.GetTimestamp();
            }

            using (var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                await Task.WhenAny(wake, Task.Delay(settings.PollInterval, time, poll.Token));
                poll.Cancel();
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}

/// <summary>A cursor from before what retention kept: events after it are gone, so the caller must start over.</summary>
public sealed class WatchCursorUnknownException(long cursor, long latest)
    : Exception($"after_cursor: {cursor} is past the newest event ({latest}); use a cursor this server gave, or none");

public sealed class WatchCursorExpiredException(long cursor, long deletedThrough)
    : Exception($"after_cursor: events after {cursor} up to {deletedThrough} are past the retention kept; watch again without a cursor (or with 0, the oldest kept)");
