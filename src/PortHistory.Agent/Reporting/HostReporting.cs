using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using PortHistory.Agent.Scanning;
using PortHistory.Agent.Sending;
using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Reporting;

/// <summary>
/// Everything the agent writes to its spool goes through here: for each scan a host report (changes against the set
/// of the last report spooled, or a snapshot when one is due) or, reporting in full, the scan's batches; and snapshots
/// the server asks for. Keeps the reporting state on disk and what the server's answers change in it. Reports the
/// spool drops are counted and break the chain: the next report is a snapshot. Safe to call from both loops; the
/// spool is only used under this object's lock or on its own (never the other way round).
/// </summary>
public sealed class HostReporting
{
    /// <summary>A snapshot at least this often (±10%), in case the server and the agent drifted apart unnoticed.</summary>
    public static readonly TimeSpan SnapshotPeriod = TimeSpan.FromDays(1);

    private readonly Lock _gate = new();
    private readonly AgentSettings _settings;
    private readonly SightingSpool _spool;
    private readonly Random _random;
    private readonly TextWriter _error;
    private ReportingState _state;
    private (ScanResult Scan, DateTimeOffset At)? _lastScan;

    private HostReporting(AgentSettings settings, SightingSpool spool, ReportingState state, Random random, TextWriter error)
    {
        (_settings, _spool, _state, _random, _error) = (settings, spool, state, random, error);
        Mode = settings.FullReports ? ReportMode.Full : state.OlderServerSeen ? ReportMode.FullUntilAsked : ReportMode.Differential;
    }

    /// <summary>Loads the reporting state beside the spool; without one (first run, lost, unreadable) a new epoch begins.</summary>
    /// <param name="random">Epoch ids and the daily snapshot's jitter.</param>
    public static HostReporting Open(AgentSettings settings, SightingSpool spool, Random random, TextWriter error, DateTimeOffset now)
    {
        var state = ReportingState.Load(settings.SpoolDirectory, error) ?? ReportingState.NewEpoch(HostReports.NewEpochId(random), now);
        return new HostReporting(settings, spool, state, random, error);
    }

    public ReportMode Mode { get; private set; }

    public SightingSpool Spool => _spool;

    /// <summary>Reports the spool dropped in this epoch, and their bytes.</summary>
    public SpoolDrops Drops
    {
        get
        {
            lock (_gate) return new SpoolDrops { Reports = _state.DroppedReports, Bytes = _state.DroppedBytes };
        }
    }

    public ReportEpoch Epoch
    {
        get
        {
            lock (_gate) return _state.Epoch;
        }
    }

    /// <summary>The seq of the last report spooled, and of the last one the server acknowledged.</summary>
    public (ulong Spooled, ulong Acknowledged) Seqs
    {
        get
        {
            lock (_gate) return (_state.SpooledSeq, _state.AcknowledgedSeq);
        }
    }

    /// <summary>The daily snapshot's delay for a jitter in [0, 1): a day, ±10%.</summary>
    public static TimeSpan SnapshotDelay(double jitter) => SnapshotPeriod * (0.9 + (0.2 * jitter));

    /// <summary>Spools what the scan calls for; returns what that was, for the scan's log line, or null when the spool failed.</summary>
    public string? Record(ScanResult scan, DateTimeOffset observedAt)
    {
        lock (_gate)
        {
            _lastScan = (scan, observedAt);
            if (Mode != ReportMode.Differential) return SpoolBatches(scan);
            var set = HostSockets.Of(scan.Sightings);
            if (_state.SnapshotDue || _state.SpooledSeq == 0 || observedAt >= _state.NextSnapshotAt) return SpoolSnapshot(set, observedAt);
            var change = HostSockets.Diff(_state.SpooledSet, set);
            if (change.IsEmpty) return "no change";
            var report = NewReport(_state.SpooledSeq + 1, set, observedAt);
            report.Changes = new HostChanges { Added = { change.Added }, Removed = { change.Removed } };
            // A change that would push older reports out of the spool would follow a gap: the whole set instead.
            return _spool.WouldDrop(report.CalculateSize()) ? SpoolSnapshot(set, observedAt) : Enqueue(report, set);
        }
    }

