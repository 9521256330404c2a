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
/// spool is only used under this object's lock or on its own (never the other way round). What the server's answers
/// change is in HostReporting.Answers.cs.
/// </summary>
public sealed partial class HostReporting
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
