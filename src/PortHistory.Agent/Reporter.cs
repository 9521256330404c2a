using Google.Protobuf;
using PortHistory.Agent.Health;
using PortHistory.Agent.Scanning;
using PortHistory.Agent.Sending;
using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent;

/// <summary>What one drain of the spool did.</summary>
/// <param name="Complete">The spool was emptied: nothing was left for lack of an answer.</param>
public sealed record DrainSummary(int Acknowledged, int Refused, long Accepted, long Rejected, int Duplicates, long ExpiredSightings, bool Complete)
{
    public int Attempted => Acknowledged + Refused;
}

/// <summary>
/// Scans into the spool and drains the spool to the server. Every scan's batches are on disk before any is sent; a
/// batch leaves the spool only when the server has answered for it, so an outage or a restart loses nothing (within
/// the spool's bound and the server's accepted age), and the server counts each batch once by its batch_id.
/// </summary>
public sealed class Reporter : IDisposable
{
    /// <summary>
    /// Sightings older than this are not sent: the server refuses them (its PortHistory:Sightings:MaxAge, 30 days by default).
    /// </summary>
    public static readonly TimeSpan MaxSightingAge = TimeSpan.FromDays(30);

    private readonly AgentSettings _settings;
    private readonly Func<DateTimeOffset, ScanResult> _scan;
    private readonly BatchSender _sender;
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly Func<DateTimeOffset> _clock;
    private readonly Lock _statusGate = new();
    private DateTimeOffset? _lastScanAt;
    private DateTimeOffset? _lastAcknowledgedAt;

    private Reporter(
        AgentSettings settings, SightingSpool spool, Func<DateTimeOffset, ScanResult> scan, BatchSender sender, TextWriter output, TextWriter error,
        Func<DateTimeOffset> clock)
    {
        _settings = settings;
        Spool = spool;
        _scan = scan;
        _sender = sender;
        _output = output;
        _error = error;
        _clock = clock;
        // Carried over from the last run, so that status still says when the server last answered.
        if (AgentStatus.Read(StatusPath) is { } previous) (_lastScanAt, _lastAcknowledgedAt) = (previous.LastScanAt, previous.LastAcknowledgedAt);
    }

    public SightingSpool Spool { get; }

    public string StatusPath => Path.Combine(_settings.SpoolDirectory, AgentStatus.FileName);

    /// <summary>Opens the spool in <see cref="AgentSettings.SpoolDirectory"/>; a spool that cannot be used is a usage error.</summary>
    /// <param name="scan">The host scan for a given observation time.</param>
    public static Reporter Open(
        AgentSettings settings, Func<DateTimeOffset, ScanResult> scan, BatchSender sender, TextWriter output, TextWriter error,
        Func<DateTimeOffset>? clock = null)
    {
        SightingSpool spool;
        try
        {
            spool = SightingSpool.Open(settings.SpoolDirectory, settings.SpoolMaxBytes, error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--spool-dir: cannot use \"{settings.SpoolDirectory}\": {e.Message}");
        }

        var reporter = new Reporter(settings, spool, scan, sender, output, error, clock ?? (() => DateTimeOffset.UtcNow));
        reporter.PublishStatus();
        return reporter;
    }

    public AgentStatus Status
    {
        get
        {
            lock (_statusGate)
            {
                return new AgentStatus(_lastScanAt, _lastAcknowledgedAt, Spool.Figures);
            }
        }
    }

    /// <summary>Scans the host and appends the scan's batches to the spool; false when the scan or the spool failed.</summary>
    public bool Scan()
    {
        var now = _clock();
        ScanResult scan;
        try
        {
            scan = _scan(now);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _error.WriteLine($"scan failed: {e.Message}");
            return false;
        }

        var batches = BatchSender.Split(scan.Sightings, _settings.BatchSize, _settings.HostGroup);
        var spooled = true;
        foreach (var batch in batches)
        {
            try
            {
                spooled &= Spool.Append(SpoolRecordKind.FullBatch, batch.ToByteArray());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _error.WriteLine($"spool: cannot write batch {batch.BatchId}: {e.Message}");
                spooled = false;
            }
        }

        lock (_statusGate) _lastScanAt = now;
        var figures = PublishStatus().Spool;
        _output.WriteLine($"scan: {scan.Sightings.Count} sightings in {batches.Count} batches"
            + (scan.Unowned > 0 ? $"; {scan.Unowned} sockets without a visible process{(scan.Privileged ? "" : " (agent unprivileged)")}" : "")
            + $"; spool: {figures.Records} batches, {figures.Bytes} bytes");
        return spooled;
    }

