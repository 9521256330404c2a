using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Reporting;

/// <summary>What the server's answers (and silences) change in the reporting state and the spool.</summary>
public sealed partial class HostReporting
{
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
            // A snapshot still queued answers the server; else one is spooled now (a failed append leaves it due).
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
}