    /// <summary>The server applied the report (or had before): it leaves the spool, and what the server holds is what it describes.</summary>
    public void Acknowledged(SpoolEntry entry, HostReport report)
    {
        lock (_gate)
        {
            _spool.Acknowledge(entry);
            if (report.Epoch?.Id != _state.EpochId || report.Seq < _state.AcknowledgedSeq) return;
            if (report.Seq == _state.SpooledSeq) _state.AcknowledgedSet = [.. _state.SpooledSet];
            else if (report.IsSnapshot()) _state.AcknowledgedSet = [.. report.Snapshot.Sockets];
            else if (report.BodyCase == HostReport.BodyOneofCase.Changes) _state.AcknowledgedSet = HostSockets.Apply(_state.AcknowledgedSet, report.Changes);
            _state.AcknowledgedSeq = report.Seq;
            Save();
        }
    }

    /// <summary>
    /// The server answered RESYNC to a spooled report: it and the changes spooled after it are obsolete and leave the
    /// spool; a snapshot spooled after them is sent next, else one is spooled now. A snapshot of this epoch answered
    /// RESYNC means the server holds a newer epoch of the host: a new one begins.
    /// </summary>
    public void Resynced(SpoolEntry entry, HostReport report, DateTimeOffset now)
    {
        lock (_gate)
        {
            _spool.Acknowledge(entry);
            while (_spool.Peek() is { Kind: SpoolRecordKind.HostReport } next && HostReports.Parse(next.Payload) is not { BodyCase: HostReport.BodyOneofCase.Snapshot })
            {
                _spool.Acknowledge(next);
            }

            if (report.IsSnapshot() && report.Epoch?.Id == _state.EpochId) StartEpoch(now);
            _state.SnapshotDue = true;
            if (_spool.Peek() is not { Kind: SpoolRecordKind.HostReport }) SpoolSnapshot(CurrentSet(), _lastScan?.At ?? now);
            else Save();
        }
    }

    /// <summary>A report in the spool cannot be read: it leaves as corrupt, and the chain is broken.</summary>
    public void Unreadable(SpoolEntry entry)
    {
        lock (_gate)
        {
            _spool.Discard(entry);
            _state.SnapshotDue = true;
            Save();
        }
    }

    /// <summary>
    /// With nothing waiting in the spool, spools a snapshot when one is due (drops, a report lost from the spool, a
    /// RESYNC to a heartbeat when <paramref name="resynced"/>). True when one was spooled.
    /// </summary>
    public bool SpoolSnapshotIfDue(DateTimeOffset now, bool resynced = false)
    {
        lock (_gate)
        {
            if (resynced) _state.SnapshotDue = true;
            if (Mode != ReportMode.Differential || _spool.Figures.Records > 0) return false;
            // The server acknowledged less than was spooled and nothing waits: reports were lost from the spool.
            if (_state.AcknowledgedSeq != _state.SpooledSeq) _state.SnapshotDue = true;
            return _state.SnapshotDue && SpoolSnapshot(CurrentSet(), _lastScan?.At ?? now) is not null;
        }
    }

    /// <summary>A heartbeat of the last report spooled (the set the server should hold); null when there is nothing to repeat.</summary>
    /// <param name="asking">Sent to learn whether the server knows ReportHost: also before anything was reported.</param>
    public HostReport? Heartbeat(DateTimeOffset now, bool asking = false)
    {
        lock (_gate)
        {
            if (_state.SpooledSeq == 0 && !asking) return null;
            var heartbeat = NewReport(_state.SpooledSeq, _state.SpooledSet, _lastScan?.At ?? now);
            heartbeat.Heartbeat = new HostHeartbeat();
            return heartbeat;
        }
    }

    /// <summary>
    /// The server does not know ReportHost: full reports for the rest of this run. Host reports leave the spool, and
    /// the last scan is spooled again as batches, so that what the host runs now still arrives.
    /// </summary>
    public void FallBackToFullReports()
    {
        lock (_gate)
        {
            Mode = ReportMode.Full;
            while (_spool.Peek() is { Kind: SpoolRecordKind.HostReport } entry) _spool.Acknowledge(entry);
            // A later run that finds a server knowing ReportHost starts from the whole set.
            _state.SnapshotDue = true;
            _state.OlderServerSeen = true;
            Save();
            if (_lastScan is { } last) SpoolBatches(last.Scan);
        }
    }

    /// <summary>Host reports an earlier run spooled leave the spool: this run reports in full; a later differential one starts with a snapshot.</summary>
    public void DropHostReports()
    {
        lock (_gate)
        {
            while (_spool.Peek() is { Kind: SpoolRecordKind.HostReport } entry) _spool.Acknowledge(entry);
            _state.SnapshotDue = true;
            Save();
        }
    }