    /// <summary>
    /// Sends the spool's batches oldest first until it is empty or the server cannot be reached (then the rest waits for
    /// the next drain). A refused batch is removed (the server will never take it); sightings past the server's accepted
    /// age are removed unsent and counted.
    /// </summary>
    /// <exception cref="ServerRefusedException">The server refused the agent itself; the batch stays in the spool.</exception>
    public async Task<DrainSummary> DrainAsync(CancellationToken cancellationToken)
    {
        int acknowledged = 0, refused = 0, duplicates = 0;
        long accepted = 0, rejected = 0, expired = 0;
        var complete = true;
        try
        {
            while (Spool.Peek() is { } entry)
            {
                if (Batch(entry) is not { } batch)
                {
                    Spool.Discard(entry);
                    continue;
                }

                var stale = RemoveExpired(batch);
                if (batch.Sightings.Count == 0)
                {
                    _error.WriteLine($"batch {batch.BatchId}: all {stale} sightings are older than the server accepts; removed unsent");
                    Spool.Acknowledge(entry, stale);
                    expired += stale;
                    continue;
                }

                var outcome = await _sender.SendBatchAsync(batch, cancellationToken);
                if (outcome.Status == BatchStatus.Failed)
                {
                    complete = false;
                    break;
                }

                // Refused means the server will never take the batch as it is: keeping it would block every later one.
                Spool.Acknowledge(entry, stale);
                expired += stale;
                if (outcome.Status == BatchStatus.Refused)
                {
                    refused++;
                    _error.WriteLine($"batch {batch.BatchId}: refused by the server; removed from the spool");
                }
                else if (outcome.Result is { } result)
                {
                    acknowledged++;
                    accepted += result.Accepted;
                    rejected += result.Rejected.Count;
                    if (result.Duplicate) duplicates++;
                    lock (_statusGate) _lastAcknowledgedAt = _clock();
                }

                PublishStatus();
            }
        }
        finally
        {
            PublishStatus();
        }

        var summary = new DrainSummary(acknowledged, refused, accepted, rejected, duplicates, expired, complete);
        var left = Spool.Figures.Records;
        if (summary.Attempted > 0 || !complete)
        {
            _output.WriteLine($"sent: {acknowledged} batches acknowledged, {accepted} sightings accepted, {rejected} rejected, {duplicates} duplicate batches"
                + (refused > 0 ? $", {refused} batches refused" : "") + $"; {left} batches left in the spool"
                + (complete ? "" : " (server unreachable; retried at the next scan)"));
        }

        return summary;
    }

    /// <summary>
    /// Scans every interval and drains in between. The two run side by side: while the server is down, sends wait in
    /// their retries but scanning keeps its rhythm and fills the spool.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var spooled = new SemaphoreSlim(0, 1);
        var draining = Task.Run(async () =>
        {
            while (true)
            {
                await spooled.WaitAsync(stop.Token);
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

    public void Dispose() => Spool.Dispose();

    private SightingBatch? Batch(SpoolEntry entry)
    {
        if (entry.Kind != SpoolRecordKind.FullBatch)
        {
            _error.WriteLine($"spool: a record of unknown kind {(byte)entry.Kind}; discarded");
            return null;
        }

        try
        {
            return SightingBatch.Parser.ParseFrom(entry.Payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            _error.WriteLine($"spool: a record is not a readable batch ({e.Message}); discarded");
            return null;
        }
    }

    /// <summary>Drops the batch's sightings that the server would refuse as too old; the batch keeps its batch_id.</summary>
    private int RemoveExpired(SightingBatch batch)
    {
        // Whole seconds are compared so that no stored timestamp, however odd, can throw.
        var oldestAccepted = (_clock() - MaxSightingAge).ToUnixTimeSeconds();
        var fresh = batch.Sightings.Where(s => s.ObservedAt is null || s.ObservedAt.Seconds >= oldestAccepted).ToList();
        var stale = batch.Sightings.Count - fresh.Count;
        if (stale > 0)
        {
            batch.Sightings.Clear();
            batch.Sightings.AddRange(fresh);
        }

        return stale;
    }

    /// <summary>Writes the figures to the spool's state file and to the metrics file; a write that fails is reported, not fatal.</summary>
    private AgentStatus PublishStatus()
    {
        lock (_statusGate)
        {
            var status = new AgentStatus(_lastScanAt, _lastAcknowledgedAt, Spool.Figures);
            foreach (var path in _settings.MetricsFile is { } metrics ? [StatusPath, metrics] : new[] { StatusPath })
            {
                try
                {
                    status.WriteTo(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _error.WriteLine($"cannot write {path}: {e.Message}");
                }
            }

            return status;
        }
    }
}
