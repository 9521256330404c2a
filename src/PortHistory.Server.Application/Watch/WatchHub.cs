using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Watch;

/// <summary>
/// The silo's one reader of the event log: woken by the silo's signal (or the poll interval), it reads what was raised
/// after the newest event it has, keeps the most recent events in memory, and hands each to every watch stream of this
/// silo whose filter matches, through a bounded buffer per stream. A stream whose buffer is full is let go (its buffer
/// completes): it reads the log itself from its own cursor and joins again once it has caught up, so a slow caller
/// holds up neither this reader nor the other streams.
/// </summary>
public sealed class WatchHub(IWatchEventLog log, WatchSignal signal, IOptions<WatchOptions> options, TimeProvider time, ILogger<WatchHub> logger)
    : BackgroundService
{
    private readonly Lock _lock = new();
    private readonly List<Subscription> _subscriptions = [];
    private readonly Queue<WatchEvent> _recent = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Every event with a cursor in (_recentAfter, _tail] is in _recent.
    private long _recentAfter;
    private long _tail;

    /// <summary>
    /// A stream joins at <paramref name="cursor"/> (the last event it has): it gets every matching event after it, or
    /// null when this reader cannot give them all (it has not started, or the events just after the cursor are no
    /// longer in memory, or more of them match than the stream's buffer holds); the stream then reads the log itself.
    /// </summary>
    public Subscription? TryJoin(WatchFilter filter, long cursor)
    {
        lock (_lock)
        {
            if (!_started.Task.IsCompleted || cursor < _recentAfter) return null;
            var subscription = new Subscription(this, filter, cursor, options.Value.StreamBuffer);
            foreach (var e in _recent)
            {
                if ((long)e.Cursor > cursor && filter.Matches(e) && !subscription.Events.Writer.TryWrite(e)) return null;
            }

            subscription.Through = Math.Max(cursor, _tail);
            _subscriptions.Add(subscription);
            return subscription;
        }
    }

    /// <summary>Whether a stream at <paramref name="cursor"/> could join now: the reader holds every event after it.</summary>
    public bool Covers(long cursor)
    {
        lock (_lock) return _started.Task.IsCompleted && cursor >= _recentAfter;
    }

    private void Leave(Subscription subscription)
    {
        lock (_lock) _subscriptions.Remove(subscription);
    }

    /// <summary>Streams on this silo fed by this reader now.</summary>
    public int Streams
    {
        get
        {
            lock (_lock) return _subscriptions.Count;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before reading: an event raised during the read wakes the next wait.
            var wake = signal.Next;
            try
            {
                if (!_started.Task.IsCompleted) Start(await log.LatestCursorAsync(stoppingToken));
                IReadOnlyList<WatchEvent> page;
                do
                {
                    page = await log.ReadAfterAsync(Volatile.Read(ref _tail), settings.PageSize, stoppingToken);
                    Hand(page);
                }
                while (page.Count == settings.PageSize);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Reading the watch event log failed, trying again: {Message}", e.Message.Split('\n')[0]);
            }

            using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            await Task.WhenAny(wake, Task.Delay(settings.PollInterval, time, poll.Token));
            await poll.CancelAsync();
        }

        lock (_lock)
        {
            foreach (var subscription in _subscriptions) subscription.Events.Writer.TryComplete();
            _subscriptions.Clear();
        }
    }

    private void Start(long latest)
    {
        lock (_lock)
        {
            (_recentAfter, _tail) = (latest, latest);
            _started.TrySetResult();
        }
    }

    /// <summary>Completes once the reader knows where the log ends: streams can join from then on.</summary>
    public Task Started => _started.Task;

    private void Hand(IReadOnlyList<WatchEvent> page)
    {
        if (page.Count == 0) return;
        var keep = options.Value.RecentEvents;
        lock (_lock)
        {
            foreach (var e in page)
            {
                _recent.Enqueue(e);
                if (_recent.Count > keep) _recentAfter = (long)_recent.Dequeue().Cursor;
                _tail = (long)e.Cursor;
                for (var i = _subscriptions.Count - 1; i >= 0; i--)
                {
                    var subscription = _subscriptions[i];
                    if ((long)e.Cursor <= subscription.After || !subscription.Filter.Matches(e) || subscription.Events.Writer.TryWrite(e)) continue;
                    // Too far behind: let go, to read the log from its own cursor.
                    subscription.Events.Writer.TryComplete();
                    _subscriptions.RemoveAt(i);
                }
            }

            foreach (var subscription in _subscriptions) subscription.Through = _tail;
        }
    }

    /// <summary>One stream's place at the reader: its matching events, buffered up to a bound.</summary>
    public sealed class Subscription(WatchHub hub, WatchFilter filter, long after, int capacity) : IDisposable
    {
        public WatchFilter Filter { get; } = filter;

        /// <summary>Events at or below this the stream has from the log already.</summary>
        public long After { get; } = after;

        /// <summary>
        /// Matching events, in cursor order; completed when the stream fell too far behind (or the silo stops): it then
        /// reads the log from the last event it took.
        /// </summary>
        public Channel<WatchEvent> Events { get; } = Channel.CreateBounded<WatchEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        private long _through;

        /// <summary>The reader's newest cursor once every matching event up to it is in <see cref="Events"/>: a position mark's cursor when the buffer is empty.</summary>
        public long Through
        {
            get => Volatile.Read(ref _through);
            internal set => Volatile.Write(ref _through, value);
        }

        public void Dispose() => hub.Leave(this);
    }
}
