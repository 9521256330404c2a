using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Watch;

namespace PortHistory.Server.Application.Tests;

/// <summary>
/// The silo's one reader of the event log feeding its watch streams: each stream gets every event it matches once, in
/// order; a stream whose caller does not read fills its buffer, is let go, and later reads the rest from the log,
/// while the others went on meanwhile.
/// </summary>
public sealed class WatchFanOutTests : IAsyncLifetime
{
    private readonly InMemoryEventLog _log = new();
    private readonly WatchSignal _signal = new();
    private readonly WatchHub _hub;
    private readonly WatchFeed _feed;

    public WatchFanOutTests()
    {
        var options = Options.Create(new WatchOptions
        {
            PageSize = 4,
            StreamBuffer = 8,
            RecentEvents = 16,
            PollInterval = TimeSpan.FromMilliseconds(50),
            PositionInterval = TimeSpan.FromHours(1),
        });
        _hub = new WatchHub(_log, _signal, options, TimeProvider.System, NullLogger<WatchHub>.Instance);
        _feed = new WatchFeed(_log, _signal, _hub, options, TimeProvider.System);
    }

    public async Task InitializeAsync()
    {
        await _hub.StartAsync(CancellationToken.None);
        await _hub.Started.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await _hub.StopAsync(CancellationToken.None);
        _hub.Dispose();
    }

    [Fact]
    public async Task Two_streams_get_every_event_once_in_order_and_one_that_stopped_reading_holds_up_neither_the_other_nor_the_reader()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var all = Filter();
        var evenPorts = Filter(new PortSpan(0, 0), new PortSpan(2, 2), new PortSpan(4, 4), new PortSpan(6, 6), new PortSpan(8, 8));
        var slow = _feed.ReadAsync(all, after: null, stop.Token).GetAsyncEnumerator(stop.Token);
        try
        {
        Assert.True(await slow.MoveNextAsync());
        Assert.Null(slow.Current.Event);
        // Its caller asks for one event, and then stops reading (as a gRPC caller whose flow control window is full).
        var first = slow.MoveNextAsync();
        var fast = ReadAsync(all, 100, stop.Token);
        var even = ReadAsync(evenPorts, 50, stop.Token);
        Assert.Equal(3, _hub.Streams);

        // Far more than the slow stream's buffer, in batches as grains raise them.
        for (var batch = 0; batch < 10; batch++)
        {
            _log.Raise(Enumerable.Range(batch * 10, 10).Select(i => (uint)(i % 10)));
            _signal.Signal();
        }

        // The other streams got everything while the slow one took one event; it was let go.
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (ulong)i), (await fast).Select(e => e.Cursor));
        Assert.Equal(Enumerable.Range(1, 100).Where(i => (i - 1) % 10 % 2 == 0).Select(i => (ulong)i), (await even).Select(e => e.Cursor));
        Assert.True(await first);
        Assert.Equal(1UL, slow.Current.Event!.Cursor);
        Assert.Equal(0, _hub.Streams);

        // Reading again, it gets the rest once each, from its buffer and then from the log.
        var late = new List<ulong> { slow.Current.Event!.Cursor };
        while (late.Count < 100 && await slow.MoveNextAsync())
        {
            if (slow.Current.Event is { } e) late.Add(e.Cursor);
        }

        Assert.Equal(Enumerable.Range(1, 100).Select(i => (ulong)i), late);

        // Caught up, it joins the reader again and gets what comes next from memory.
        var next = slow.MoveNextAsync();
        Assert.Equal(1, _hub.Streams);
        _log.Raise([3]);
        _signal.Signal();
        Assert.True(await next);
        Assert.Equal(101UL, slow.Current.Event!.Cursor);
        }
        finally
        {
            // A read still waiting (a failed assertion) ends with the cancellation before the stream is let go.
            await stop.CancelAsync();
            try
            {
                await slow.MoveNextAsync();
            }
            catch (Exception)
            {
            }

            await slow.DisposeAsync();
        }
    }

    private async Task<List<WatchEvent>> ReadAsync(WatchFilter filter, int count, CancellationToken cancellationToken)
    {
        var events = new List<WatchEvent>();
        await foreach (var response in _feed.ReadAsync(filter, after: null, cancellationToken))
        {
            if (response.Event is { } e) events.Add(e);
            if (events.Count == count) break;
        }

        return events;
    }

    private static WatchFilter Filter(params PortSpan[] ports) => new(ports, new HashSet<Transport>(), new HashSet<VerdictKind>(),
        new HashSet<string>(), new HashSet<WatchEventKind>());

    /// <summary>The event log in memory, ids given in order as the real one commits them.</summary>
    private sealed class InMemoryEventLog : IWatchEventLog
    {
        private readonly List<WatchEvent> _events = [];

        public void Raise(IEnumerable<uint> ports)
        {
            lock (_events)
            {
                foreach (var port in ports)
                {
                    var cursor = (ulong)_events.Count + 1;
                    _events.Add(new WatchEvent { EventId = $"e{cursor}", Cursor = cursor, Port = port, Kind = WatchEventKind.NewProcess });
                }
            }
        }

        public Task<IReadOnlyList<WatchEvent>> ReadAfterAsync(long cursor, int limit, CancellationToken cancellationToken)
        {
            lock (_events) return Task.FromResult<IReadOnlyList<WatchEvent>>([.. _events.Where(e => (long)e.Cursor > cursor).Take(limit)]);
        }

        public Task<long> LatestCursorAsync(CancellationToken cancellationToken)
        {
            lock (_events) return Task.FromResult((long)_events.Count);
        }

        public Task<long> DeletedThroughAsync(CancellationToken cancellationToken) => Task.FromResult(0L);

        public Task<int> DeleteOlderThanAsync(TimeSpan age, CancellationToken cancellationToken) => Task.FromResult(0);
    }
}
