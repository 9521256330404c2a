using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Watch;

/// <summary>
/// One watcher's reading of the event log, after its cursor. A stream that is up to date takes its events from the
/// silo's one reader (<see cref="WatchHub"/>), in memory; one that is behind (it started from an older cursor, or its
/// caller read too slowly for its buffer) reads the log itself a page at a time, at the pace its caller takes them,
/// until it has caught up and joins the reader again. Either way every event after the cursor comes once, in order:
/// the cursor is the last event the stream took, and both sources give only events after it.
/// </summary>
public sealed class WatchFeed(IWatchEventLog log, WatchSignal signal, WatchHub hub, IOptions<WatchOptions> options, TimeProvider time)
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
            using (var joined = hub.TryJoin(filter, cursor))
            {
                if (joined is not null)
                {
                    // Until the reader lets this stream go (its buffer filled) or the call ends.
                    var events = joined.Events.Reader;
                    while (true)
                    {
                        var through = joined.Through;
                        if (events.TryRead(out var e))
                        {
                            cursor = (long)e.Cursor;
                            yield return new WatchResponse { Event = e, Cursor = e.Cursor };
                            lastSent = time.GetTimestamp();
                            continue;
                        }

                        if (events.Completion.IsCompleted) break;
                        if (time.GetElapsedTime(lastSent) >= settings.PositionInterval)
                        {
                            // Nothing buffered: every event up to the reader's cursor was sent or did not match.
                            cursor = Math.Max(cursor, through);
                            yield return new WatchResponse { Cursor = (ulong)cursor };
                            lastSent = time.GetTimestamp();
                        }

                        await WaitAsync(events.WaitToReadAsync(cancellationToken).AsTask(), settings.PositionInterval - time.GetElapsedTime(lastSent), cancellationToken);
                    }

                    continue;
                }
            }

            // Behind the reader: a page from the log, as before there was one.
            var wake = signal.Next;
            var page = await log.ReadAfterAsync(cursor, settings.PageSize, cancellationToken);
            foreach (var e in page)
            {
                cursor = (long)e.Cursor;
                if (!filter.Matches(e)) continue;
                yield return new WatchResponse { Event = e, Cursor = e.Cursor };
                lastSent = time.GetTimestamp();
            }

            if (page.Count == settings.PageSize || hub.Covers(cursor)) continue;
            if (time.GetElapsedTime(lastSent) >= settings.PositionInterval)
            {
                yield return new WatchResponse { Cursor = (ulong)cursor };
                lastSent = time.GetTimestamp();
            }

            await WaitAsync(wake, settings.PollInterval, cancellationToken);
        }
    }

    private async Task WaitAsync(Task wake, TimeSpan atMost, CancellationToken cancellationToken)
    {
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAny(wake, Task.Delay(atMost > TimeSpan.Zero ? atMost : TimeSpan.Zero, time, poll.Token));
        await poll.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}

/// <summary>A cursor from before what retention kept: events after it are gone, so the caller must start over.</summary>
public sealed class WatchCursorUnknownException(long cursor, long latest)
    : Exception($"after_cursor: {cursor} is past the newest event ({latest}); use a cursor this server gave, or none");

public sealed class WatchCursorExpiredException(long cursor, long deletedThrough)
    : Exception($"after_cursor: events after {cursor} up to {deletedThrough} are past the retention kept; watch again without a cursor (or with 0, the oldest kept)");
