using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Watch;

namespace PortHistory.Server.Application.Tests;

/// <summary>
/// Raises of many grains share one write while a write is under way; each caller learns whether its events were stored,
/// and one caller giving up does not take the others' events with it.
/// </summary>
public sealed class GroupedWatchEventSinkTests
{
    [Fact]
    public async Task Raises_made_while_a_write_is_under_way_go_into_the_next_write_together()
    {
        var (log, sink, first) = await WriteUnderWayAsync();
        var waiting = Enumerable.Range(0, 10).Select(i => sink.RaiseAsync([Event($"b{i}"), Event("shared")], CancellationToken.None)).ToList();
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        log.Release();
        await Task.WhenAll([first, .. waiting]).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, log.Writes.Count);
        Assert.Equal(["a"], log.Writes[0]);
        Assert.Equal([.. Enumerable.Range(0, 10).Select(i => $"b{i}"), "shared"], log.Writes[1].Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_failed_write_fails_each_of_its_callers_and_the_next_raise_is_written()
    {
        var (log, sink, first) = await WriteUnderWayAsync();
        log.FailFrom = 1;
        var failing = Enumerable.Range(0, 3).Select(i => sink.RaiseAsync([Event($"b{i}")], CancellationToken.None)).ToList();
        log.Release();

        await first.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var raise in failing) await Assert.ThrowsAsync<InvalidOperationException>(() => raise.WaitAsync(TimeSpan.FromSeconds(10)));

        log.FailFrom = int.MaxValue;
        await sink.RaiseAsync([Event("c")], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["c"], log.Writes[^1]);
    }

    [Fact]
    public async Task A_caller_that_gives_up_leaves_the_others_events_to_be_stored()
    {
        var (log, sink, first) = await WriteUnderWayAsync();
        using var giveUp = new CancellationTokenSource();
        var abandoned = sink.RaiseAsync([Event("abandoned")], giveUp.Token);
        var kept = sink.RaiseAsync([Event("kept")], CancellationToken.None);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        log.Release();

        await Task.WhenAll(first, kept).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("kept", log.Writes[1]);
    }

    [Fact]
    public async Task A_write_holds_whole_raises_up_to_its_limit()
    {
        var (log, sink, first) = await WriteUnderWayAsync();
        var half = GroupedWatchEventSink.MaxEventsPerWrite / 2 + 1;
        var large = Enumerable.Range(0, 3).Select(r => sink.RaiseAsync([.. Enumerable.Range(0, half).Select(i => Event($"{r}-{i}"))], CancellationToken.None)).ToList();
        log.Release();

        await Task.WhenAll([first, .. large]).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([1, half, half, half], log.Writes.Select(w => w.Count));
    }

    /// <summary>A sink whose first write (of event "a") has begun and is held until the log is released.</summary>
    private static async Task<(GatedLog Log, GroupedWatchEventSink Sink, Task First)> WriteUnderWayAsync()
    {
        var log = new GatedLog();
        var sink = new GroupedWatchEventSink(log);
        var first = sink.RaiseAsync([Event("a")], CancellationToken.None);
        await log.Entered.WaitAsync(TimeSpan.FromSeconds(10));
        return (log, sink, first);
    }

    private static WatchEvent Event(string id) => new() { EventId = id, Kind = WatchEventKind.NewProcess, Port = 776 };

    /// <summary>The event log, with its first write held until released; later writes fail from the given one on.</summary>
    private sealed class GatedLog : IWatchEventSink
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<List<string>> Writes { get; } = [];

        public int FailFrom { get; set; } = int.MaxValue;

        public Task Entered => _entered.Task;

        public void Release() => _released.TrySetResult();

        public async Task RaiseAsync(IReadOnlyList<WatchEvent> events, CancellationToken cancellationToken)
        {
            int index;
            lock (Writes)
            {
                index = Writes.Count;
                Writes.Add([.. events.Select(e => e.EventId)]);
            }

            if (index == 0)
            {
                _entered.TrySetResult();
                await _released.Task;
            }

            if (index >= FailFrom) throw new InvalidOperationException("the database is unavailable");
        }
    }
}
