using Microsoft.Extensions.Options;
using PortHistory.Grains.Observations;
using PortHistory.Grains.Ports;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// Hands durable sightings to their port grains: per port, everything of one window goes in one call, in journal
/// order. Each delta names the sequence number of the port's previous entry from this writer; a grain that sees a gap
/// (a delivery that failed, or was dropped because the grains fell behind) reads what it missed from the journal. So
/// delivery can be lossy without the counts ever being.
/// </summary>
public sealed class ObservationDispatcher(IGrainFactory grains, IOptions<SightingOptions> options, ILogger<ObservationDispatcher> logger)
    : BackgroundService
{
    /// <summary>Entries held for delivery at most; beyond it the oldest are dropped (the grains catch up from the journal).</summary>
    private const int MaxPending = 4_000_000;

    private readonly object _gate = new();
    private readonly long[] _lastEnqueued = new long[65536];
    private readonly TaskCompletionSource<int> _writer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Dictionary<int, PortDelta> _pending = [];
    private int _pendingEntries;

    public void Start(int writer) => _writer.TrySetResult(writer);

    public void Enqueue(IReadOnlyList<(int Port, ObservationEntry Entry)> entries)
    {
        lock (_gate)
        {
            foreach (var (port, entry) in entries)
            {
                if (!_pending.TryGetValue(port, out var delta)) _pending[port] = delta = new PortDelta(_lastEnqueued[port]);
                delta.Entries.Add(entry);
                _lastEnqueued[port] = entry.Seq;
            }

            _pendingEntries += entries.Count;
            if (_pendingEntries > MaxPending)
            {
                logger.LogWarning("{Count} sightings wait for their grains; dropping them from memory (the grains read them from the journal)", _pendingEntries);
                _pending = [];
                _pendingEntries = 0;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = await _writer.Task.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.DispatchWindow);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Dictionary<int, PortDelta> window;
            lock (_gate)
            {
                if (_pending.Count == 0) continue;
                window = _pending;
                _pending = [];
                _pendingEntries = 0;
            }

            await Parallel.ForEachAsync(window, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = stoppingToken }, async (item, _) =>
            {
                var (port, delta) = item;
                try
                {
                    await grains.GetGrain<IPortGrain>(port).ObserveAsync(new Orleans.Concurrency.Immutable<ObservationDelta>(new ObservationDelta(writer, delta.PreviousSeq, [.. delta.Entries])));
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogDebug("Delivering {Count} sightings to port {Port} failed: {Message}; they go with the next window", delta.Entries.Count, port, e.Message);
                    Requeue(port, delta);
                }
            });
        }
    }

    /// <summary>A failed delivery goes before anything newer for the port, keeping its place in the sequence.</summary>
    private void Requeue(int port, PortDelta failed)
    {
        lock (_gate)
        {
            if (_pending.TryGetValue(port, out var newer)) failed.Entries.AddRange(newer.Entries);
            _pending[port] = failed;
            _pendingEntries += failed.Entries.Count - (newer?.Entries.Count ?? 0);
        }
    }

    private sealed class PortDelta(long previousSeq)
    {
        public long PreviousSeq { get; } = previousSeq;

        public List<ObservationEntry> Entries { get; } = [];
    }
}
