using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Watch;

/// <summary>
/// Raises the events of many callers in one write: while a write is under way, what grains raise waits and goes into
/// the next one together. The event log takes one lock per write (ids visible in increasing order), so writing each
/// grain's events apart queued most of an ingest's writers behind that lock when many processes appeared at once. At
/// low rates nothing waits (a raise alone is written at once).
/// </summary>
public sealed class GroupedWatchEventSink(IWatchEventSink log) : IWatchEventSink
{
    /// <summary>Events per write at most (a caller's events are never split).</summary>
    public const int MaxEventsPerWrite = 5_000;

    private readonly Lock _gate = new();
    private readonly List<Raise> _waiting = [];
    private bool _writing;

    public Task RaiseAsync(IReadOnlyList<WatchEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return Task.CompletedTask;
        var raise = new Raise(events);
        bool start;
        lock (_gate)
        {
            _waiting.Add(raise);
            start = !_writing;
            _writing = true;
        }

        // On the thread pool: the writes must not run on the scheduler of the grain that happened to start them.
        if (start) _ = Task.Run(WriteWaitingAsync, CancellationToken.None);
        return raise.Stored.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteWaitingAsync()
    {
        while (true)
        {
            List<Raise> group;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    return;
                }

                group = TakeGroup();
            }

            try
            {
                await log.RaiseAsync([.. group.SelectMany(r => r.Events).DistinctBy(e => e.EventId, StringComparer.Ordinal)], CancellationToken.None);
                foreach (var raise in group) raise.Stored.TrySetResult();
            }
            catch (Exception e)
            {
                // Every caller of the write keeps its events and raises them again (storing is idempotent by event id).
                foreach (var raise in group) raise.Stored.TrySetException(e);
            }
        }
    }

    /// <summary>The waiting raises in order, up to <see cref="MaxEventsPerWrite"/> events (at least one raise).</summary>
    private List<Raise> TakeGroup()
    {
        var count = 0;
        var taken = 0;
        while (taken < _waiting.Count && (taken == 0 || count + _waiting[taken].Events.Count <= MaxEventsPerWrite))
        {
            count += _waiting[taken].Events.Count;
            taken++;
        }

        var group = _waiting.GetRange(0, taken);
        _waiting.RemoveRange(0, taken);
        return group;
    }

    private sealed class Raise(IReadOnlyList<WatchEvent> events)
    {
        public IReadOnlyList<WatchEvent> Events { get; } = events;

        public TaskCompletionSource Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
