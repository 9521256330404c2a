using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Hosts;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Hosts;

/// <summary>
/// When this silo's active hosts were last heard, in memory: a heartbeat costs a dictionary write here and nothing in
/// PostgreSQL. Every <see cref="HostReportingOptions.SweepInterval"/> the board writes the last-seen times that moved
/// by more than <see cref="HostReportingOptions.LastSeenWriteInterval"/> (in batches: at most one row per host per
/// interval), and asks the hosts silent for <see cref="HostReportingOptions.StaleAfter"/> to turn stale. It answers the
/// heartbeats that would change nothing but that time itself, sending one to the host's grain every
/// <see cref="HostReportingOptions.GrainHeartbeatInterval"/>.
/// </summary>
public sealed class HostPulseBoard(KeyedGrains grains, IHostRows rows, IOptions<HostReportingOptions> options, TimeProvider clock, ILogger<HostPulseBoard> logger)
    : BackgroundService, IHostPulse, IHostHeartbeats
{
    private const int WriteChunk = 5_000;

    private readonly ConcurrentDictionary<string, Pulse> _pulses = new(StringComparer.Ordinal);
    private readonly ConcurrencyLimiter _activations = new(new ConcurrencyLimiterOptions { PermitLimit = options.Value.MaxConcurrentChanges, QueueLimit = 0 });

    /// <summary>Hosts this silo holds.</summary>
    public int Count => _pulses.Count;

    public void Heard(HostRecord held, DateTime heardAt)
    {
        var pulse = _pulses.GetOrAdd(held.HostRef, static _ => new Pulse());
        lock (pulse)
        {
            pulse.Held = held;
            if (heardAt > pulse.Heard) pulse.Heard = heardAt;
            if (heardAt > pulse.GrainHeard) pulse.GrainHeard = heardAt;
        }
    }

    public void Holds(HostRecord held)
    {
        if (!_pulses.TryGetValue(held.HostRef, out var pulse)) return;
        lock (pulse) pulse.Held = held;
    }

    public DateTime? LastHeard(string hostRef)
    {
        if (!_pulses.TryGetValue(hostRef, out var pulse)) return null;
        lock (pulse) return pulse.Heard;
    }

    public bool TrySilence(HostRecord silent, DateTime heardBefore)
    {
        if (!_pulses.TryGetValue(silent.HostRef, out var pulse)) return true;
        lock (pulse)
        {
            if (pulse.Heard >= heardBefore) return false;
            pulse.Held = silent;
            return true;
        }
    }

    public ulong? TryAnswer(string hostRef, HostReportInput heartbeat)
    {
        if (!_pulses.TryGetValue(hostRef, out var pulse)) return null;
        lock (pulse)
        {
            if (pulse.Held is not { } held || heartbeat.ReceivedAt - pulse.GrainHeard >= options.Value.GrainHeartbeatInterval) return null;
            if (!HostReportRules.OnlyHeard(held, heartbeat)) return null;
            if (heartbeat.ReceivedAt > pulse.Heard) pulse.Heard = heartbeat.ReceivedAt;
            return held.Seq;
        }
    }

    public void Forget(string hostRef) => _pulses.TryRemove(hostRef, out _);

    public IDisposable? TryActivate()
    {
        var lease = _activations.AttemptAcquire();
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        return null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Sweeping this silo's hosts failed: {Message}; trying again in {Interval}", e.Message, options.Value.SweepInterval);
            }
        }
    }

    /// <summary>One sweep: writes the last-seen times due, then has the silent hosts turn stale.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var writeEvery = options.Value.LastSeenWriteInterval;
        var staleBefore = now - options.Value.StaleAfter;
        var due = new List<(Pulse Pulse, HostPulseRow Row)>();
        var silent = new List<string>();
        foreach (var (hostRef, pulse) in _pulses)
        {
            lock (pulse)
            {
                if (pulse.Held is not { } held) continue;
                var written = held.LastSeen > pulse.Written ? held.LastSeen : pulse.Written;
                if (pulse.Heard - written > writeEvery && held.Version > 0)
                {
                    due.Add((pulse, new HostPulseRow(hostRef, pulse.Heard, held.AgentVersion, held.DroppedReports, held.DroppedBytes)));
                }

                if (held.State == HostState.Online && pulse.Heard < staleBefore) silent.Add(hostRef);
            }
        }

        foreach (var chunk in due.Chunk(WriteChunk))
        {
            await rows.WriteLastSeenAsync([.. chunk.Select(d => d.Row)], cancellationToken);
            foreach (var (pulse, row) in chunk)
            {
                lock (pulse) pulse.Written = row.LastSeen;
            }
        }

        await Parallel.ForEachAsync(silent, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (hostRef, _) =>
        {
            try
            {
                await grains.Host(hostRef).CheckLivenessAsync(staleBefore);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Asked again at the next sweep.
                logger.LogDebug("Host {HostRef}: checking liveness failed: {Message}", hostRef, e.Message);
            }
        });

        if (due.Count > 0 || silent.Count > 0) logger.LogDebug("Host sweep: {Written} last-seen time(s) written, {Silent} silent host(s) asked", due.Count, silent.Count);
    }

    public override void Dispose()
    {
        _activations.Dispose();
        base.Dispose();
    }

    private sealed class Pulse
    {
        public HostRecord? Held;
        public DateTime Heard;

        /// <summary>When the host's grain last heard the host itself (the rest were answered here).</summary>
        public DateTime GrainHeard;

        /// <summary>The last-seen time this board wrote (the grain's record may not know it).</summary>
        public DateTime Written;
    }
}
