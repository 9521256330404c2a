using PortHistory.Agent.Health;
using PortHistory.Agent.Reporting;
using PortHistory.Agent.Scanning;
using PortHistory.Agent.Sending;
using PortHistory.Agent.Spool;

namespace PortHistory.Agent;

/// <summary>
/// Scans into the spool and drains the spool to the server. Every scan's batches are on disk before any is sent; a
/// batch leaves the spool only when the server has answered for it (<see cref="SpoolSender"/>), so an outage or a
/// restart loses nothing (within the spool's bound and the server's accepted age).
/// </summary>
public sealed class Reporter : IDisposable
{
    private readonly AgentSettings _settings;
    private readonly HostReporting _reporting;
    private readonly StatusFiles _status;
    private readonly ScanRecorder _recorder;
    private readonly SpoolSender _sender;
    private readonly Func<DateTimeOffset> _clock;

    private Reporter(AgentSettings settings, HostReporting reporting, StatusFiles status, ScanRecorder recorder, SpoolSender sender, Func<DateTimeOffset> clock)
    {
        (_settings, _reporting, _status, _recorder, _sender, _clock) = (settings, reporting, status, recorder, sender, clock);
    }

    public SightingSpool Spool => _reporting.Spool;

    public HostReporting Reporting => _reporting;

    public string StatusPath => Path.Combine(_settings.SpoolDirectory, AgentStatus.FileName);

    public AgentStatus Status => _status.Current;

    /// <summary>Opens the spool in <see cref="AgentSettings.SpoolDirectory"/>; a spool that cannot be used is a usage error.</summary>
    /// <param name="scan">The host scan for a given observation time.</param>
    /// <param name="senders">ReportBatch and ReportHost.</param>
    /// <param name="random">Epoch ids and jitter (tests give a seeded one).</param>
    public static Reporter Open(
        AgentSettings settings, Func<DateTimeOffset, ScanResult> scan, (BatchSender Batches, HostReportSender Reports) senders, AgentLog log,
        Func<DateTimeOffset>? clock = null, Random? random = null)
    {
        SightingSpool spool;
        try
        {
            spool = SightingSpool.Open(settings.SpoolDirectory, settings.SpoolMaxBytes, log.Error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--spool-dir: cannot use \"{settings.SpoolDirectory}\": {e.Message}");
        }

        var now = clock ?? (() => DateTimeOffset.UtcNow);
        var reporting = HostReporting.Open(settings, spool, random ?? Random.Shared, log.Error, now());
        var status = new StatusFiles(Path.Combine(settings.SpoolDirectory, AgentStatus.FileName), settings.MetricsFile, () => spool.Figures,
            () => reporting.Drops, log.Error);
        status.Publish();
        var delivery = new HostReportDelivery(reporting, senders.Reports, settings.Heartbeat, log);
        return new Reporter(settings, reporting, status, new ScanRecorder(scan, reporting, status, log),
            new SpoolSender(spool, senders.Batches, delivery, status, log, now), now);
    }

    /// <summary>Scans the host and appends what is to be sent to the spool; false when the scan or the spool failed.</summary>
    public bool Scan() => _recorder.Record(_clock);

    /// <inheritdoc cref="SpoolSender.DrainAsync"/>
    public Task<DrainSummary> DrainAsync(CancellationToken cancellationToken, bool once = false) => _sender.DrainAsync(cancellationToken, once);

    /// <summary>
    /// Scans every interval and drains in between, and sends heartbeats when they fall due. The two run side by side:
    /// while the server is down, sends wait in their retries but scanning keeps its rhythm and fills the spool.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var spooled = new SemaphoreSlim(0, 1);
        var draining = Task.Run(async () =>
        {
            while (true)
            {
                // Woken by a scan, or when a heartbeat falls due; at most once a second, whatever the heartbeat says.
                if (_sender.UntilHeartbeat(_clock()) is { } untilHeartbeat) await spooled.WaitAsync(TimeSpan.FromSeconds(Math.Max(1, untilHeartbeat.TotalSeconds)), stop.Token);
                else await spooled.WaitAsync(stop.Token);
                await DrainAsync(stop.Token);
            }
        }, stop.Token);
        var scanning = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(_settings.Interval);
            do
            {
                Scan();
                // At most one wake-up waits: a drain already under way picks up what this scan added.
                if (spooled.CurrentCount == 0)
                {
                    try
                    {
                        spooled.Release();
                    }
                    catch (SemaphoreFullException)
                    {
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stop.Token));
        }, stop.Token);

        await Task.WhenAny(draining, scanning);
        await stop.CancelAsync();
        await Task.WhenAll(draining, scanning).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // A failure (the server refusing the agent) wins over the cancellation it caused in the other loop.
        foreach (var task in new[] { draining, scanning })
        {
            if (task.IsFaulted) await task;
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    public void Dispose() => _reporting.Spool.Dispose();
}