    /// <summary>Asked again after an earlier run met an older server: this one knows ReportHost; the next scan reports differentially.</summary>
    public void HostReportsKnown()
    {
        lock (_gate)
        {
            if (Mode != ReportMode.FullUntilAsked) return;
            Mode = ReportMode.Differential;
            _state.OlderServerSeen = false;
            Save();
        }
    }

    /// <summary>Asked again: still an older server; full reports for the rest of this run.</summary>
    public void StillOlderServer()
    {
        lock (_gate) Mode = ReportMode.Full;
    }

    /// <summary>Appends a record; host reports the spool drops to make room are counted and make the next report a snapshot.</summary>
    private bool Append(SpoolRecordKind kind, byte[] payload)
    {
        var written = _spool.Append(kind, payload, out var dropped);
        var reports = dropped.Where(record => record.Kind == SpoolRecordKind.HostReport).ToList();
        if (reports.Count > 0)
        {
            _state.DroppedReports += (ulong)reports.Count;
            _state.DroppedBytes += (ulong)reports.Sum(record => record.Bytes);
            _state.SnapshotDue = true;
            _error.WriteLine($"reporting: the spool dropped {reports.Count} reports; the next report is a snapshot");
            Save();
        }

        return written;
    }

    private string? SpoolBatches(ScanResult scan)
    {
        var batches = BatchSender.Split(scan.Sightings, _settings.BatchSize, _settings.HostGroup);
        var spooled = true;
        foreach (var batch in batches)
        {
            try
            {
                spooled &= Append(SpoolRecordKind.FullBatch, batch.ToByteArray());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _error.WriteLine($"spool: cannot write batch {batch.BatchId}: {e.Message}");
                spooled = false;
            }
        }

        return spooled ? $"{batches.Count} batches" : null;
    }

    private string? SpoolSnapshot(HashSet<HostSocket> set, DateTimeOffset observedAt)
    {
        var report = NewReport(_state.SpooledSeq + 1, set, observedAt);
        report.Snapshot = new HostSnapshot { Sockets = { HostSockets.Ordered(set) } };
        (_state.SnapshotDue, _state.NextSnapshotAt) = (false, observedAt + SnapshotDelay(_random.NextDouble()));
        return Enqueue(report, set);
    }

    private string? Enqueue(HostReport report, HashSet<HostSocket> set)
    {
        bool written;
        try
        {
            written = Append(SpoolRecordKind.HostReport, report.ToByteArray());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _error.WriteLine($"spool: cannot write report {HostReports.Describe(report)}: {e.Message}");
            written = false;
        }

        // Not in the spool, the server will never see this seq: the next report must not build on it.
        if (written) (_state.SpooledSeq, _state.SpooledSet) = (report.Seq, set);
        else _state.SnapshotDue = true;
        Save();
        return written ? HostReports.Describe(report) : null;
    }

    private HashSet<HostSocket> CurrentSet() => _lastScan is { } last ? HostSockets.Of(last.Scan.Sightings) : _state.SpooledSet;

    private HostReport NewReport(ulong seq, HashSet<HostSocket> set, DateTimeOffset observedAt) => new()
    {
        HostRef = _settings.HostRef,
        Epoch = _state.Epoch,
        Seq = seq,
        SetHash = SocketSetHash.Of(set).ToByteString(),
        ObservedAt = Timestamp.FromDateTimeOffset(observedAt),
        HostGroup = _settings.HostGroup,
        AgentVersion = AgentVersion.Current,
        AgentPrivileged = _lastScan?.Scan.Privileged ?? false,
        Drops = new SpoolDrops { Reports = _state.DroppedReports, Bytes = _state.DroppedBytes },
    };

    private void StartEpoch(DateTimeOffset now)
    {
        var set = _state.SpooledSet;
        _state = ReportingState.NewEpoch(HostReports.NewEpochId(_random), now, _state.OlderServerSeen);
        _state.SpooledSet = set;
        _error.WriteLine($"reporting: the server holds a newer epoch of this host; epoch {_state.EpochId:x16} begins");
    }

    private void Save()
    {
        try
        {
            _state.Save(_settings.SpoolDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Lost state costs a new epoch and a snapshot at the next start, nothing more.
            _error.WriteLine($"reporting: cannot save the reporting state: {e.Message}");
        }
    }
}
