using PortHistory.Agent.Sending;
using PortHistory.Agent.Spool;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Reporting;

/// <summary>What sending one spooled host report came to.</summary>
public enum SentReport
{
    Applied,
    Duplicate,

    /// <summary>The server asked for a snapshot; the obsolete reports left the spool and a snapshot waits in it.</summary>
    Resynced,

    /// <summary>As <see cref="Resynced"/>, for a snapshot: the server holds a newer epoch, a new one began.</summary>
    SnapshotResynced,

    /// <summary>The server does not know ReportHost: full reports from now on, the last scan spooled as batches.</summary>
    FellBack,

    /// <summary>Unreadable in the spool: discarded as corrupt; the next report is a snapshot.</summary>
    Unreadable,

    /// <summary>Spooled by an earlier run; this one reports in full (--full-reports): host reports left the spool.</summary>
    Dropped,

    /// <summary>No answer: the report stays in the spool for the next drain.</summary>
    Failed,
}

/// <summary>What a heartbeat came to.</summary>
public enum HeartbeatResult
{
    NotDue,
    Applied,

    /// <summary>A snapshot was spooled (instead of the heartbeat, or because the server asked for one): drain again.</summary>
    SnapshotSpooled,

    /// <summary>The server does not know ReportHost: the last scan was spooled as batches: drain again.</summary>
    FellBack,

    Failed,
}

/// <summary>
/// Sends host reports: the spooled ones (changes and snapshots, acting on the server's answer) and heartbeats. A
/// heartbeat is never spooled: it is sent only when the spool is empty, since one behind undelivered changes could
/// only be answered RESYNC; it is due a heartbeat period after the server last acknowledged anything of this host.
/// </summary>
public sealed class HostReportDelivery(HostReporting reporting, HostReportSender sender, TimeSpan heartbeatPeriod, AgentLog log)
{
    private DateTimeOffset? _nextHeartbeatAt;

    /// <summary>How long until a heartbeat is due (zero: now); null when this run sends none (full reports).</summary>
    public TimeSpan? UntilHeartbeat(DateTimeOffset now) => reporting.Mode == ReportMode.Full
        ? null
        : _nextHeartbeatAt is { } due && due > now ? due - now : TimeSpan.Zero;

    public async Task<SentReport> SendSpooledAsync(SpoolEntry entry, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (HostReports.Parse(entry.Payload) is not { } report)
        {
            await log.Error.WriteLineAsync("spool: a record is not a readable host report; discarded, the next report is a snapshot");
            reporting.Unreadable(entry);
            return SentReport.Unreadable;
        }

        if (reporting.Mode == ReportMode.Full)
        {
            // Spooled by an earlier run that reported differentially; this one reports every scan in full (--full-reports).
            reporting.DropHostReports();
            return SentReport.Dropped;
        }

        // The drops as of now: the spool may have lost reports since this one was written.
        report.Drops = reporting.Drops;
        var answer = await sender.SendAsync(report, cancellationToken);
        switch (answer.Status)
        {
            case HostReportStatus.Applied:
                reporting.HostReportsKnown();
                reporting.Acknowledged(entry, report);
                _nextHeartbeatAt = now + heartbeatPeriod;
                await log.Output.WriteLineAsync($"report {HostReports.Describe(report)}: {(answer.Duplicate ? "duplicate, applied before" : "applied")}");
                return answer.Duplicate ? SentReport.Duplicate : SentReport.Applied;
            case HostReportStatus.Resync:
                await log.Error.WriteLineAsync($"report {HostReports.Describe(report)}: the server asks for a snapshot (it holds seq {answer.ServerSeq}): {answer.Reason}");
                reporting.HostReportsKnown();
                reporting.Resynced(entry, report, now);
                return report.IsSnapshot() ? SentReport.SnapshotResynced : SentReport.Resynced;
            case HostReportStatus.Unimplemented:
                return await FallBackAsync();
            default:
                return SentReport.Failed;
        }
    }

    /// <summary>
    /// With the spool empty: a snapshot if one is due, else a heartbeat if one is due (or <paramref name="force"/>d: --once
    /// sends one report whatever happens). After an earlier run met an older server, the heartbeat asks whether this one
    /// knows ReportHost.
    /// </summary>
    public async Task<HeartbeatResult> HeartbeatIfDueAsync(DateTimeOffset now, bool force, CancellationToken cancellationToken)
    {
        var mode = reporting.Mode;
        if (mode == ReportMode.Full || reporting.Spool.Figures.Records > 0) return HeartbeatResult.NotDue;
        if (reporting.SpoolSnapshotIfDue(now)) return HeartbeatResult.SnapshotSpooled;
        if (!force && _nextHeartbeatAt > now) return HeartbeatResult.NotDue;
        _nextHeartbeatAt = now + heartbeatPeriod;
        if (reporting.Heartbeat(now, asking: mode == ReportMode.FullUntilAsked) is not { } heartbeat) return HeartbeatResult.NotDue;

        var answer = await sender.SendAsync(heartbeat, cancellationToken);
        switch (answer.Status)
        {
            case HostReportStatus.Applied:
                reporting.HostReportsKnown();
                return HeartbeatResult.Applied;
            case HostReportStatus.Resync:
                await log.Error.WriteLineAsync($"heartbeat {HostReports.Describe(heartbeat)}: the server asks for a snapshot (it holds seq {answer.ServerSeq}): {answer.Reason}");
                reporting.HostReportsKnown();
                return reporting.SpoolSnapshotIfDue(now, resynced: true) ? HeartbeatResult.SnapshotSpooled : HeartbeatResult.Applied;
            case HostReportStatus.Unimplemented when mode == ReportMode.FullUntilAsked:
                reporting.StillOlderServer();
                return HeartbeatResult.NotDue;
            case HostReportStatus.Unimplemented:
                return await FallBackAsync() == SentReport.FellBack ? HeartbeatResult.FellBack : HeartbeatResult.Failed;
            default:
                return HeartbeatResult.Failed;
        }
    }

    private async Task<SentReport> FallBackAsync()
    {
        // Once per run: from here on the mode is Full and no host report is sent again.
        await log.Output.WriteLineAsync("the server does not know ReportHost (an older server): reporting every scan in full with ReportBatch for the rest of this run");
        reporting.FallBackToFullReports();
        return SentReport.FellBack;
    }
}
