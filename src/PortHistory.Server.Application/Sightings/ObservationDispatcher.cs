using System.Diagnostics;
using Microsoft.Extensions.Options;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// Hands durable sightings to their port grains: per port, everything of one window goes in one call (a delta per
/// journal writer, each in that writer's order). Each delta names the sequence number of the port's previous entry
/// from its writer; a grain that sees a gap (a delivery that failed, or was dropped because the grains fell behind)
/// reads what it missed from the journal. So delivery can be lossy without the counts ever being.
/// </summary>
public sealed class ObservationDispatcher(
    IObservationDelivery delivery,
    IOptions<SightingOptions> options,
    PortHistoryMetrics metrics,
    ILogger<ObservationDispatcher> logger)
    : BackgroundService
{
    /// <summary>Deliveries of one port's entries tried this often before they are left to the journal.</summary>
    private const int MaxDeliveryAttempts = 5;

    private readonly object _gate = new();
    private readonly Dictionary<int, long[]> _lastEnqueued = [];
    private Dictionary<int, List<PortDelta>> _pending = [];
    private long _pendingBytes;

    // Journal lag, for the metrics: sightings acknowledged and not yet delivered (waiting, or let go from memory and
    // still to be read by their grains), and since when the oldest of them waits (Stopwatch timestamps, 0: none).
    private long _pendingSightings;
    private long _pendingSince;
    private long _inFlightSightings;
    private long _inFlightSince;

    /// <summary>Sightings acknowledged and not yet delivered to their grains, and how long the oldest has waited.</summary>
    public (long Sightings, TimeSpan Oldest) Backlog()
    {
        lock (_gate)
        {
            var since = _pendingSince == 0 ? _inFlightSince : _inFlightSince == 0 ? _pendingSince : Math.Min(_pendingSince, _inFlightSince);
            return (_pendingSightings + Interlocked.Read(ref _inFlightSightings), since == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(since));
        }
    }

    /// <summary>Entries one journal writer has just committed, in its sequence order.</summary>
    public void Enqueue(int writer, IReadOnlyList<(int Port, ObservationEntry Entry)> entries)
    {
        lock (_gate)
        {
            if (!_lastEnqueued.TryGetValue(writer, out var last)) _lastEnqueued[writer] = last = new long[65536];
            foreach (var (port, entry) in entries)
            {
                if (!_pending.TryGetValue(port, out var deltas)) _pending[port] = deltas = [];
                var delta = Of(deltas, writer) ?? Add(deltas, new PortDelta(writer, last[port]));
                delta.Entries.Add(entry);
                delta.Undelivered++;
                last[port] = entry.Seq;
                _pendingBytes += SizeOf(entry);
            }

            _pendingSightings += entries.Count;
            if (_pendingSince == 0 && entries.Count > 0) _pendingSince = Stopwatch.GetTimestamp();

            if (_pendingBytes > options.Value.MaxPendingDeliveryBytes)
            {
                logger.LogWarning("{Bytes} bytes of sightings wait for their grains; letting them go from memory (the grains read them from the journal)", _pendingBytes);
                LetGo();
            }
        }
    }

    /// <summary>
    /// A flush of a writer failed, and may have committed all the same (a connection lost during COMMIT): each port is
    /// told the journal may hold its entries up to the given sequence numbers. The grain reads what is there; its
    /// next deliveries from this writer name these numbers, so a gap is seen even when nothing else arrives.
    /// </summary>
    public void MayHaveCommitted(int writer, IReadOnlyDictionary<int, long> lastSeqPerPort)
    {
        lock (_gate)
        {
            if (!_lastEnqueued.TryGetValue(writer, out var last)) _lastEnqueued[writer] = last = new long[65536];
            foreach (var (port, seq) in lastSeqPerPort)
            {
                last[port] = Math.Max(last[port], seq);
                if (!_pending.TryGetValue(port, out var deltas)) _pending[port] = deltas = [];
                if (Of(deltas, writer) is { } delta) delta.PreviousSeq = Math.Max(delta.PreviousSeq, seq);
                else deltas.Add(new PortDelta(writer, seq));
            }
        }
    }

    /// <summary>
    /// Tells a port that the journal holds entries of a writer up to a sequence number, without carrying them (a writer
    /// whose process is gone delivers nothing): the grain sees the gap and reads them.
    /// </summary>
    public void NotifyUnapplied(int port, int writer, long lastSeq)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue(port, out var deltas)) _pending[port] = deltas = [];
            if (Of(deltas, writer) is null) deltas.Add(new PortDelta(writer, lastSeq));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        metrics.ObserveUndelivered(Backlog);
        using var timer = new PeriodicTimer(options.Value.DispatchWindow);
        while (await timer.WaitForNextTickAsync(stoppingToken)) await DispatchWindowAsync(stoppingToken);
    }

    /// <summary>Delivers everything pending now: one call per port, failed ones requeued for the next window.</summary>
    internal async Task DispatchWindowAsync(CancellationToken stoppingToken)
    {
        Dictionary<int, List<PortDelta>> window;
        lock (_gate)
        {
            if (_pending.Count == 0) return;
            window = _pending;
            _pending = [];
            _pendingBytes = 0;
            _inFlightSightings = _pendingSightings;
            _inFlightSince = _pendingSince;
            _pendingSightings = 0;
            _pendingSince = 0;
        }

        await Parallel.ForEachAsync(window, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = stoppingToken }, async (item, _) =>
        {
            var (port, deltas) = item;
            try
            {
                await delivery.DeliverAsync(port, [.. deltas.Select(d => new ObservationDelta(d.Writer, d.PreviousSeq, [.. d.Entries]))]);
                Interlocked.Add(ref _inFlightSightings, -deltas.Sum(d => d.Undelivered));
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug("Delivering {Count} sightings to port {Port} failed: {Message}; they go with the next window",
                    deltas.Sum(d => d.Entries.Count), port, e.Message);
                Requeue(port, deltas);
            }
        });

        lock (_gate)
        {
            _inFlightSightings = 0;
            _inFlightSince = 0;
        }
    }

    /// <summary>
    /// A failed delivery goes before anything newer for the port from its writer, keeping its place in the sequence.
    /// After a few failed attempts its entries are let go (the grain reads them from the journal when it next gets a
    /// delivery), so a port whose grain keeps failing holds no memory.
    /// </summary>
    private void Requeue(int port, List<PortDelta> failed)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue(port, out var newer)) _pending[port] = newer = [];
            var undelivered = failed.Sum(d => d.Undelivered);
            Interlocked.Add(ref _inFlightSightings, -undelivered);
            _pendingSightings += undelivered;
            if (undelivered > 0 && _inFlightSince != 0) _pendingSince = _pendingSince == 0 ? _inFlightSince : Math.Min(_pendingSince, _inFlightSince);
            foreach (var delta in failed)
            {
                delta.Attempts++;
                var kept = delta.Attempts < MaxDeliveryAttempts
                    ? delta
                    : new PortDelta(delta.Writer, delta.LastSeq) { Attempts = delta.Attempts, Undelivered = delta.Undelivered };
                if (Of(newer, delta.Writer) is { } later)
                {
                    kept.Entries.AddRange(later.Entries);
                    kept.Undelivered += later.Undelivered;
                    kept.PreviousSeq = Math.Max(kept.PreviousSeq, later.PreviousSeq);
                    newer.Remove(later);
                    _pendingBytes -= later.Entries.Sum(SizeOf);
                }

                newer.Add(kept);
                _pendingBytes += kept.Entries.Sum(SizeOf);
            }
        }
    }

    /// <summary>
    /// Keeps, per port and writer, only an empty delta naming the last sequence number let go. Its delivery shows the
    /// grain a gap, and the grain reads the entries from the journal: even a port that gets no newer sightings (and
    /// whose grain stays active) catches up.
    /// </summary>
    private void LetGo()
    {
        foreach (var deltas in _pending.Values)
        {
            for (var i = 0; i < deltas.Count; i++)
            {
                var delta = deltas[i];
                if (delta.Entries.Count > 0) deltas[i] = new PortDelta(delta.Writer, delta.LastSeq) { Undelivered = delta.Undelivered };
            }
        }

        _pendingBytes = 0;
    }

    private static PortDelta? Of(List<PortDelta> deltas, int writer)
    {
        foreach (var delta in deltas)
        {
            if (delta.Writer == writer) return delta;
        }

        return null;
    }

    private static PortDelta Add(List<PortDelta> deltas, PortDelta delta)
    {
        deltas.Add(delta);
        return delta;
    }

    /// <summary>What an entry holds in memory, roughly: the record, its strings (two bytes a character) and list slots.</summary>
    private static long SizeOf(ObservationEntry entry) => 96 + 2L * (entry.HostRef.Length + entry.Process.Length + entry.Executable.Length);

    private sealed class PortDelta(int writer, long previousSeq)
    {
        public int Writer { get; } = writer;

        /// <summary>The journal may hold this writer's entries for the port up to here that are not in <see cref="Entries"/>.</summary>
        public long PreviousSeq { get; set; } = previousSeq;

        public List<ObservationEntry> Entries { get; } = [];

        public int Attempts { get; set; }

        /// <summary>Sightings this delta stands for: its entries, and those let go from memory that its grain is still to read.</summary>
        public long Undelivered { get; set; }

        public long LastSeq => Entries.Count > 0 ? Math.Max(Entries[^1].Seq, PreviousSeq) : PreviousSeq;
    }
}
